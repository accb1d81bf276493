"""
The losses of Dynamos (paper Section 3, Eq. 3-6), as small pure functions.

Shapes: ``B`` samples, ``L`` agents, ``D`` = the length of the concatenated attention
vectors of all agents. Eq. 7, their weighted sum, is assembled in
:meth:`dynamos_plugin.dynamos.Dynamos.observe`.
"""

import torch
import torch.nn.functional as F


def keep_ratio_reward(action_means: torch.Tensor, correct: torch.Tensor,
                      keep_ratio: float, penalty: float) -> torch.Tensor:
    """Reward of each agent for each sample (Eq. 3).

    ``R_l = -(kr - m_l)^2`` when the prediction is correct and ``-lambda (kr - m_l)^2`` when it
    is wrong, with ``m_l`` the fraction of channels agent ``l`` kept.

    Args:
        action_means: ``(B, L)``, ``m_l`` = mean of each agent's actions.
        correct: ``(B,)`` bool, whether the network's prediction was right.
        keep_ratio: ``kr`` in (0, 1].
        penalty: ``lambda`` > 0.

    Returns:
        ``(B, L)`` rewards (all <= 0).
    """
    scale = torch.where(correct, torch.ones_like(action_means[:, 0]), torch.full_like(action_means[:, 0], penalty))
    return -scale[:, None] * (keep_ratio - action_means) ** 2


def policy_loss(rewards: torch.Tensor, log_probs: torch.Tensor) -> torch.Tensor:
    """REINFORCE loss of the agents (Eq. 4): mean over samples and agents of ``-R_l * log pi_l(a_l)``.

    The reward is a constant: no gradient flows through it.

    Args:
        rewards: ``(B, L)`` from :func:`keep_ratio_reward`.
        log_probs: ``(B, L)``, ``log pi_l(a_l)`` from :func:`dynamos_plugin.agent.log_policy`.
    """
    return -(rewards.detach() * log_probs).mean()


def prototype_loss(attention: torch.Tensor, labels: torch.Tensor, correct: torch.Tensor) -> torch.Tensor:
    """Prototype (specialisation) loss on the attention vectors of the correctly classified samples (Eq. 5).

    ``L_P = (1 + sum_{same class} d(i, j)) / (1 + sum_{different class} d(i, j))`` over the pairs
    ``i < j`` of correctly classified samples, with ``d`` the mean squared error between their
    concatenated attention vectors (squared Euclidean distance / D). It is 0 (skipped) when two
    or fewer samples are correct. The selection is a mask, so the batch never leaves the device.

    Args:
        attention: ``(B, D)`` concatenated attention vectors ``V``.
        labels: ``(B,)`` class labels.
        correct: ``(B,)`` bool, whether each prediction was right.
    """
    n = attention.shape[0]
    distances = (attention[:, None, :] - attention[None, :, :]).pow(2).mean(dim=-1)
    pairs = torch.ones(n, n, dtype=torch.bool, device=attention.device).triu(diagonal=1)
    pairs = pairs & correct[:, None] & correct[None, :]
    same_class = labels[:, None] == labels[None, :]
    pull = (distances * (pairs & same_class)).sum()
    push = (distances * (pairs & ~same_class)).sum()
    loss = (1 + pull) / (1 + push)
    return torch.where(correct.sum() > 2, loss, torch.zeros_like(loss))


def consistency_loss(current: torch.Tensor, stored: torch.Tensor) -> torch.Tensor:
    """Consistency between the current response to buffer samples and the stored one (Eq. 6).

    The mean squared error ``MSE(Z_now, Z_stored)`` for logits, ``MSE(V_now, V_stored)`` for the
    concatenated attention vectors.
    """
    return F.mse_loss(current, stored.detach())


def keep_rate_loss(action_means: torch.Tensor, keep_ratio: float) -> torch.Tensor:
    """Batch keep-rate loss of the straight-through variant (``--gate_estimator straight_through``; not in the paper).

    ``sum_l (mean_b m_bl - kr)^2``: per agent, the squared gap between the fraction of channels it kept over
    the batch and ``kr``, summed over the agents. It replaces the per-sample reward of Eq. 3: with
    straight-through actions (:meth:`dynamos_plugin.agent.Agent.forward`) ``m`` carries the gradient of the
    keep probabilities, so the loss trains the agents directly, without REINFORCE.

    Args:
        action_means: ``(B, L)``, ``m_bl`` = mean of agent ``l``'s actions on sample ``b``.
        keep_ratio: ``kr`` in (0, 1].
    """
    return ((action_means.mean(dim=0) - keep_ratio) ** 2).sum()


def routing_distillation_loss(logits: torch.Tensor, stored_attention: torch.Tensor) -> torch.Tensor:
    """Routing distillation of the buffer's samples (``--routing_distill``; not in the paper).

    The mask a stored sample had when it was stored is the sign of its stored attention vector
    (``p = sigmoid(v / tau) >= 0.5`` exactly when ``v >= 0``); the loss is the binary cross-entropy of the
    current probability-layer logits ``v_now / tau`` against that mask, averaged over samples and channels. Unlike
    the attention consistency of Eq. 6 (the mean squared error of ``v``, tiny where ``v`` is near 0), it
    grows with the margin by which a channel's decision has flipped, so it holds old samples' routing in place.

    Args:
        logits: ``(B, D)`` current ``v / tau`` of the buffer batch, every agent concatenated.
        stored_attention: ``(B, D)`` the attention vectors stored with those samples.
    """
    return F.binary_cross_entropy_with_logits(logits, (stored_attention.detach() >= 0).to(logits.dtype))
