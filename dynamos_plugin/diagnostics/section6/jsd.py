"""Jensen-Shannon divergences between the classes' activation-rate vectors of the last gated layer (Fig. 4)."""

from typing import Sequence

import numpy as np

from dynamos_plugin.diagnostics.section6.data import CLASSES
from dynamos_plugin.diagnostics.section6.output import Output, pyplot


def jsd_matrix(rates: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence (base 2, in [0, 1]) between every pair of rows, each normalised to sum 1.

    scipy's ``jensenshannon`` returns the JS *distance* (the square root); it is squared here.
    The result is symmetric with a zero diagonal; a row that sums to 0 gives NaN in its pairs.
    """
    from scipy.spatial.distance import jensenshannon
    n = rates.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = jensenshannon(rates[i], rates[j], base=2) ** 2
    return out


def jsd_summary(jsd: np.ndarray, names: Sequence[str]) -> dict:
    """The paper's Fig. 4 summary: the most overlapping pair and how it compares with the mean and largest pair.

    Args:
        jsd: symmetric ``(n, n)`` divergences (NaN pairs, from a class without kept filters, are ignored).
        names: the ``n`` class names.
    Returns:
        the lowest and largest pair and their values x100, the mean over the pairs i < j x100,
        ``mean_over_lowest`` (the paper: about 15) and ``largest_over_lowest`` (the paper, for 1-8:
        about 42), and every pair from most to least overlapping.
    """
    iu = np.triu_indices(jsd.shape[0], k=1)
    values = jsd[iu]
    if np.isnan(values).all():
        raise ValueError('every Jensen-Shannon divergence is undefined (no class has a kept filter)')
    lo, hi = int(np.nanargmin(values)), int(np.nanargmax(values))
    pair = lambda k: [names[iu[0][k]], names[iu[1][k]]]  # noqa: E731
    lowest = float(values[lo])
    return {'lowest_pair': pair(lo), 'lowest_jsd_x100': 100 * lowest,
            'mean_jsd_x100': 100 * float(np.nanmean(values)), 'largest_pair': pair(hi),
            'largest_jsd_x100': 100 * float(values[hi]),
            'mean_over_lowest': float(np.nanmean(values) / lowest) if lowest > 0 else float('inf'),
            'largest_over_lowest': float(values[hi] / lowest) if lowest > 0 else float('inf'),
            'pairs_by_overlap': [[*pair(k), 100 * float(values[k])] for k in np.argsort(values) if not np.isnan(values[k])]}


def fig4_jsd(out: Output, jsd: np.ndarray) -> None:
    """Fig. 4: the divergence matrix (x100), each cell labelled with its value."""
    n = len(CLASSES)
    fig, ax = pyplot().subplots(figsize=(6.2, 5.2))
    im = ax.imshow(100 * jsd, cmap='magma_r', interpolation='nearest')
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f'{100 * jsd[i, j]:.1f}', ha='center', va='center', fontsize=6,
                    color='white' if jsd[i, j] > jsd.max() * 0.6 else 'black')
    ax.set_xticks(range(n), CLASSES), ax.set_yticks(range(n), CLASSES)
    ax.set_xlabel('class'), ax.set_ylabel('class')
    ax.set_title('Jensen-Shannon divergence (x100, base 2)\nof class activation rates, last gated layer')
    fig.colorbar(im, ax=ax, fraction=0.046).set_label('JSD x 100')
    out.save(fig, 'jsd.png')


def jsd_step(out: Output, last_layer_by_class: np.ndarray) -> dict:
    """Fig. 4 and ``jsd.json`` from the last gated layer's rates per class; returns the summary."""
    jsd = jsd_matrix(last_layer_by_class)
    summary = jsd_summary(jsd, CLASSES)
    fig4_jsd(out, jsd)
    out.dump({'jsd_x100': (100 * jsd).tolist(), 'classes': CLASSES, 'base': 2,
              'note': 'squared scipy jensenshannon distance of the rate vectors normalised to sum 1', **summary},
             'jsd.json')
    return summary
