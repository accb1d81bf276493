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


def test_agent_rejects_non_positive_temperature():
    with pytest.raises(ValueError, match='temperature'):
        Agent(8, 8, temperature=0.0)
