"""
The Dynamos agent (paper Section 3.1, Fig. 1, Table 3).

An agent sits beside one convolution and decides, per input, which of its output
channels to keep. Its self-attention network turns the convolution's input into a
channel-wise attention vector ``v``; the probability layer turns ``v`` into keep
probabilities ``p = sigmoid(v / tau)``; the actions ``a`` are Bernoulli samples of ``p``
while training and ``p >= threshold`` at inference (or samples again, for the
trial-to-trial variability of Section 6.2). An opt-in variant (``--gate_estimator
straight_through``) trains with the inference gate itself, ``p >= threshold``, passing the
gradient to ``p`` straight through the threshold.
"""

from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F


class AgentOutput(NamedTuple):
    """What one agent produced for a batch (each tensor is ``(batch, channels)``)."""
    attention: torch.Tensor  # v: the channel-wise self-attention vector (Eq. 2's v_l)
    logits: torch.Tensor  # v / tau; the action probabilities are sigmoid(logits) (Eq. 1)
    actions: torch.Tensor  # a in {0, 1}: 1 keeps the channel, 0 drops it


class Agent(nn.Module):
    """Self-attention network and probability layer of one gated convolution.

    Self-attention network (Fig. 1): a pointwise convolution ``C_in -> C_out`` without
    bias, batch norm and global average pooling give ``g``; an MLP
    ``C_out -> C_out / hidden_dim_ratio -> C_out`` (ReLU between, sigmoid after) gives
    ``s``; the attention vector is ``v = g * s``. Probability layer: ``sigmoid(v / tau)``.

    The pointwise convolution takes a ``stride``: the backbone gives it the stride of the
    convolution it gates (the agent pools over the grid of the output it masks) or, with
    ``--agent_stride 1``, stride 1 as in the authors' code.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 temperature: float = 0.15, hidden_dim_ratio: int = 16) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'the temperature of the probability layer must be > 0, got {temperature}')
        self.pointwise = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        hidden = max(1, out_channels // hidden_dim_ratio)
        self.fc1 = nn.Linear(out_channels, hidden)
        self.fc2 = nn.Linear(hidden, out_channels)
        self.temperature = temperature

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """The channel-wise attention vector ``v = g * s`` of the self-attention network."""
        g = self.bn(self.pointwise(x)).mean(dim=(2, 3))
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(g))))
        return g * s

    def forward(self, x: torch.Tensor, sample: bool, threshold: float = 0.5,
                straight_through: bool = False) -> AgentOutput:
        """Attention, probability-layer logits and actions for the input ``x`` of the gated convolution.

        Args:
            x: the input of the gated convolution, ``(batch, C_in, H, W)``.
            sample: draw ``a ~ Bernoulli(p)`` (training, or sampled inference); otherwise ``a = [p >= threshold]``.
            threshold: the inference threshold on ``p`` (0.5 in the paper).
            straight_through: with ``sample=False``: the actions keep the value ``[p >= threshold]`` but carry
                the gradient of ``p`` (``a = [p >= threshold] + p - sg(p)``), so a loss on the masked output
                trains the agent (the straight-through estimator; not in the paper).
        """
        v = self.attention(x)
        logits = v / self.temperature
        p = torch.sigmoid(logits)
        if sample:  # a ~ Bernoulli(p); a NaN in p gives 0 here and is reported by the model with its step
            actions = (torch.rand_like(p) < p.detach()).to(p.dtype)
        else:
            actions = (p.detach() >= threshold).to(p.dtype)
            if straight_through:
                actions = actions + (p - p.detach())
        return AgentOutput(v, logits, actions)


def log_policy(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """``log pi_l(a_l) = sum_i log(p_i^a_i (1 - p_i)^(1 - a_i))`` (Eq. 1 and Eq. 4), one value per sample.

    Computed from the logits ``v / tau`` (``log p = logsigmoid(z)``, ``log(1 - p) = logsigmoid(-z)``),
    which stays finite where ``p`` rounds to 0 or 1.
    """
    return -F.binary_cross_entropy_with_logits(logits, actions, reduction='none').sum(dim=1)
