"""Filter activation rates per class and per task: Fig. 3 (last gated layer, last 40 filters) and Fig. 7 (every
gated layer)."""

from typing import List

import numpy as np

from dynamos_plugin.diagnostics.section6.data import CLASSES, LAYER_NAMES, N_CLASSES, N_TASKS, Evaluated
from dynamos_plugin.diagnostics.section6.output import Output, heatmap, pyplot


def activation_rates(actions: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Fraction of the samples of each group for which each filter was kept.

    Args:
        actions: ``(N, C)`` 0/1 actions of one gated layer.
        groups: ``(N,)`` group (class or task) of each sample.
    Returns:
        ``(n_groups, C)`` rates in [0, 1] (NaN for a group without samples).
    """
    actions = np.asarray(actions, dtype=np.float64)
    rates = np.full((n_groups, actions.shape[1]), np.nan)
    for g in range(n_groups):
        mask = groups == g
        if mask.any():
            rates[g] = actions[mask].mean(axis=0)
    return rates


def _task_names() -> List[str]:
    return [f'task {t + 1}' for t in range(N_TASKS)]


def fig3_activation_rates(out: Output, by_class: np.ndarray, by_task: np.ndarray) -> None:
    """Fig. 3: the last 40 filters of the last gated layer, per class (a) and per task (b); ``by_class`` and
    ``by_task`` are that layer's rates."""
    plt = pyplot()
    last40 = slice(by_class.shape[1] - 40, by_class.shape[1])
    xticks = (range(0, 40, 5), [str(i) for i in range(last40.start, last40.stop, 5)])
    fig, ax = plt.subplots(figsize=(10, 3.6))
    heatmap(ax, by_class[:, last40], CLASSES, 'Filter activation rates by class (last gated layer, last 40 filters)',
            'filter', xticks)
    ax.set_ylabel('class')
    out.save(fig, 'activation_rates_class.png')
    fig, ax = plt.subplots(figsize=(10, 2.6))
    heatmap(ax, by_task[:, last40], _task_names(), 'Filter activation rates by task (last gated layer, last 40 filters)',
            'filter', xticks)
    ax.set_ylabel('task (classes)')
    out.save(fig, 'activation_rates_task.png')


def fig7_activation_rates_all_layers(out: Output, by_class: List[np.ndarray], by_task: List[np.ndarray]) -> None:
    """Fig. 7: every filter of every gated layer, per class (left) and per task (right), one row per layer."""
    fig, axes = pyplot().subplots(len(by_class), 2, figsize=(16, 3.0 * len(by_class)))
    for i, name in enumerate(LAYER_NAMES[:len(by_class)]):
        heatmap(axes[i, 0], by_class[i], CLASSES, f'{name}: by class', 'filter')
        axes[i, 0].set_ylabel('class')
        heatmap(axes[i, 1], by_task[i], _task_names(), f'{name}: by task', 'filter')
        axes[i, 1].set_ylabel('task')
    out.save(fig, 'activation_rates_all_layers.png')


def activation_step(run: Evaluated, out: Output):
    """Fig. 3 and 7 and ``activation_rates.json``; returns the rates per layer, by class and by task."""
    by_class = [activation_rates(a, run.labels, N_CLASSES) for a in run.actions]
    by_task = [activation_rates(a, run.tasks, N_TASKS) for a in run.actions]
    fig3_activation_rates(out, by_class[-1], by_task[-1])
    fig7_activation_rates_all_layers(out, by_class, by_task)
    out.dump({'layers': LAYER_NAMES, 'by_class': [r.tolist() for r in by_class],
              'by_task': [r.tolist() for r in by_task]}, 'activation_rates.json')
    return by_class, by_task
