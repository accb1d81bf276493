"""The gated backbone (dynamos_plugin/backbone.py): architecture, the un-gated twin, where the agents read and
mask in a block (against a block computed by hand), the agents' stride."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F


@pytest.fixture(scope='module')
def nets(mammoth_imported):
    from dynamos_plugin.backbone import gated_resnet, ungated_resnet
    torch.manual_seed(0)
    twin = ungated_resnet(num_classes=10)
    torch.manual_seed(0)
    gated = gated_resnet(num_classes=10)
    return gated, twin


def test_architecture(nets):
    gated, twin = nets
    assert len(gated.agents) == 4 and len(twin.agents) == 0
    assert [a.fc2.out_features for a in gated.agents] == [64, 64, 64, 64]
    assert gated.conv1.kernel_size == (3, 3) and gated.conv1.out_channels == 32
    assert gated.classifier.in_features == 64


def test_twin_has_the_same_initialisation(nets):
    gated, twin = nets
    gated_state = gated.state_dict()
    for name, value in twin.state_dict().items():
        assert torch.equal(gated_state[name], value), name


def test_all_actions_one_equals_the_twin(nets):
    gated, twin = nets
    gated.eval(), twin.eval()
    x = torch.rand(3, 1, 28, 28)
    expected = twin(x)
    assert torch.allclose(gated(x, use_agents=False), expected, atol=1e-6)
    old = gated.inf_thresh
    gated.inf_thresh = 0.0  # p >= 0 always: every action is 1, through the gating path
    try:
        logits, decisions = gated(x, returnt='agents')
        assert all(bool((d.actions == 1).all()) for d in decisions)
        assert torch.allclose(logits, expected, atol=1e-6)
    finally:
        gated.inf_thresh = old


def test_grey_and_rgb_inputs(nets):
    gated, _ = nets
    gated.eval()
    grey = torch.rand(2, 1, 28, 28)
    assert torch.allclose(gated(grey), gated(grey.expand(-1, 3, -1, -1)))
    assert gated(torch.rand(1, 3, 32, 32)).shape == (1, 10)


def test_forward_returns_every_agent_and_dropped_channels_are_zero(nets):
    gated, _ = nets
    gated.train()
    logits, decisions = gated(torch.rand(4, 1, 28, 28), returnt='agents')
    assert logits.shape == (4, 10) and len(decisions) == 4
    assert all(d.attention.shape == (4, 64) for d in decisions)
    block = gated.layer2[1]
    block.eval()
    out, (d1, d2) = block(torch.rand(6, 64, 7, 7), use_agents=True, sample=False, threshold=0.5)
    dropped = d2.actions == 0
    assert dropped.any() and (~dropped).any()
    assert torch.all(out.amax(dim=(2, 3))[dropped] == 0)
    gated.train()


def test_agent_stride_conv_or_one(mammoth_imported, tmp_path):
    from dynamos_plugin.glue.checkpoints import load_checkpoint
    from dynamos_plugin.backbone import GatedResNet, gated_resnet
    strides = lambda net: [a.pointwise.stride for a in net.agents]  # noqa: E731
    assert strides(gated_resnet(num_classes=10)) == [(2, 2), (1, 1), (1, 1), (1, 1)]  # the gated conv's stride
    one = gated_resnet(num_classes=10, agent_stride='1')  # the authors' code
    assert strides(one) == [(1, 1)] * 4
    x = torch.randn(3, 32, 28, 28)
    block = one.layer2[0]
    assert block.agent1(x, sample=False).attention.shape == (3, 64)  # pools the 28 x 28 input, not a 14 x 14 grid
    with pytest.raises(ValueError, match='agent_stride'):
        GatedResNet(10, agent_stride='2')
    # the weights have the same shapes either way: a checkpoint is rebuilt with its own stride
    torch.save({'model': {f'net.{k}': v for k, v in one.state_dict().items()},
                'args': {'model': 'dynamos', 'agent_stride': '1'}}, tmp_path / 'one.pt')
    net, _ = load_checkpoint(tmp_path / 'one.pt')
    assert strides(net) == [(1, 1)] * 4


def test_agent_stride_flag(mammoth_imported, capsys):
    import main
    args = main.parse_args(['--model', 'dynamos', '--dataset', 'mnist-360', '--buffer_size', '100', '--agent_stride', '1'])
    assert args.agent_stride == '1'
    assert main.parse_args(['--model', 'dynamos', '--dataset', 'mnist-360', '--buffer_size', '100']).agent_stride == 'conv'
    with pytest.raises(SystemExit):
        main.parse_args(['--model', 'dynamos', '--dataset', 'mnist-360', '--buffer_size', '100', '--agent_stride', '2'])
    assert '--agent_stride' in capsys.readouterr().err


# ---- the gated block by hand ----------------------------------------------------------------

class FixedAgent(nn.Module):
    """An agent that records its input and returns fixed actions."""

    def __init__(self, actions):
        super().__init__()
        self.actions, self.inputs = actions, []

    def forward(self, x, sample, threshold=0.5, straight_through=False):
        from dynamos_plugin.agent import AgentOutput
        self.inputs.append(x.detach().clone())
        return AgentOutput(torch.zeros_like(self.actions), torch.zeros_like(self.actions), self.actions)


def randomise_batchnorm(module, generator):
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            c = bn.num_features
            bn.running_mean.copy_(torch.randn(c, generator=generator))
            bn.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
            bn.weight.data.copy_(torch.randn(c, generator=generator))
            bn.bias.data.copy_(torch.rand(c, generator=generator) + 0.5)  # > 0: a channel masked too early shows


@pytest.mark.parametrize('in_planes, planes, stride', [(4, 6, 2), (6, 6, 1)])
def test_gated_block_by_hand(mammoth_imported, in_planes, planes, stride):
    from dynamos_plugin.backbone import GatedBasicBlock
    g = torch.Generator().manual_seed(0)
    block = GatedBasicBlock(in_planes, planes, stride)
    block.add_agents(temperature=0.15, hidden_dim_ratio=2)
    randomise_batchnorm(block, g)
    block.eval()
    a1 = (torch.rand(3, planes, generator=g) < 0.5).float()
    a2 = (torch.rand(3, planes, generator=g) < 0.5).float()
    assert (a1 == 0).any() and (a2 == 0).any() and (a1 == 1).any()
    block.agent1, block.agent2 = FixedAgent(a1), FixedAgent(a2)
    x = torch.randn(3, in_planes, 8, 8, generator=g)

    out, decisions = block(x, use_agents=True, sample=False)

    with torch.no_grad():
        h = F.relu(block.bn1(block.conv1(x)) * a1[:, :, None, None])
        expected = F.relu((block.bn2(block.conv2(h)) + block.shortcut(x)) * a2[:, :, None, None])
    assert torch.allclose(out, expected, atol=1e-6)
    assert [d.actions for d in decisions] == [a1, a2]
    (seen1,), (seen2,) = block.agent1.inputs, block.agent2.inputs
    assert torch.equal(seen1, x)  # agent 1 reads the block input
    assert torch.allclose(seen2, h, atol=1e-6)  # agent 2 reads h, after the first mask and ReLU
    # a dropped channel of the block output is zero everywhere
    assert torch.all(out.amax(dim=(2, 3))[a2 == 0] == 0)
    # without agents the block is the plain BasicBlock, and calls no agent
    plain, none = block(x, use_agents=False)
    with torch.no_grad():
        h = F.relu(block.bn1(block.conv1(x)))
        assert torch.allclose(plain, F.relu(block.bn2(block.conv2(h)) + block.shortcut(x)), atol=1e-6)
    assert none == [] and len(block.agent1.inputs) == 1


# ---- the static-sparsity control (--gate static) ---------------------------------------------

def test_static_masks_are_fixed_seeded_and_leave_the_twin_weights(mammoth_imported):
    from dynamos_plugin.backbone import gated_resnet, ungated_resnet
    torch.manual_seed(0)
    twin = ungated_resnet(num_classes=10)
    torch.manual_seed(0)
    static = gated_resnet(num_classes=10, gate='static', static_keep=0.7)
    torch.manual_seed(0)
    again = gated_resnet(num_classes=10, gate='static', static_keep=0.7)
    torch.manual_seed(1)
    other = gated_resnet(num_classes=10, gate='static', static_keep=0.7)
    assert static.agents == []
    masks = {k: v for k, v in static.state_dict().items() if 'static_mask' in k}
    assert sorted(masks) == [f'layer2.{b}.static_mask{i}' for b in (0, 1) for i in (1, 2)]  # saved with the weights
    for name, mask in masks.items():
        assert mask.shape == (64,) and set(mask.tolist()) == {0.0, 1.0}
        assert int(mask.sum()) == 45  # round(0.7 * 64)
        assert torch.equal(mask, again.state_dict()[name])  # the seed decides them
    assert len({tuple(m.tolist()) for m in masks.values()}) == 4  # one mask per convolution
    assert any(not torch.equal(m, other.state_dict()[k]) for k, m in masks.items())
    # the rest of the network is the un-gated twin's, draw for draw
    for name, value in twin.state_dict().items():
        assert torch.equal(static.state_dict()[name], value), name
    assert int(gated_resnet(num_classes=10, gate='static', static_keep=0.01).layer2[0].static_mask1.sum()) == 1


def test_static_block_by_hand_masks_the_same_channels_for_every_input(mammoth_imported):
    from dynamos_plugin.backbone import GatedBasicBlock
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    block = GatedBasicBlock(4, 6, 2)
    block.add_static_masks(0.5)
    randomise_batchnorm(block, g)
    block.eval()
    m1, m2 = block.static_mask1, block.static_mask2
    assert int(m1.sum()) == int(m2.sum()) == 3
    x = torch.randn(5, 4, 8, 8, generator=g)
    for use_agents in (True, False):  # masks are architecture: the warm-up's use_agents=False keeps them
        out, decisions = block(x, use_agents=use_agents, sample=True)
        with torch.no_grad():
            h = F.relu(block.bn1(block.conv1(x)) * m1[:, None, None])
            expected = F.relu((block.bn2(block.conv2(h)) + block.shortcut(x)) * m2[:, None, None])
        assert torch.allclose(out, expected, atol=1e-6) and decisions == []
        assert torch.all(out[:, m2 == 0] == 0)  # the same channels, for every one of the 5 inputs


def test_static_control_trains_with_msa_and_dynamos_refuses_it(mammoth_imported, mnist_dir, capsys):
    import main
    from conftest import build_model, stream_batch
    base = ['--dataset', 'seq-mnist', '--buffer_size', '50', '--seed', '0', '--base_path', mnist_dir,
            '--backbone', 'gated-resnet', '--gate', 'static']
    # strings made at run time, as the shell's are (not this file's literals, which Python may share): `gate ==
    # 'static'`, not `gate is 'static'`, must recognise the command line's value
    argv = [str(a).encode().decode() for a in ['--model', 'dynamos', *base]]
    with pytest.raises(ValueError, match='train the static-sparsity control with --model msa'):
        build_model(argv)
    model, dataset, _ = build_model(['--model', 'msa', *base])
    x, y, x0 = stream_batch(dataset)
    model.meta_begin_task(dataset)
    model.net.train()
    model.meta_observe(x, y, x0, epoch=0)
    block = model.net.layer2[1]
    dropped = block.static_mask1 == 0
    # a masked channel of the first convolution gets no gradient (its output never reaches the loss)
    assert torch.all(block.conv1.weight.grad[dropped] == 0) and torch.all(block.bn1.weight.grad[dropped] == 0)
    assert block.conv1.weight.grad[~dropped].abs().sum() > 0
    with pytest.raises(SystemExit):
        main.parse_args([str(a) for a in ['--model', 'msa', *base, '--static_keep', '0']])
    assert '--static_keep' in capsys.readouterr().err


def test_a_static_checkpoint_is_rebuilt_with_its_masks(mammoth_imported, tmp_path):
    from dynamos_plugin.backbone import gated_resnet
    from dynamos_plugin.glue.checkpoints import load_checkpoint
    torch.manual_seed(3)
    net = gated_resnet(num_classes=10, gate='static', static_keep=0.25)
    torch.save({'model': {f'net.{k}': v for k, v in net.state_dict().items()},
                'args': {'model': 'msa', 'backbone': 'gated-resnet', 'gate': 'static'}}, tmp_path / 'static.pt')
    with pytest.raises(ValueError, match='without agents'):
        load_checkpoint(tmp_path / 'static.pt')
    rebuilt, _ = load_checkpoint(tmp_path / 'static.pt', require_agents=False)
    assert int(rebuilt.layer2[0].static_mask1.sum()) == 16  # 0.25 of 64, from the checkpoint
    for name, value in net.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[name], value), name


# ---- return types, biases, sampling while training (each kills a surviving mutant) --------------------------

def test_return_types_by_value_and_unknown_ones_refused(nets):
    gated, _ = nets
    gated.eval()
    x = torch.rand(2, 1, 28, 28)
    features = gated(x, returnt=''.join(['feat', 'ures']))  # a string built at run time: compared by value
    assert features.shape == (2, 64)
    logits, feats = gated(x, returnt=''.join(['bo', 'th']))
    assert torch.equal(feats, features) and logits.shape == (2, 10)
    assert len(gated(x, returnt=''.join(['age', 'nts']))[1]) == 4
    assert torch.equal(gated(x, returnt=''.join(['o', 'ut'])), gated(x))
    for unknown in ('', 'aaa', 'all', 'zzz', 'logits'):  # '' and 'aaa' sort before 'agents', 'zzz' after 'out'
        with pytest.raises(ValueError, match='Unknown return type'):
            gated(x, returnt=unknown)


def test_no_convolution_has_a_bias(nets):
    gated, twin = nets
    convs = [m for net in (gated, twin) for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 2 * 10 + 4  # stem, 8 in the stages, 1 shortcut (x2 nets), 4 agents' pointwise
    assert all(conv.bias is None for conv in convs)


def test_training_samples_the_actions_and_evaluation_thresholds_them(nets):
    gated, _ = nets
    x = torch.rand(8, 1, 28, 28)
    gated.eval()
    _, tested = gated(x, returnt='agents')
    gated.train()
    torch.manual_seed(0)
    _, first = gated(x, returnt='agents')
    _, second = gated(x, returnt='agents')
    gated.eval()
    assert any(not torch.equal(a.actions, b.actions) for a, b in zip(first, second))  # Bernoulli draws
    p = torch.sigmoid(first[0].logits)
    assert torch.equal(tested[0].actions, (torch.sigmoid(tested[0].logits) >= 0.5).float())
    assert ((p > 0.05) & (p < 0.95)).any()  # undecided probabilities: a draw, not a threshold, decides them


def test_defaults_are_the_papers_and_the_feature_maps_its_sizes(mammoth_imported):
    import inspect
    from dynamos_plugin.backbone import GatedBasicBlock, GatedResNet, gated_resnet
    defaults = lambda f: {k: v.default for k, v in inspect.signature(f).parameters.items()  # noqa: E731
                          if v.default is not inspect.Parameter.empty}
    assert defaults(GatedResNet.__init__) == dict(nf=32, gate='agents', temperature=0.15, hidden_dim_ratio=16,
                                                  infer_mode='threshold', inf_thresh=0.5, agent_stride='conv',
                                                  memory_format='contiguous', static_keep=0.7)
    assert {k: v for k, v in defaults(gated_resnet).items() if k in ('nf', 'temperature', 'hidden_dim_ratio',
                                                                      'inf_thresh')} == dict(
        nf=32, temperature=0.15, hidden_dim_ratio=16, inf_thresh=0.5)
    assert defaults(GatedBasicBlock.__init__) == dict(stride=1)
    assert defaults(GatedBasicBlock.forward) == dict(use_agents=True, sample=True, threshold=0.5, straight_through=False)
    torch.manual_seed(0)
    net = gated_resnet(num_classes=10).eval()
    shapes = []
    for block in (*net.layer1, *net.layer2):
        block.register_forward_hook(lambda m, i, o: shapes.append(tuple(o[0].shape)))
    net(torch.rand(2, 1, 28, 28))
    assert shapes == [(2, 32, 28, 28), (2, 32, 28, 28), (2, 64, 14, 14), (2, 64, 14, 14)]
    assert net.layer2[0].shortcut[0].kernel_size == (1, 1)  # the projection shortcut is a 1x1 convolution
    # the agents' stride as argparse gives it (a string built at run time, compared by value)
    strided = GatedResNet(10, agent_stride=''.join(['co', 'nv']))
    assert [a.pointwise.stride for a in strided.agents] == [(2, 2), (1, 1), (1, 1), (1, 1)]


def test_sampled_inference_draws_and_its_mode_is_compared_by_value(mammoth_imported):
    from dynamos_plugin.backbone import GatedResNet
    torch.manual_seed(0)
    net = GatedResNet(10, infer_mode=''.join(['sam', 'ple'])).eval()  # as argparse gives it: not an interned literal
    x = torch.rand(8, 1, 28, 28)
    first, second = net(x, returnt='agents')[1], net(x, returnt='agents')[1]
    assert any(not torch.equal(a.actions, b.actions) for a, b in zip(first, second))
