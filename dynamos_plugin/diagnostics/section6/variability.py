"""Trial-to-trial variability (Fig. 6): the last gated layer's sampled actions for one input over several trials."""

from typing import List

import numpy as np
import torch

from dynamos_plugin.diagnostics.section6.data import N_CLASSES, Evaluated
from dynamos_plugin.diagnostics.section6.output import Output, pyplot


@torch.no_grad()
def sampled_trials(net, image: torch.Tensor, trials: int, seed: int) -> np.ndarray:
    """The last gated layer's actions for one input over ``trials`` sampled inferences (Section 6.2)."""
    torch.manual_seed(seed)
    old = net.infer_mode
    net.infer_mode = 'sample'
    try:
        return np.stack([net(image[None], returnt='agents')[1][-1].actions[0].numpy() for _ in range(trials)])
    finally:
        net.infer_mode = old


def pick_inputs(labels: np.ndarray, preds: np.ndarray, n: int = 4) -> List[int]:
    """The first correctly classified test image of each class, for the first ``n`` classes that have one
    (``[0]`` when none is right: a model that gets nothing right still shows its variability)."""
    correct = preds == labels
    picks = [int(np.flatnonzero((labels == c) & correct)[0]) for c in range(N_CLASSES) if ((labels == c) & correct).any()]
    return picks[:n] or [0]


def fig6_trial_variability(out: Output, picks: List[int], labels: np.ndarray, trial_actions: List[np.ndarray]) -> None:
    """Fig. 6: one panel per input, its actions (black: kept) over the sampled trials."""
    from matplotlib.patches import Patch
    trials = len(trial_actions[0])
    fig, axes = pyplot().subplots(len(picks), 1, figsize=(10, 1.2 + 0.9 * len(picks)), squeeze=False)
    axes = axes[:, 0]
    for ax, i, acts in zip(axes, picks, trial_actions):
        ax.imshow(acts, aspect='auto', cmap='Greys', vmin=0, vmax=1, interpolation='nearest')
        ax.set_yticks(range(trials), [f'trial {t + 1}' for t in range(trials)], fontsize=7)
        ax.set_title(f'test image {i} (class {labels[i]}): last-layer actions over {trials} sampled trials '
                     f'(black = kept)', fontsize=9)
        ax.set_ylabel('trial')
    axes[-1].set_xlabel('filter (last gated layer)')
    fig.legend(handles=[Patch(facecolor='black', edgecolor='grey', label='kept (a = 1)'),
                        Patch(facecolor='white', edgecolor='grey', label='dropped (a = 0)')],
               loc='lower right', ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    out.save(fig, 'trial_variability.png')


def variability_numbers(picks: List[int], labels: np.ndarray, trial_actions: List[np.ndarray]) -> List[dict]:
    """Per input: its actions and the fractions of filters always kept, always dropped and varying."""
    variability = []
    for i, acts in zip(picks, trial_actions):
        always_on, always_off = acts.all(0), (~acts.astype(bool)).all(0)
        variability.append({'test_index': i, 'label': int(labels[i]), 'actions': acts.astype(int).tolist(),
                            'always_on': float(always_on.mean()), 'always_off': float(always_off.mean()),
                            'varying': float(1 - always_on.mean() - always_off.mean())})
    return variability


def variability_step(run: Evaluated, out: Output, trials: int, seed: int) -> List[dict]:
    """Fig. 6 and ``trial_variability.json`` for (up to) four correctly classified inputs; returns the numbers."""
    picks = pick_inputs(run.labels, run.preds)
    trial_actions = [sampled_trials(run.net, run.images[i], trials, seed + k) for k, i in enumerate(picks)]
    fig6_trial_variability(out, picks, run.labels, trial_actions)
    variability = variability_numbers(picks, run.labels, trial_actions)
    out.dump(variability, 'trial_variability.json')
    return variability
