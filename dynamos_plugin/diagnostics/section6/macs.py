"""Sparsity in numbers: the agents' mean keep ratios, and the multiply-accumulates of the gated stage with the
dropped channels skipped, against the dense network."""

from typing import Dict, List

import numpy as np

from dynamos_plugin.diagnostics.section6.data import LAYER_NAMES, Evaluated
from dynamos_plugin.diagnostics.section6.output import Output


def gated_stage_macs(actions: List[np.ndarray], in_channels: int, channels: int, in_hw: int, out_hw: int,
                     agent_hidden: int) -> Dict:
    """Multiply-accumulates per sample of the gated stage (stage 2), skipping dropped channels.

    Stage 2 has two blocks, each ``conv1 (3x3) -> conv2 (3x3)`` plus a shortcut (a 1x1 conv in the
    first block, which has stride 2; the identity in the second), with agents ``a1`` (on conv1's
    outputs) and ``a2`` (on the block's outputs). A channel dropped by ``a1`` is zero after the ReLU,
    so conv2 need not read it; a channel dropped by ``a2`` need not be computed by conv2 or the
    shortcut, and the next block (its conv1, its agent and its identity shortcut) need not read it.
    With ``k`` kept channels per agent, per sample and output position:

    ========================  ===================  ==================
    part                      dense                gated
    ========================  ===================  ==================
    block 1 conv1 (3x3, s2)   ``C_in * C * 9``     ``C_in * k1 * 9``
    block 1 conv2 (3x3)       ``C * C * 9``        ``k1 * k2 * 9``
    block 1 shortcut (1x1)    ``C_in * C``         ``C_in * k2``
    block 2 conv1 (3x3)       ``C * C * 9``        ``k2 * k3 * 9``
    block 2 conv2 (3x3)       ``C * C * 9``        ``k3 * k4 * 9``
    ========================  ===================  ==================

    All of them run on the ``out_hw`` positions of the stage's output (the first conv has stride 2).
    The agents' own cost, reported apart (the dense network has none): each agent's pointwise conv
    ``(channels it reads) * C`` per output position (it has the stride of the conv it gates) and
    its MLP ``2 * C * agent_hidden``. Agent 1 reads all ``C_in`` channels, agent 2 the ``k1``
    kept ones, agent 3 ``k2``, agent 4 ``k3``. Batch norm, ReLU and pooling are not counted.

    Args:
        actions: the four agents' ``(N, C)`` 0/1 actions, in network order.
        in_channels: channels entering the stage (nf); channels: the stage's width (2 nf).
        in_hw: spatial size (H*W) of the stage's input (informational: the stride-2 convs and
            agent 1 produce ``out_hw`` positions, so every count uses ``out_hw``).
        out_hw: spatial size (H*W) of the stage's output.
        agent_hidden: the agents' MLP width.
    Returns:
        per-sample means: ``dense`` and ``gated`` MACs of the convolutions (shortcut included),
        ``agents`` (their overhead), the ratios to dense, and ``parts``: the same per convolution
        and per agent (``{'dense': ..., 'gated': ...}`` / ``{'macs': ...}``).
    """
    if len(actions) != 4:
        raise ValueError(f'the gated stage has 4 agents, got actions of {len(actions)}')
    k1, k2, k3, k4 = [np.asarray(a, dtype=np.float64).sum(axis=1) for a in actions]  # kept channels per sample
    c_in, c, hw = in_channels, channels, out_hw
    convs = {  # name: (dense, gated per sample)
        'block1.conv1': (c_in * c * 9, c_in * k1 * 9),
        'block1.conv2': (c * c * 9, k1 * k2 * 9),
        'block1.shortcut': (c_in * c, c_in * k2),
        'block2.conv1': (c * c * 9, k2 * k3 * 9),
        'block2.conv2': (c * c * 9, k3 * k4 * 9),
    }
    mlp = 2 * c * agent_hidden
    agents = {'block1.agent1': np.full_like(k1, c_in * c), 'block1.agent2': k1 * c, 'block2.agent1': k2 * c,
              'block2.agent2': k3 * c}
    parts = {name: {'dense': float(d * hw), 'gated': float(np.mean(g * hw))} for name, (d, g) in convs.items()}
    parts.update({name: {'macs': float(np.mean(pw * hw + mlp))} for name, pw in agents.items()})
    dense = float(sum(d for d, _ in convs.values()) * hw)
    gated = float(np.mean(sum(g for _, g in convs.values()) * hw))
    agent_total = float(np.mean(sum(pw * hw + mlp for pw in agents.values())))
    return {'dense': dense, 'gated': gated, 'agents': agent_total, 'gated_over_dense': gated / dense,
            'gated_plus_agents_over_dense': (gated + agent_total) / dense, 'parts': parts}


def sparsity_step(run: Evaluated, out: Output) -> dict:
    """``sparsity.json``: the mean keep ratio per agent on the test set, the run's target keep ratio, and the
    gated stage's multiply-accumulates per test image (:func:`gated_stage_macs`); returns the same."""
    nf = run.net.nf
    hw_in = run.images.shape[2] * run.images.shape[3]
    macs = gated_stage_macs(run.actions, nf, 2 * nf, hw_in, hw_in // 4, run.net.agents[0].fc1.out_features)
    keep = {name: float(a.mean()) for name, a in zip(LAYER_NAMES, run.actions)}
    sparsity = {'mean_keep_ratio_per_agent': keep, 'target_keep_ratio': run.args.get('keep_ratio'),
                'gated_stage_macs_per_sample': macs}
    out.dump(sparsity, 'sparsity.json')
    return sparsity
