"""The report's plots of the accuracy along the stream (records with a curve, Mammoth's ``--eval_every``):

- ``anytime_<dataset>_buf<B>.png``: the accuracy on the classes seen so far against training steps, one line per
  method (mean over seeds at each evaluation point) with a band from the lowest to the highest seed, the arrival of
  every new class marked by a vertical line (the first arrival of each class darker); Dynamos against Eq. 8 and
  static in one panel, against ER, DER and DER++ in a second (:func:`panels`), so that no panel holds six bands;
- ``anytime_heatmap_<dataset>_buf<B>.png``: per-class accuracy (class x step, mean over seeds), Dynamos and the Eq. 8
  baseline (``msa``) side by side, arrivals of each class marked.

Points are matched across seeds by their step (the stream of a dataset has the same length for every seed)."""

from pathlib import Path
from typing import Dict, List

from dynamos_plugin.experiments.anytime import arrivals
from dynamos_plugin.experiments.formats import NAMES
from dynamos_plugin.experiments.plots import METHOD_COLOURS


def _curves(records: List[dict]) -> Dict[tuple, Dict[str, List[list]]]:
    """(dataset, buffer) -> method -> the curves (lists of points) of its seeds."""
    out: Dict[tuple, Dict[str, List[list]]] = {}
    for r in sorted(records, key=lambda r: (r['method'], r['seed'])):
        if r.get('status') == 'ok' and r.get('anytime'):
            out.setdefault((r['dataset'], r['buffer']), {}).setdefault(r['method'], []).append(r['anytime'])
    return out


def _by_step(curves: List[list], value) -> Dict[int, List[float]]:
    steps: Dict[int, List[float]] = {}
    for points in curves:
        for p in points:
            v = value(p)
            if v is not None:
                steps.setdefault(p['step'], []).append(v)
    return dict(sorted(steps.items()))


def _mark_arrivals(ax, curve: List[dict], vertical: bool = True) -> None:
    first = set()
    for event in arrivals(curve):
        new_class = any(c not in first for c in event['new'])
        first |= set(event['new'])
        style = dict(color='black', alpha=0.35 if new_class else 0.12, linewidth=0.8 if new_class else 0.5)
        (ax.axvline if vertical else ax.axhline)(event['step'], **style)


#: the panels of the stream plot: Dynamos against its sparse references, then against the rehearsal baselines
PANELS = (('dynamos', 'msa', 'static'), ('dynamos', 'er', 'der', 'derpp'))
LABELS = {**NAMES, 'msa': 'Eq. 8 (msa)'}  # the plots also name Eq. 8's Mammoth model


def panels(methods) -> List[List[str]]:
    """The methods of each panel of the stream plot, in :data:`PANELS` order: a panel is drawn when it has a method
    besides Dynamos (or when it is the only one); a method of no panel joins the last panel drawn."""
    methods = list(methods)
    out = [[m for m in group if m in methods] for group in PANELS]
    out = [group for group in out if any(m != 'dynamos' for m in group)] or [[m for m in methods if m == 'dynamos']]
    rest = [m for m in methods if not any(m in group for group in out)]
    if rest:
        out[-1] = out[-1] + sorted(rest)
    return [group for group in out if group]


def plot_stream(plt, dataset: str, buffer, per_method: Dict[str, List[list]], path: Path) -> None:
    groups = panels(per_method)
    fig, axes = plt.subplots(len(groups), 1, figsize=(11, 3.6 * len(groups) + 0.6), sharex=True, squeeze=False)
    any_curve = next(iter(per_method.values()))[0]
    for ax, group in zip(axes[:, 0], groups):
        _mark_arrivals(ax, any_curve)
        for method in group:
            curves = per_method[method]
            steps = _by_step(curves, lambda p: p.get('seen_accuracy'))
            xs = list(steps)
            colour = METHOD_COLOURS.get(method, 'black')
            ax.plot(xs, [sum(v) / len(v) for v in steps.values()], color=colour, linewidth=1.4,
                    label=f'{LABELS.get(method, method)} (n={len(curves)})')
            ax.fill_between(xs, [min(v) for v in steps.values()], [max(v) for v in steps.values()], color=colour,
                            alpha=0.18, linewidth=0)
        ax.set_ylabel('accuracy on the classes\nseen so far (%)')
        ax.set_ylim(0, 100)
        ax.legend(loc='lower right', fontsize=8)
        ax.grid(alpha=0.3, axis='y')
    axes[-1, 0].set_xlabel('training step (vertical lines: a new class arrives; darker: its first arrival)')
    where = f'buffer {buffer}' if buffer else 'no buffer'
    axes[0, 0].set_title(f'{dataset}, {where}: accuracy along the stream (mean over seeds, band: lowest to highest seed)')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_heatmap(plt, dataset: str, buffer, per_method: Dict[str, List[list]], methods, path: Path) -> None:
    import numpy as np
    fig, axes = plt.subplots(1, len(methods), figsize=(6 * len(methods), 3.8), sharey=True, squeeze=False)
    image = None
    for ax, method in zip(axes[0], methods):
        curves = per_method[method]
        classes = sorted({int(c) for points in curves for p in points for c in p['class_accuracy']})
        steps = sorted({p['step'] for points in curves for p in points})
        grid = np.full((len(classes), len(steps)), np.nan)
        for j, step in enumerate(steps):
            for i, c in enumerate(classes):
                values = [p['class_accuracy'][str(c)] for points in curves for p in points
                          if p['step'] == step and str(c) in p['class_accuracy']]
                if values:
                    grid[i, j] = sum(values) / len(values)
        xs = np.array(steps, dtype=float)  # each point's cell reaches halfway to its neighbours
        middles = (xs[1:] + xs[:-1]) / 2 if len(xs) > 1 else np.array([])
        first_edge = xs[0] - (middles[0] - xs[0] if len(middles) else 0.5)
        last_edge = xs[-1] + (xs[-1] - middles[-1] if len(middles) else 0.5)
        edges = np.concatenate([[first_edge], middles, [last_edge]])
        image = ax.pcolormesh(edges, np.arange(len(classes) + 1) - 0.5, grid, cmap='viridis', vmin=0, vmax=100)
        first = set()
        for event in arrivals(curves[0]):
            for c in (c for c in event['new'] if c in classes):
                ax.plot([event['step']], [classes.index(c)], marker='|', color='white' if c not in first else 'red',
                        markersize=7)
                first.add(c)
        ax.set_title(f'{LABELS.get(method, method)} (n={len(curves)})')
        ax.set_xlabel('training step')
    axes[0][0].set_ylabel('class')
    axes[0][0].set_yticks(range(len(classes)), [str(c) for c in classes])
    fig.colorbar(image, ax=axes[0].tolist(), label='test accuracy (%), mean over seeds')
    fig.suptitle(f'{dataset}, buffer {buffer}: per-class accuracy along the stream '
                 '(ticks: a class arrives; white: first time, red: again)', fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches='tight')
    plt.close(fig)


def write_anytime_plots(records: List[dict], folder: Path) -> List[Path]:
    """The plots of every (dataset, buffer) with curves; the heatmap where Dynamos or Eq. 8 has one (side by side
    where both have)."""
    curves = _curves(records)
    if not curves:
        return []
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for (dataset, buffer), per_method in sorted(curves.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        path = folder / f'anytime_{dataset}_buf{buffer or 0}.png'
        plot_stream(plt, dataset, buffer, per_method, path)
        written.append(path)
        methods = [m for m in ('dynamos', 'msa') if m in per_method]
        if methods:
            path = folder / f'anytime_heatmap_{dataset}_buf{buffer or 0}.png'
            plot_heatmap(plt, dataset, buffer, per_method, methods, path)
            written.append(path)
    return written
