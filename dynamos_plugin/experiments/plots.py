"""The report's plots: accuracy against buffer size per dataset, ours (mean over seeds with its 95 % interval)
beside the paper's numbers (mean ± std, dashed, drawn thick and on top), one colour per method in every plot; two
panels side by side, Mammoth's protocol evaluation and, where the records have it, the evaluation with
recalibrated BatchNorm statistics (half the series each); the y axis zoomed to the data and clipped at 100 %."""

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

#: the two panels: Mammoth's protocol evaluation, and the recalibrated one (patch 0015), where recorded
EVALUATIONS = ('protocol', 'recal')
PANEL_TITLES = {'protocol': 'as evaluated (protocol)', 'recal': 'BatchNorm statistics recalibrated'}


def _evaluation(cell, evaluation: str):
    """The statistics of one evaluation of a cell (None when the cell, or that evaluation, is missing)."""
    return cell if cell is None or evaluation == 'protocol' else cell.get('recal')


def _plot_ours(ax, ds: str, buffers, all_cells: dict, evaluation: str = 'protocol') -> Tuple[List[float], List[float]]:
    """Our cells of one evaluation: one line per method with a buffer, a horizontal band for one without; the values
    drawn (means and the ends of their error bars), of the methods with a buffer and of those without."""
    lines: List[float] = []
    flat: List[float] = []
    for method in TABLE_METHODS:
        colour = METHOD_COLOURS[method]
        if not METHODS[method].buffer:
            cell = _evaluation(all_cells.get((ds, method, None)), evaluation)
            if cell:
                ax.axhline(cell['mean'], color=colour, linestyle='-', linewidth=1.2,
                           label=f'{method} (no buffer, n={cell["n"]})')
                ax.axhspan(cell['mean'] - cell['std'], cell['mean'] + cell['std'], color=colour, alpha=0.15)
                flat += [cell['mean'] - cell['std'], cell['mean'] + cell['std']]
            continue
        pts = [(b, _evaluation(all_cells.get((ds, method, b)), evaluation)) for b in buffers]
        pts = [(b, c) for b, c in pts if c]
        if pts:
            ax.errorbar([b for b, _ in pts], [c['mean'] for _, c in pts], yerr=[_half_interval(c) for _, c in pts],
                        color=colour, capsize=3, label=method, marker='o', alpha=0.85)
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
                        color=METHOD_COLOURS[method], linestyle='--', linewidth=2.5, marker='X', markersize=9,
                        markeredgecolor='black', capsize=4, zorder=10, label=f'{method} (paper)')
            lines += [p[1] + sign * (p[2] or 0) for p in paper for sign in (-1, 1)]
    for method in (m for m in TABLE_METHODS if not METHODS[m].buffer and (ds, m, None) in PAPER):
        mean, std = PAPER[ds, method, None]
        ax.axhline(mean, color=METHOD_COLOURS[method], linestyle='--', alpha=0.8, label=f'{method} (paper)')
        flat += [mean - (std or 0), mean + (std or 0)]
    return lines, flat

#: the highest the accuracy axis goes: 100 % and a sliver, so that a mean at 100 stays visible
Y_TOP = 100.5


def y_limits(values: List[float]) -> Tuple[float, float]:
    """An accuracy axis zoomed to the values drawn (means and the ends of their error bars), with a margin of 5 % of
    their range (at least 1 point) on each side, clipped at :data:`Y_TOP` (an error bar past 100 % is cut)."""
    if not values:
        return 0.0, 100.0
    lo, hi = min(values), min(max(values), 100.0)
    margin = max(0.05 * (hi - lo), 1.0)
    return lo - margin, min(hi + margin, Y_TOP)

def split_axis(lines: List[float], flat: List[float]) -> bool:
    """Whether the methods without a buffer (SGD, far below) get a panel of their own under the others: when the
    gap between both is wider than half the range of the others, one axis would squeeze the others flat."""
    if not lines or not flat:
        return False
    return min(lines) - max(flat) > 0.5 * (max(lines) - min(lines))

def _draw(row, ds: str, buffers, all_cells: dict) -> Tuple[List[float], List[float], bool]:
    """Both evaluations, one per panel of ``row``; the values drawn in either (for a shared axis) and whether any
    of ours was."""
    lines: List[float] = []
    flat: List[float] = []
    ours = False
    for ax, evaluation in zip(row, EVALUATIONS):
        ours_lines, ours_flat = _plot_ours(ax, ds, buffers, all_cells, evaluation)
        paper_lines, paper_flat = _plot_paper(ax, ds, buffers)
        ax.grid(alpha=0.3)
        lines += ours_lines + paper_lines
        flat += ours_flat + paper_flat
        ours = ours or bool(ours_lines or ours_flat)
    return lines, flat, ours

def plot_accuracy_vs_buffer(plt, table: str, all_cells: dict, path: Path) -> None:
    """One line per method (mean over seeds, its 95 % interval as error bars; the recalibrated evaluation dotted), SGD
    as a horizontal band (mean ± std), the paper dashed (mean ± std); one
    colour per method (:data:`METHOD_COLOURS`); the accuracy axis zoomed to the data (:func:`y_limits`), with
    SGD in a narrow panel of its own when it lies far below the others (:func:`split_axis`)."""
    ds, buffers = TABLES[table]['dataset'], TABLES[table]['buffers']
    fig, axes = plt.subplots(1, 2, sharey=True, figsize=(12, 4.5), squeeze=False)
    lines, flat, ours = _draw(axes[0], ds, buffers, all_cells)
    if split_axis(lines, flat):  # a broken axis: the methods with a buffer above, SGD below
        plt.close(fig)
        fig, axes = plt.subplots(2, 2, sharex=True, sharey='row', figsize=(12, 4.5),
                                 gridspec_kw={'height_ratios': (4, 1)})
        for row in axes:
            _draw(row, ds, buffers, all_cells)
        axes[0][0].set_ylim(*y_limits(lines))
        axes[1][0].set_ylim(*y_limits(flat))
        marks = {'marker': [(-1, -0.5), (1, 0.5)], 'markersize': 10, 'linestyle': 'none', 'color': 'k', 'mec': 'k',
                 'mew': 1, 'clip_on': False}
        for top, low in zip(axes[0], axes[1]):
            top.spines['bottom'].set_visible(False)
            low.spines['top'].set_visible(False)
            top.tick_params(bottom=False)
            top.plot([0, 1], [0, 0], transform=top.transAxes, **marks)
            low.plot([0, 1], [1, 1], transform=low.transAxes, **marks)
    else:
        axes[0][0].set_ylim(*y_limits(lines + flat))
    for col, evaluation in enumerate(EVALUATIONS):
        axes[0][col].set_title(PANEL_TITLES[evaluation], fontsize=10)
        bottom = axes[-1][col]
        has_data = any(_evaluation(c, evaluation) for k, c in all_cells.items() if k[0] == ds)
        if not (ours and has_data):
            bottom.text(0.98, 0.03, 'no runs recorded yet', transform=bottom.transAxes, ha='right', va='bottom',
                        color='grey', bbox={'facecolor': 'white', 'edgecolor': 'none', 'alpha': 0.8})
        bottom.set_xscale('log')
        bottom.minorticks_off()
        bottom.set_xticks(buffers)
        bottom.set_xticklabels([str(b) for b in buffers])
        bottom.set_xlabel('buffer size')
    fig.supylabel(DATASETS[ds].accuracy.split(' (Mammoth')[0], fontsize=10)
    fig.suptitle(f'{ds}: final accuracy vs buffer size (mean and 95 % interval over seeds; the paper dashed)')
    handles = {}
    for ax in axes[0]:  # one legend for both panels
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    axes[0][-1].legend(handles.values(), handles.keys(), fontsize=8, loc='upper left', bbox_to_anchor=(1.01, 1.0),
                       borderaxespad=0)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
