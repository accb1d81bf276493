"""
The per-step statistics Dynamos logs, their running means, the log line and its parser, together.

:meth:`dynamos_plugin.dynamos.Dynamos.observe` stacks, per step, the terms of Eq. 7, the accuracy
of the stream batch as trained (sampled actions) and, per agent, on the stream batch: the fraction
of channels kept (sampled, as trained), the fraction that thresholding ``p`` at the inference
threshold (``--inf_thresh``) would keep (as tested), and the fraction of keep probabilities still
undecided, in :data:`UNDECIDED`. Their means over a task (and over every window of
``--stats_every`` steps) are logged as one line (:func:`stats_line`), which :func:`parse_trace`
reads back (``python -m dynamos_plugin.diagnostics.agent_trace`` plots them).
"""

import re
from typing import Dict, List, Optional

import torch

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


def stats_line(stats: Dict[str, float], n_agents: int, buffer_len: int, buffer_size: int,
               task: int, last_step: Optional[int] = None) -> str:
    """The log line of a task's (or, with ``last_step``, a window's) statistics: ``stats`` maps
    :func:`stat_names` and ``steps`` to their means (and count); ``task`` counts from 1."""
    per_agent = {stat: ' '.join(f'{stats[f"{stat}_agent{i + 1}"]:.3f}' for i in range(n_agents)) for stat in AGENT_STATS}
    terms = ' '.join(f'{k}={stats[k]:.4f}' for k in LOSS_TERMS)
    where = f'Dynamos task {task}' + ('' if last_step is None else f', steps up to {last_step}')
    return (f'{where}: mean keep ratio per agent [{per_agent["keep"]}] over {stats["steps"]} steps; '
            f'thresholded [{per_agent["keep_thresholded"]}]; undecided p [{per_agent["undecided"]}]; '
            f'train accuracy {stats["train_accuracy"]:.4f}; mean losses: {terms}; '
            f'buffer {buffer_len}/{buffer_size}')


LINE_RE = re.compile(
    r'Dynamos task (?P<task>\d+)(?:, steps up to (?P<last_step>\d+))?: '
    r'mean keep ratio per agent \[(?P<keep>[-\d.e ]+)\] over (?P<steps>\d+) steps; '
    r'thresholded \[(?P<keep_thresholded>[-\d.e ]+)\]; undecided p \[(?P<undecided>[-\d.e ]+)\]; '
    r'train accuracy (?P<train_accuracy>[-\d.e]+|nan); mean losses: (?P<losses>[^;]*); buffer (?P<buffer>\d+)/\d+')


def parse_trace(text: str) -> Dict[str, list]:
    """The statistics lines (:func:`stats_line`) of a ``dynamos`` log: ``{'windows': [...], 'tasks': [...]}``.

    Each entry has ``task``, ``steps``, ``keep``, ``keep_thresholded``, ``undecided`` (lists, one
    value per agent), ``train_accuracy``, ``losses`` (dict), ``buffer``; windows also have
    ``last_step`` (the task's step, from 1, that ends the window).
    """
    out = {'windows': [], 'tasks': []}
    for match in LINE_RE.finditer(text):
        entry = {'task': int(match['task']), 'steps': int(match['steps']),
                 **{k: list(map(float, match[k].split())) for k in AGENT_STATS},
                 'train_accuracy': float(match['train_accuracy']),
                 'losses': {k: float(v) for k, v in (term.split('=') for term in match['losses'].split())},
                 'buffer': int(match['buffer'])}
        if match['last_step'] is not None:
            out['windows'].append(dict(entry, last_step=int(match['last_step'])))
        else:
            out['tasks'].append(entry)
    return out
