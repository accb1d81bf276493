"""
The losses of the research variants (``--model dynamos-variants``; none is in the paper), as small pure functions.

Shapes as in :mod:`dynamos_plugin.losses`: ``B`` samples, ``L`` agents, ``D`` the concatenated channels.
"""

import torch
import torch.nn.functional as F


def keep_rate_loss(action_means: torch.Tensor, keep_ratio: float) -> torch.Tensor:
    """Batch keep-rate loss of the straight-through variant (``--gate_estimator straight_through``).

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
    """Routing distillation of the buffer's samples (``--routing_distill``).

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
