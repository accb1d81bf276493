"""The report's plots: accuracy against buffer size per dataset, ours (mean over seeds with its 95 % interval,
solid; with recalibrated BatchNorm statistics, dotted, where the records have that evaluation) beside the paper's
numbers (mean ± std, dashed), one colour per method in every plot, the y axis zoomed to the data."""

from pathlib import Path
from typing import List, Tuple

from dynamos_plugin.experiments.grid import DATASETS, METHODS, TABLE_METHODS, TABLES
from dynamos_plugin.experiments.published import PAPER


def write_plots(all_cells: dict, folder: Path) -> List[Path]:
    """``folder/accuracy_vs_buffer_<dataset>.png`` for Seq-MNIST, MNIST-360 and, once it has records, Seq-SVHN."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in ('2', '1', 'svhn'):
        ds = TABLES[table]['dataset']
        if table == 'svhn' and not any(key[0] == ds for key in all_cells):
            continue  # Seq-SVHN: plotted only once it has records
        path = folder / f'accuracy_vs_buffer_{ds}.png'
        plot_accuracy_vs_buffer(plt, table, all_cells, path)
        written.append(path)
    return written

#: one colour per method, the same in every plot (our runs solid, the paper's numbers dashed, in the same colour)
METHOD_COLOURS = {'dynamos': 'tab:blue', 'msa': 'tab:purple', 'static': 'tab:brown', 'sgd': 'tab:gray',
                  'er': 'tab:orange', 'der': 'tab:green', 'derpp': 'tab:red'}

def _plot_ours(ax, ds: str, buffers, all_cells: dict) -> Tuple[List[float], List[float]]:
    """Our cells: one line per method with a buffer, a horizontal band for one without; the values drawn
    (means and the ends of their error bars), of the methods with a buffer and of those without."""
    lines: List[float] = []
    flat: List[float] = []
    for method in TABLE_METHODS:
        colour = METHOD_COLOURS[method]
        if not METHODS[method].buffer:
            cell = all_cells.get((ds, method, None))
            if cell:
                ax.axhline(cell['mean'], color=colour, linestyle='-', linewidth=1.2,
                           label=f'{method} (no buffer, n={cell["n"]})')
                ax.axhspan(cell['mean'] - cell['std'], cell['mean'] + cell['std'], color=colour, alpha=0.15)
                flat += [cell['mean'] - cell['std'], cell['mean'] + cell['std']]
            continue
        points = [(b, all_cells[ds, method, b]) for b in buffers if (ds, method, b) in all_cells]
        recal = [(b, c['recal']) for b, c in points if c.get('recal')]
        for pts, style, label in ((points, dict(marker='o'), method),
                                  (recal, dict(marker='s', linestyle=':', mfc='none'), f'{method} (recalibrated BN)')):
            if pts:
                ax.errorbar([b for b, _ in pts], [c['mean'] for _, c in pts], yerr=[_half_interval(c) for _, c in pts],
                            color=colour, capsize=3, label=label, **style)
                lines += [c['mean'] + sign * _half_interval(c) for _, c in pts for sign in (-1, 1)]
    return lines, flat


def _half_interval(cell: dict) -> float:
    """Half the width of the cell's 95 % interval of the mean (0 for one seed)."""
    return (cell['ci'][1] - cell['ci'][0]) / 2 if cell.get('ci') else 0.0

def _plot_paper(ax, ds: str, buffers) -> Tuple[List[float], List[float]]:
    """The paper's numbers, dashed, in the method's colour; the values drawn, as :func:`_plot_ours`."""
    lines: List[float] = []
    flat: List[float] = []
    for method in (m for m in TABLE_METHODS if METHODS[m].buffer):
        paper = [(b, *PAPER[ds, method, b]) for b in buffers if (ds, method, b) in PAPER]
        if paper:
            ax.errorbar([p[0] for p in paper], [p[1] for p in paper], yerr=[p[2] or 0 for p in paper],
                        color=METHOD_COLOURS[method], linestyle='--', marker='x', capsize=3, alpha=0.8,
                        label=f'{method} (paper)')
            lines += [p[1] + sign * (p[2] or 0) for p in paper for sign in (-1, 1)]
    for method in (m for m in TABLE_METHODS if not METHODS[m].buffer and (ds, m, None) in PAPER):
        mean, std = PAPER[ds, method, None]
        ax.axhline(mean, color=METHOD_COLOURS[method], linestyle='--', alpha=0.8, label=f'{method} (paper)')
        flat += [mean - (std or 0), mean + (std or 0)]
    return lines, flat

def y_limits(values: List[float]) -> Tuple[float, float]:
    """An accuracy axis zoomed to the values drawn (means and the ends of their error bars, which may pass 100),
    with a margin of 5 % of their range (at least 1 point) on each side."""
    if not values:
        return 0.0, 100.0
    lo, hi = min(values), max(values)
    margin = max(0.05 * (hi - lo), 1.0)
    return lo - margin, hi + margin

def split_axis(lines: List[float], flat: List[float]) -> bool:
    """Whether the methods without a buffer (SGD, far below) get a panel of their own under the others: when the
    gap between both is wider than half the range of the others, one axis would squeeze the others flat."""
    if not lines or not flat:
        return False
    return min(lines) - max(flat) > 0.5 * (max(lines) - min(lines))

def _draw(ax, ds: str, buffers, all_cells: dict) -> Tuple[List[float], List[float], bool]:
    ours_lines, ours_flat = _plot_ours(ax, ds, buffers, all_cells)
    paper_lines, paper_flat = _plot_paper(ax, ds, buffers)
    ax.grid(alpha=0.3)
    return ours_lines + paper_lines, ours_flat + paper_flat, bool(ours_lines or ours_flat)

def plot_accuracy_vs_buffer(plt, table: str, all_cells: dict, path: Path) -> None:
    """One line per method (mean over seeds, its 95 % interval as error bars; the recalibrated evaluation dotted), SGD
    as a horizontal band (mean ± std), the paper dashed (mean ± std); one
    colour per method (:data:`METHOD_COLOURS`); the accuracy axis zoomed to the data (:func:`y_limits`), with
    SGD in a narrow panel of its own when it lies far below the others (:func:`split_axis`)."""
    ds, buffers = TABLES[table]['dataset'], TABLES[table]['buffers']
    fig, ax = plt.subplots(figsize=(8.5, 4.5))
    lines, flat, ours = _draw(ax, ds, buffers, all_cells)
    axes = [ax]
    if split_axis(lines, flat):  # a broken axis: the methods with a buffer above, SGD below
        plt.close(fig)
        fig, axes = plt.subplots(2, 1, sharex=True, figsize=(8.5, 4.5), gridspec_kw={'height_ratios': (4, 1)})
        for a in axes:
            _draw(a, ds, buffers, all_cells)
        axes[0].set_ylim(*y_limits(lines))
        axes[1].set_ylim(*y_limits(flat))
        axes[0].spines['bottom'].set_visible(False)
        axes[1].spines['top'].set_visible(False)
        axes[0].tick_params(bottom=False)
        marks = {'marker': [(-1, -0.5), (1, 0.5)], 'markersize': 10, 'linestyle': 'none', 'color': 'k', 'mec': 'k',
                 'mew': 1, 'clip_on': False}
        axes[0].plot([0, 1], [0, 0], transform=axes[0].transAxes, **marks)
        axes[1].plot([0, 1], [1, 1], transform=axes[1].transAxes, **marks)
    else:
        ax.set_ylim(*y_limits(lines + flat))
    if not ours:
        axes[-1].text(0.98, 0.03, 'no runs recorded yet', transform=axes[-1].transAxes, ha='right', va='bottom',
                      color='grey', bbox={'facecolor': 'white', 'edgecolor': 'none', 'alpha': 0.8})
    bottom = axes[-1]
    bottom.set_xscale('log')
    bottom.minorticks_off()
    bottom.set_xticks(buffers)
    bottom.set_xticklabels([str(b) for b in buffers])
    bottom.set_xlabel('buffer size')
    label = DATASETS[ds].accuracy.split(' (Mammoth')[0]
    if len(axes) > 1:
        fig.supylabel(label, fontsize=10)
    else:
        ax.set_ylabel(label)
    axes[0].set_title(f'{ds}: final accuracy vs buffer size (mean and 95 % interval over seeds)')
    axes[0].legend(fontsize=8, loc='upper left', bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
