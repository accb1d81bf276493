"""
The gated backbone of Dynamos and its un-gated twin (paper Section 4, Table 3).

A ResNet-18 reduced as in the paper: a 3x3 stem with ``nf`` = 32 filters, then only the
first two of the four stages, each of two BasicBlocks (``nf`` and ``2 nf`` channels, the
second stage starting with stride 2), global average pooling and a linear classifier.
In ``gated-resnet`` every convolution of stage 2 has its own :class:`~dynamos_plugin.agent.Agent`
(4 agents of 64 channels); stage 1 has none, as early layers forget little.
``ungated-resnet`` is the same network without agents, built with the same random draws,
for the baselines. ``gated-resnet --gate static`` is the static-sparsity control: instead of
agents, each of those convolutions has a fixed random channel mask, the same for every input.

Speed options, which leave the computation unchanged (the same function of the same weights;
floats differ by summation order only): the activations and weights in ``channels_last``
memory format (the registered backbones' default), and ``torch.compile`` of the forward pass
(opt-in, ``--compile 1``; see :func:`compile_backbone`).
"""

import logging
from typing import List, Literal, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from backbone import MammothBackbone, register_backbone
from dynamos_plugin.agent import Agent, AgentOutput
from dynamos_plugin.argtypes import binary, keep_ratio, positive_float, positive_int, probability_threshold

MEMORY_FORMATS = {'channels_last': torch.channels_last, 'contiguous': torch.contiguous_format}
#: what gates the convolutions of stage 2: agents (Dynamos), fixed random masks (the static control), nothing
GATES = ('agents', 'static', None)


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


class GatedBasicBlock(nn.Module):
    """A ResNet BasicBlock whose two convolutions can each be gated by an agent.

    With agents: ``h = relu(bn1(conv1(x)) * a1)`` (agent 1 reads the block input ``x``) and
    ``out = relu((bn2(conv2(h)) + shortcut(x)) * a2)`` (agent 2 reads ``h``): the action multiplies
    after batch norm and before the ReLU, and, as in the authors' code, the second action also
    masks the shortcut. With static masks (:meth:`add_static_masks`) the fixed masks take the
    actions' place. Without either (or with all actions 1) it is the plain BasicBlock.
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.in_planes, self.planes, self.stride = in_planes, planes, stride
        self.conv1 = conv3x3(in_planes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))
        self.agent1: Optional[Agent] = None
        self.agent2: Optional[Agent] = None
        self.register_buffer('static_mask1', None)  # (planes,) 0/1, or None
        self.register_buffer('static_mask2', None)

    def add_agents(self, temperature: float, hidden_dim_ratio: int, agent_stride: str = 'conv') -> None:
        """Gives each of the two convolutions its agent.

        ``agent_stride``: the stride of agent 1's pointwise convolution: ``'conv'``, that of the
        convolution it gates (the agent pools over the grid of the output it masks), or ``'1'``,
        as in the authors' published code (it pools over the whole input). Agent 2 reads ``h``,
        already on the output grid: stride 1 either way.
        """
        stride = self.stride if agent_stride == 'conv' else 1
        self.agent1 = Agent(self.in_planes, self.planes, stride, temperature, hidden_dim_ratio)
        self.agent2 = Agent(self.planes, self.planes, 1, temperature, hidden_dim_ratio)

    def add_static_masks(self, keep: float) -> None:
        """Gives each of the two convolutions a fixed random channel mask keeping ``round(keep * C)`` of its ``C``
        channels (at least one), drawn from torch's generator (so by the run's seed) and saved with the weights."""
        kept = max(1, round(keep * self.planes))
        for name in ('static_mask1', 'static_mask2'):
            mask = torch.zeros(self.planes)
            mask[torch.randperm(self.planes)[:kept]] = 1
            setattr(self, name, mask)  # the registered buffer

    @property
    def gated(self) -> bool:
        return self.agent1 is not None

    def forward(self, x: torch.Tensor, use_agents: bool = True, sample: bool = True,
                threshold: float = 0.5, straight_through: bool = False) -> Tuple[torch.Tensor, List[AgentOutput]]:
        """Returns the block's output and the outputs of the agents that acted (none if ungated or ``use_agents=False``).

        Static masks apply whatever ``use_agents`` says: they are part of the architecture.
        """
        gate = self.gated and use_agents
        out = self.bn1(self.conv1(x))
        decisions = []
        if gate:
            decisions.append(self.agent1(x, sample, threshold, straight_through))
            out = out * decisions[-1].actions[:, :, None, None]
        elif self.static_mask1 is not None:
            out = out * self.static_mask1[:, None, None]
        h = F.relu(out)
        out = self.bn2(self.conv2(h)) + self.shortcut(x)
        if gate:
            decisions.append(self.agent2(h, sample, threshold, straight_through))
            out = out * decisions[-1].actions[:, :, None, None]
        elif self.static_mask2 is not None:
            out = out * self.static_mask2[:, None, None]
        return F.relu(out), decisions


class GatedResNet(MammothBackbone):
    """Reduced ResNet-18 with agents on every convolution of its second stage.

    ``forward(x)`` returns the logits; ``forward(x, returnt='agents')`` also returns the
    :class:`~dynamos_plugin.agent.AgentOutput` of every agent, in network order;
    ``use_agents=False`` keeps every channel and leaves the agents untouched (warm-up).
    Grey inputs (MNIST) are repeated to three channels, as in the authors' code.

    Actions are sampled while training; at inference they are thresholded
    (``infer_mode='threshold'``, ``p >= inf_thresh``) or sampled (``infer_mode='sample'``).
    ``train_gate='straight_through'`` (set by the model, not a backbone argument) trains with the
    thresholded actions and a straight-through gradient instead of samples.
    ``agent_stride`` is the stride of the pointwise convolution of the agents that gate a strided
    convolution (see :meth:`GatedBasicBlock.add_agents`). ``memory_format``: the layout of the
    weights and of every activation (``'channels_last'`` is faster on CPU; the result is the same).
    ``gate`` says what gates the convolutions of stage 2: ``'agents'`` (Dynamos), ``'static'`` (fixed random
    channel masks keeping ``static_keep`` of the channels, :meth:`GatedBasicBlock.add_static_masks`: the
    static-sparsity control) or ``None`` (nothing: the un-gated twin of the baselines).
    """

    def __init__(self, num_classes: int, nf: int = 32, gate: Optional[str] = 'agents', temperature: float = 0.15,
                 hidden_dim_ratio: int = 16, infer_mode: str = 'threshold', inf_thresh: float = 0.5,
                 agent_stride: str = 'conv', memory_format: str = 'contiguous', static_keep: float = 0.7) -> None:
        super().__init__()
        if gate not in GATES:
            raise ValueError(f'gate must be one of {GATES}, got {gate!r}')
        if infer_mode not in ('threshold', 'sample'):
            raise ValueError(f"infer_mode must be 'threshold' or 'sample', got {infer_mode!r}")
        if agent_stride not in ('conv', '1'):
            raise ValueError(f"agent_stride must be 'conv' or '1', got {agent_stride!r}")
        self.gate = gate
        if memory_format not in MEMORY_FORMATS:
            raise ValueError(f'memory_format must be one of {sorted(MEMORY_FORMATS)}, got {memory_format!r}')
        self.nf = nf
        self.train_gate = 'sample'  # or 'straight_through' (see Agent.forward)
        self.infer_mode = infer_mode
        self.inf_thresh = inf_thresh
        self.conv1 = conv3x3(3, nf)
        self.bn1 = nn.BatchNorm2d(nf)
        self.layer1 = nn.ModuleList([GatedBasicBlock(nf, nf, 1), GatedBasicBlock(nf, nf, 1)])
        self.layer2 = nn.ModuleList([GatedBasicBlock(nf, 2 * nf, 2), GatedBasicBlock(2 * nf, 2 * nf, 1)])
        self.classifier = nn.Linear(2 * nf, num_classes)
        # the agents (or static masks) are created last, so the rest of the network gets the
        # same random draws as its un-gated twin built from the same seed
        for block in self.layer2:
            if gate == 'agents':
                block.add_agents(temperature, hidden_dim_ratio, agent_stride)
            elif gate == 'static':
                block.add_static_masks(static_keep)
        self.memory_format = MEMORY_FORMATS[memory_format]
        nn.Module.to(self, memory_format=self.memory_format)  # (MammothBackbone.to wants a device)

    @property
    def agents(self) -> List[Agent]:
        """Every agent, in network order (empty for the un-gated twin)."""
        return [agent for block in self.layer2 if block.gated for agent in (block.agent1, block.agent2)]

    def forward(self, x: torch.Tensor, returnt: Literal['out', 'features', 'both', 'agents'] = 'out',
                use_agents: bool = True):
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = x.contiguous(memory_format=self.memory_format)
        straight_through = self.training and self.train_gate == 'straight_through'
        sample = (self.training or self.infer_mode == 'sample') and not straight_through
        out = F.relu(self.bn1(self.conv1(x)))
        decisions: List[AgentOutput] = []
        for block in (*self.layer1, *self.layer2):
            out, block_decisions = block(out, use_agents, sample, self.inf_thresh, straight_through)
            decisions.extend(block_decisions)
        features = F.adaptive_avg_pool2d(out, 1).flatten(1)
        logits = self.classifier(features)
        if returnt == 'out':
            return logits
        if returnt == 'features':
            return features
        if returnt == 'both':
            return logits, features
        if returnt == 'agents':
            return logits, decisions
        raise ValueError(f'Unknown return type {returnt!r}')


def compiler_problem(device: torch.device) -> Optional[str]:
    """Why ``torch.compile`` cannot generate code for ``device`` here, or ``None`` if it can."""
    try:
        if device.type == 'cpu':
            from torch._inductor.cpp_builder import get_cpp_compiler
            get_cpp_compiler()  # raises where no C++ compiler is found
        elif device.type == 'cuda':
            from torch.utils._triton import has_triton
            if not has_triton():
                return 'triton is not installed'
        else:
            return f'this plugin compiles for CPU and CUDA devices only, not {device.type}'
    except Exception as error:  # noqa: BLE001 -- any reason the compiler is unusable
        return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return None


def compile_backbone(net: GatedResNet) -> GatedResNet:
    """Has ``net``'s forward pass compiled in place with ``torch.compile`` (``--compile 1``), or left eager.

    The decision is taken at the first forward pass, for the device of its input (Mammoth moves
    the network after building it); that pass runs eagerly, the later ones compiled (each mode,
    training or evaluation, and each batch size compiles once). The module stays the same object:
    its ``state_dict`` keys, checkpoints and ``net.agents`` are unchanged. The agents' Bernoulli
    draws take their random numbers from torch's generator, as in eager mode (inductor's
    ``fallback_random``), so a seed draws as it would uncompiled. Where ``torch.compile`` cannot
    generate code (no C++ compiler for a CPU run, no triton for a GPU run), a warning says why and
    the network stays eager.
    """
    def compile_at_first_call(module, inputs):
        handle.remove()
        problem = compiler_problem(inputs[0].device)
        if problem is not None:
            logging.warning(f'--compile 1: torch.compile cannot be used here ({problem}); the backbone runs eagerly.')
            return
        import torch._inductor.config as inductor_config
        inductor_config.fallback_random = True
        module.compile()

    handle = net.register_forward_pre_hook(compile_at_first_call)
    return net


@register_backbone('gated-resnet')
def gated_resnet(num_classes: int, nf: positive_int = 32, temperature: positive_float = 0.15,
                 hidden_dim_ratio: positive_int = 16, infer_mode: Literal['threshold', 'sample'] = 'threshold',
                 inf_thresh: probability_threshold = 0.5,
                 agent_stride: Literal['conv', '1'] = 'conv',
                 memory_format: Literal['channels_last', 'contiguous'] = 'channels_last',
                 compile: binary = 0, gate: Literal['agents', 'static'] = 'agents',
                 static_keep: keep_ratio = 0.7) -> GatedResNet:
    """Dynamos' backbone: reduced ResNet-18 with an agent on each convolution of stage 2.

    Args:
        num_classes: number of output classes.
        nf: width of the first stage (32 in the paper).
        temperature: tau of the probability layer ``sigmoid(v / tau)`` (0.15 in the paper).
        hidden_dim_ratio: the agents' MLP has ``C / hidden_dim_ratio`` hidden units (16 in the paper).
        infer_mode: actions at inference: ``threshold`` (the paper's evaluation) or ``sample``.
        inf_thresh: the threshold on the keep probability in ``threshold`` mode (0.5 in the paper).
        agent_stride: stride of the pointwise convolution of the agent that gates stage 2's strided
            convolution: ``conv`` (that convolution's stride, 2) or ``1`` (the authors' published code;
            the paper does not say).
        memory_format: layout of the weights and activations: ``channels_last`` (faster on CPU) or
            ``contiguous`` (NCHW); the same computation either way.
        compile: 1 compiles the forward pass with ``torch.compile`` (faster steps after a compile of a
            minute or so; falls back to eager, with a warning, where no compiler is available).
        gate: ``agents`` (Dynamos) or ``static``: the static-sparsity control, a fixed random channel mask
            per gated convolution instead of an agent, the same for every input (train it with
            ``--model msa``: it has no agents to reward).
        static_keep: with ``--gate static``: the fraction of channels each mask keeps (0.7, Table 5's kr).
    """
    net = GatedResNet(num_classes, nf, gate, temperature, hidden_dim_ratio, infer_mode, inf_thresh, agent_stride,
                      memory_format, static_keep)
    return compile_backbone(net) if compile else net


@register_backbone('ungated-resnet')
def ungated_resnet(num_classes: int, nf: positive_int = 32,
                   memory_format: Literal['channels_last', 'contiguous'] = 'channels_last',
                   compile: binary = 0) -> GatedResNet:
    """The same reduced ResNet-18 without agents, built with the same random draws (for the baselines).

    Args:
        num_classes: number of output classes.
        nf: width of the first stage (32, as ``gated-resnet``).
        memory_format: layout of the weights and activations: ``channels_last`` (faster on CPU) or
            ``contiguous`` (NCHW); the same computation either way.
        compile: 1 compiles the forward pass with ``torch.compile`` (falls back to eager, with a
            warning, where no compiler is available).
    """
    net = GatedResNet(num_classes, nf, gate=None, memory_format=memory_format)
    return compile_backbone(net) if compile else net


#: the backbone flags a checkpoint's run arguments carry into :func:`backbone_from_checkpoint`, with their types
CHECKPOINT_ARGS = {'nf': int, 'temperature': float, 'hidden_dim_ratio': int, 'inf_thresh': float,
                   'agent_stride': str, 'static_keep': float}


def backbone_from_checkpoint(state: dict, args: dict) -> GatedResNet:
    """The network a Mammoth checkpoint's ``net.`` state was saved from, rebuilt from the state and its run's
    ``args`` (a dict) and loaded: agents, static masks or neither, as the state holds them, and the backbone
    flags of :data:`CHECKPOINT_ARGS` from ``args`` (the constructor's defaults where a flag is missing). In
    evaluation mode, NCHW, eager."""
    gate = 'agents' if any('agent' in k for k in state) else 'static' if 'layer2.0.static_mask1' in state else None
    options = {name: cast(args[name]) for name, cast in CHECKPOINT_ARGS.items() if args.get(name) is not None}
    net = GatedResNet(num_classes=state['classifier.weight'].shape[0], gate=gate, **options)
    net.load_state_dict(state)  # the static masks are buffers: they come back with the weights
    return net.eval()
