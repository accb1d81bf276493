"""The agent (dynamos_plugin/agent.py): output shapes, the MLP's sizes, thresholding against sampling, the temperature."""

import pytest
import torch

from dynamos_plugin.agent import Agent


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


@pytest.mark.parametrize('temperature', [0.0, -0.15])
def test_agent_rejects_non_positive_temperature(temperature):
    with pytest.raises(ValueError, match='temperature'):
        Agent(8, 8, temperature=temperature)


def test_agent_defaults_are_the_papers():
    agent = Agent(64, 64)  # Table 3: tau = 0.15, an MLP of C / 16 hidden units; stride 1 unless the conv's
    assert agent.temperature == 0.15 and agent.fc1.out_features == 4 and agent.pointwise.stride == (1, 1)
    assert Agent(8, 8).fc1.out_features == 1  # 8 // 16 = 0 hidden units would be no MLP: at least one
    assert Agent(8, 240).fc1.out_features == 15  # 240 // 16 (a ratio of 15 would give 16)


def test_thresholded_actions_keep_a_probability_equal_to_the_threshold():
    """``a = [p >= threshold]``, and the default threshold is the paper's 0.5: a zero attention vector
    (p = sigmoid(0) = 0.5 exactly) keeps every channel, a threshold above 0.5 drops them all, and so does
    the default threshold for p just below 0.5."""
    agent = Agent(8, 16).eval()
    torch.nn.init.zeros_(agent.pointwise.weight)  # g = BN(0) = 0 in eval mode (running mean 0, bias 0): v = 0
    x = torch.randn(3, 8, 6, 6)
    out = agent(x, sample=False)
    assert torch.equal(torch.sigmoid(out.logits), torch.full((3, 16), 0.5))
    assert torch.equal(out.actions, torch.ones(3, 16))
    assert torch.equal(agent(x, sample=False, threshold=0.51).actions, torch.zeros(3, 16))
    torch.nn.init.constant_(agent.bn.bias, -0.1)  # g = -0.1, v = g * s < 0: p just below 0.5, dropped
    below = agent(x, sample=False)
    assert (torch.sigmoid(below.logits) < 0.5).all() and torch.equal(below.actions, torch.zeros(3, 16))
