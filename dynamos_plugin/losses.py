"""
The losses of Dynamos (paper Section 3, Eq. 3-6), as small pure functions.

Shapes: ``B`` samples, ``L`` agents, ``D`` = the length of the concatenated attention
vectors of all agents. :func:`total_loss` is Eq. 7, their weighted sum.
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


def total_loss(terms, gamma: float, beta: float, alpha: float, policy_alpha: float,
               prototype_weight: float) -> torch.Tensor:
    """The loss of a Dynamos step (Eq. 7), from its terms (:class:`dynamos_plugin.dynamos.StepTerms`).

    ``L = CE(B) + gamma L_R(B) + beta (CE(M) + gamma L_R(M)) + alpha MSE(Z_M) + alpha_P MSE(V_M)
    + w_P (L_P(B) + L_P(M))``, ``B`` the stream batch, ``M`` the replay batch (its terms 0 while the buffer
    is empty), ``L_R`` the policy loss (Eq. 4), ``L_P`` the prototype loss (Eq. 5), the two MSE the
    consistency losses (Eq. 6).
    """
    t = terms
    return (t.ce + gamma * t.policy
            + beta * (t.buf_ce + gamma * t.buf_policy)
            + alpha * t.consistency_z + policy_alpha * t.consistency_v
            + prototype_weight * (t.prototype + t.buf_prototype))
