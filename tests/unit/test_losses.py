"""The losses of Eq. 3-6 (dynamos_plugin/losses.py) and the log-policy of Eq. 1 against hand-computed values."""

import math

import pytest
import torch

from dynamos_plugin.agent import log_policy
from dynamos_plugin.losses import consistency_loss, keep_ratio_reward, policy_loss, prototype_loss


def test_reward_eq3_correct_and_penalised():
    means = torch.tensor([[0.5, 0.7], [1.0, 0.2]])
    correct = torch.tensor([True, False])
    rewards = keep_ratio_reward(means, correct, keep_ratio=0.7, penalty=500)
    # correct: -(0.7-0.5)^2 = -0.04, -(0.7-0.7)^2 = 0; wrong: -500*(0.3)^2 = -45, -500*(0.5)^2 = -125
    assert torch.allclose(rewards, torch.tensor([[-0.04, 0.0], [-45.0, -125.0]]))


def test_policy_loss_eq4_is_reinforce_with_constant_reward():
    rewards = torch.tensor([[-0.04, 0.0], [-45.0, -125.0]], requires_grad=True)
    log_probs = torch.tensor([[-1.0, -2.0], [-0.5, -0.1]], requires_grad=True)
    loss = policy_loss(rewards, log_probs)
    # -(0.04 + 0 + 22.5 + 12.5) / 4
    assert loss.item() == pytest.approx(-8.76)
    loss.backward()
    assert rewards.grad is None  # no gradient through the reward
    assert torch.allclose(log_probs.grad, -rewards.detach() / 4)


def test_log_policy_eq1():
    logits = torch.tensor([[0.0, math.log(3.0)]])  # p = 0.5, 0.75
    actions = torch.tensor([[1.0, 0.0]])
    assert log_policy(logits, actions).item() == pytest.approx(math.log(0.5 * 0.25))
    # stays finite where p rounds to 1
    assert torch.isfinite(log_policy(torch.tensor([[200.0]]), torch.tensor([[0.0]]))).all()


V = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
Y = torch.tensor([0, 0, 1, 1])


def test_prototype_loss_eq5_all_correct():
    # pair distances (squared / dim): same (0,1)=0.5 (2,3)=1; different (0,2)=2 (0,3)=1 (1,2)=2.5 (1,3)=0.5
    loss = prototype_loss(V, Y, torch.tensor([True, True, True, True]))
    assert loss.item() == pytest.approx((1 + 1.5) / (1 + 6.0))


def test_prototype_loss_eq5_uses_only_correct_samples():
    loss = prototype_loss(V, Y, torch.tensor([True, True, True, False]))
    assert loss.item() == pytest.approx((1 + 0.5) / (1 + 4.5))


def test_prototype_loss_eq5_with_labels_out_of_order():
    # labels 1, 0, 0, 1: same class (0,3)=1 (1,2)=2.5; different (0,1)=0.5 (0,2)=2 (1,3)=0.5 (2,3)=1
    loss = prototype_loss(V, torch.tensor([1, 0, 0, 1]), torch.ones(4, dtype=torch.bool))
    assert loss.item() == pytest.approx((1 + 3.5) / (1 + 4.0))


@pytest.mark.parametrize('correct', [[True, True, False, False], [False, True, False, False], [False] * 4])
def test_prototype_loss_is_skipped_with_two_or_fewer_correct(correct):
    v = V.clone().requires_grad_(True)
    loss = prototype_loss(v, Y, torch.tensor(correct))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.count_nonzero(v.grad) == 0


def test_prototype_loss_gradient_pulls_same_class_together():
    v = V.clone().requires_grad_(True)
    prototype_loss(v, Y, torch.ones(4, dtype=torch.bool)).backward()
    stepped = V - 0.1 * v.grad
    assert (stepped[0] - stepped[1]).pow(2).sum() < (V[0] - V[1]).pow(2).sum()


def test_consistency_loss_eq6_is_mse():
    assert consistency_loss(torch.tensor([[1.0, 2.0]]), torch.zeros(1, 2)).item() == pytest.approx(2.5)
