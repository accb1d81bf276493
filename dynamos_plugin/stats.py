"""
The per-step statistics Dynamos logs, their running means, the log line and its parser, together.

:meth:`dynamos_plugin.dynamos.Dynamos.observe` stacks, per step, the terms of Eq. 7, the accuracy
of the stream batch as trained (sampled actions) and, per agent, on the stream batch: the fraction
of channels kept (sampled, as trained), the fraction that thresholding ``p`` at the inference
threshold (``--inf_thresh``) would keep (as tested), and the fraction of keep probabilities still
undecided, in :data:`UNDECIDED`. Their means over a task (and over every window of
``--stats_every`` steps) are logged as one machine-readable line (:func:`stats_line`, in the format of
:mod:`dynamos_plugin.runlog`), which :func:`parse_trace` reads back
(``python -m dynamos_plugin.diagnostics.agent_trace`` plots them).
"""

from typing import Dict, List, Optional

import torch

from dynamos_plugin import runlog
from dynamos_plugin.agent import AgentOutput

LOSS_TERMS = ('ce', 'policy', 'prototype', 'buf_ce', 'buf_policy', 'buf_prototype', 'consistency_z', 'consistency_v',
              'total')
AGENT_STATS = ('keep', 'keep_thresholded', 'undecided')
UNDECIDED = (0.2, 0.8)


def stat_names(n_agents: int) -> List[str]:
    """The names of the per-step statistics, in the order :meth:`Dynamos.observe` stacks them."""
    return [*LOSS_TERMS, 'train_accuracy', *(f'{stat}_agent{i + 1}' for stat in AGENT_STATS for i in range(n_agents))]


def agent_statistics(decisions: List[AgentOutput], threshold: float = 0.5) -> torch.Tensor:
    """Per agent, over a batch: the fraction of channels kept by the sampled actions, the fraction that
    thresholding ``p >= threshold`` keeps, and the fraction of keep probabilities in ``UNDECIDED``; ``(3 L,)``."""
    probs = [torch.sigmoid(d.logits.detach()) for d in decisions]
    kept = [d.actions.mean() for d in decisions]
    thresholded = [(p >= threshold).float().mean() for p in probs]
    undecided = [((p > UNDECIDED[0]) & (p < UNDECIDED[1])).float().mean() for p in probs]
    return torch.stack(kept + thresholded + undecided)


class RunningMean:
    """The running mean of the per-step statistics over a task or a window of steps (on the host)."""

    def __init__(self, size: int) -> None:
        self.sums, self.count = [0.0] * size, 0

    def add(self, values: List[float]) -> None:
        self.sums = [s + v for s, v in zip(self.sums, values)]
        self.count += 1

    def mean(self) -> List[float]:
        return [s / max(self.count, 1) for s in self.sums]


def stats_record(stats: Dict[str, float], n_agents: int, buffer_len: int, buffer_size: int,
                 task: int, last_step: Optional[int] = None) -> dict:
    """The logged record of a task's (or, with ``last_step``, a window's) statistics: ``stats`` maps
    :func:`stat_names` and ``steps`` to their means (and count); ``task`` counts from 1. Means are rounded to
    4 decimals."""
    record = {'task': task, **({} if last_step is None else {'last_step': last_step}), 'steps': stats['steps'],
              **{stat: [round(stats[f'{stat}_agent{i + 1}'], 4) for i in range(n_agents)] for stat in AGENT_STATS},
              'train_accuracy': round(stats['train_accuracy'], 4),
              'losses': {k: round(stats[k], 4) for k in LOSS_TERMS},
              'buffer': buffer_len, 'buffer_size': buffer_size}
    return record


def stats_line(*args, **kwargs) -> str:
    """The log line of :func:`stats_record` (:mod:`dynamos_plugin.runlog`, kind ``stats``)."""
    return runlog.format_line('stats', stats_record(*args, **kwargs))


def parse_trace(text: str) -> Dict[str, list]:
    """The statistics (:func:`stats_record`) a ``dynamos`` log holds: ``{'windows': [...], 'tasks': [...]}``.

    Each entry has ``task``, ``steps``, ``keep``, ``keep_thresholded``, ``undecided`` (lists, one
    value per agent), ``train_accuracy``, ``losses`` (dict), ``buffer``, ``buffer_size``; windows also have
    ``last_step`` (the task's step, from 1, that ends the window). Logs of the older prose line read too.
    """
    out = {'windows': [], 'tasks': []}
    for record in runlog.read(text, 'stats'):
        out['windows' if 'last_step' in record else 'tasks'].append(record)
    return out
