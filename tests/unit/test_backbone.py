"""The agent and the gated backbone."""

import pytest
import torch

from dynamos_plugin.agent import Agent


@pytest.fixture(scope='module')
def nets(mammoth_imported):
    from dynamos_plugin.backbone import gated_resnet, ungated_resnet
    torch.manual_seed(0)
    twin = ungated_resnet(num_classes=10)
    torch.manual_seed(0)
    gated = gated_resnet(num_classes=10)
    return gated, twin


def test_agent_shapes_and_batch_of_one():
    agent = Agent(32, 64, stride=2, temperature=0.15)
    agent.train()
    for batch in (1, 5):
        out = agent(torch.randn(batch, 32, 14, 14), sample=True)
        assert out.attention.shape == out.logits.shape == out.actions.shape == (batch, 64)
        assert set(out.actions.unique().tolist()) <= {0.0, 1.0}
        assert torch.allclose(out.logits, out.attention / 0.15)


def test_agent_mlp_has_the_paper_sizes():
    agent = Agent(64, 64, hidden_dim_ratio=16)
    assert (agent.fc1.in_features, agent.fc1.out_features, agent.fc2.out_features) == (64, 4, 64)
    assert agent.pointwise.bias is None and agent.pointwise.kernel_size == (1, 1)


def test_agent_threshold_and_sample_modes():
    torch.manual_seed(0)
    agent = Agent(8, 16).eval()
    x = torch.randn(1, 8, 6, 6)
    out = agent(x, sample=False, threshold=0.5)
    assert torch.equal(out.actions, (out.logits >= 0).float())
    p = torch.sigmoid(out.logits.detach())[0]
    assert ((p > 0.1) & (p < 0.9)).all()  # undecided: thresholding instead of sampling would be far off below
    # one batched call: n identical rows in eval mode (BatchNorm on its running statistics), so every row has
    # the same p and each channel's frequency of 1s is a Binomial(n, p) / n; 5 standard deviations (+ one sample)
    n = 4000
    sampled = agent(x.expand(n, -1, -1, -1), sample=True)
    assert torch.allclose(torch.sigmoid(sampled.logits.detach()), p.expand(n, -1))
    assert set(sampled.actions.unique().tolist()) == {0.0, 1.0}
    freq = sampled.actions.mean(0)
    assert ((freq - p).abs() <= 5 * (p * (1 - p) / n).sqrt() + 1 / n).all(), (freq, p)


def test_agent_rejects_non_positive_temperature():
    with pytest.raises(ValueError, match='temperature'):
        Agent(8, 8, temperature=0.0)


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
    from dynamos_plugin.mammoth_glue import load_checkpoint
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
