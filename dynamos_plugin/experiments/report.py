"""The report, from the records alone: ``<results>/report/`` holds table1.md, table2.md, table_svhn.md
(mean ± std over seeds next to the paper; each also as ``.csv`` and as a LaTeX ``.tex`` tabular),
comparison.md (every method side by side, wall times) and ``plots/accuracy_vs_buffer_<dataset>.png``.

A report of other results than the reference (a user's ``runs/results``) shows each cell beside the
reference's (the committed ``results/``): the number the reproduction published for it."""

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from dynamos_plugin.experiments.grid import DATASETS, METHODS, TABLES
from dynamos_plugin.experiments.published import PAPER, PAPER_CCGN
from dynamos_plugin.experiments.records import hardware, load_records
from dynamos_plugin.experiments.svhn_timing import SVHN_TIMING
from dynamos_plugin.mammoth_glue import repo_relative

# the report: file, title and method order per table
REPORT_TABLES = {
    '2': ('table2.md', 'Table 2: class-incremental accuracy (%), Seq-MNIST', ('dynamos', 'er', 'der', 'derpp', 'sgd')),
    '1': ('table1.md', 'Table 1: general continual learning, MNIST-360, accuracy (%)',
          ('dynamos', 'msa', 'sgd', 'er', 'der', 'derpp')),
    'svhn': ('table_svhn.md', 'Table 2: class-incremental accuracy (%), Seq-SVHN (32x32)',
             ('dynamos', 'er', 'der', 'derpp', 'sgd')),
}
#: where the report goes, and where it finds the studies page, under the results folder
REPORT_DIR = 'report'
STUDIES_PAGE = Path('studies') / 'README.md'

NOTES = ('\nCells of two or more seeds differing from the paper by more than two standard deviations (the larger '
         "of ours and the paper's) are marked `> 2 std`; a single seed has no spread of its own and is not "
         'marked. Cells marked † include runs made with extra Mammoth arguments '
         '(`--extra-args`, e.g. a debug run): see their records.\n')
COMPARISON_NOTE = ('Accuracy (%): Class-IL for Seq-MNIST and Seq-SVHN, Mammoth\'s Domain-IL (general continual '
                   'learning) for MNIST-360; mean ± std over seeds. SGD has no buffer: its cell repeats in every row. '
                   'msa (Eq. 8) is part of Table 1 only. ER, DER and DER++ use Mammoth\'s published lr/alpha/beta for '
                   'the nearest published buffer size, with Dynamos\' batch sizes and epochs (see '
                   '`dynamos_plugin/experiments/`).')


def mean_std(values: List[float]) -> Tuple[Optional[float], Optional[float], int]:
    """Mean, sample standard deviation (n-1; 0 for one value) and n."""
    n = len(values)
    if n == 0:
        return None, None, 0
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std, n


def cells(records: List[dict]) -> Dict[tuple, dict]:
    """The ok records grouped by (dataset, method, buffer): mean, std, n, seeds, mean wall time, extra args."""
    grouped: Dict[tuple, list] = {}
    for r in records:
        if r.get('status') == 'ok':
            grouped.setdefault((r['dataset'], r['method'], r['buffer']), []).append(r)
    out = {}
    for key, rs in grouped.items():
        mean, std, n = mean_std([r['accuracy'] for r in rs])
        out[key] = {'mean': mean, 'std': std, 'n': n, 'seeds': sorted(r['seed'] for r in rs),
                    'wall_min': sum(r['wall_s'] for r in rs) / n / 60,
                    'extra_args': any(r.get('extra_args') for r in rs)}
    return out


def fmt_cell(cell: Optional[dict], pm: str = ' ± ', dagger: str = ' †') -> str:
    """``mean ± std (n=N)``; one seed has no spread: ``mean (n=1)``."""
    if not cell:
        return 'not run'
    spread = f'{pm}{cell["std"]:.2f}' if cell['n'] > 1 else ''
    return f'{cell["mean"]:.2f}{spread} (n={cell["n"]})' + (dagger if cell['extra_args'] else '')


def fmt_paper(key) -> str:
    if key not in PAPER:
        return '-'
    mean, std = PAPER[key]
    return f'{mean:.2f}' + (f' ± {std:.2f}' if std is not None else '')


def diff(cell: Optional[dict], key) -> str:
    """Ours minus the paper's mean; flagged when more than two standard deviations (the larger of both) apart."""
    if not cell or key not in PAPER:
        return '-'
    d = cell['mean'] - PAPER[key][0]
    spread = max(cell['std'] or 0.0, PAPER[key][1] or 0.0)
    flag = ' (> 2 std)' if cell['n'] > 1 and spread > 0 and abs(d) > 2 * spread else ''
    return f'{d:+.2f}{flag}'


def table_keys(table: str, methods: Iterable[str]) -> List[tuple]:
    """The cells of a table, in its row order: (dataset, method, buffer), SGD with buffer None."""
    spec = TABLES[table]
    return [(spec['dataset'], method, buffer) for method in methods
            for buffer in (spec['buffers'] if METHODS[method].buffer else (None,))]


def _wall(cell: Optional[dict]) -> str:
    return f'{cell["wall_min"]:.1f} min' if cell else '-'


def table_markdown(table: str, all_cells: dict, methods: Iterable[str], reference: Optional[dict] = None) -> str:
    """The table as Markdown; with ``reference`` (the reference results' cells), a column of those beside ours."""
    ref_head = ' reference |' if reference is not None else ''
    lines = [f'| method | buffer | ours (mean ± std, n seeds) |{ref_head} paper | ours - paper '
             f'| wall time per run (mean) |',
             '|---|---|---|' + ('---|' if reference is not None else '') + '---|---|---|']
    for key in table_keys(table, methods):
        _, method, buffer = key
        cell = all_cells.get(key)
        ref = f' {fmt_cell(reference.get(key))} |' if reference is not None else ''
        lines.append(f'| {method} | {buffer or "-"} | {fmt_cell(cell)} |{ref} {fmt_paper(key)} | {diff(cell, key)} '
                     f'| {_wall(cell)} |')
    return '\n'.join(lines)


CSV_FIELDS = ('dataset', 'method', 'buffer', 'n', 'seeds', 'mean', 'std', 'paper_mean', 'paper_std', 'ours_minus_paper',
              'wall_min', 'extra_args')
REFERENCE_FIELDS = ('reference_n', 'reference_mean', 'reference_std')


def table_csv(table: str, all_cells: dict, methods: Iterable[str], reference: Optional[dict] = None) -> str:
    """The table as CSV, one row per cell, unrounded but for 4 decimals; an empty field where there is no value
    (a cell not run, the std of a single seed, a paper number the paper does not give)."""
    def num(value):
        return '' if value is None else round(value, 4)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(CSV_FIELDS + (REFERENCE_FIELDS if reference is not None else ()))
    for key in table_keys(table, methods):
        ds, method, buffer = key
        cell = all_cells.get(key) or {}
        n = cell.get('n', 0)
        paper_mean, paper_std = PAPER.get(key, (None, None))
        row = [ds, method, '' if buffer is None else buffer, n, ' '.join(map(str, cell.get('seeds', []))),
               num(cell.get('mean')), num(cell.get('std') if n > 1 else None), num(paper_mean), num(paper_std),
               num(cell['mean'] - paper_mean if cell and paper_mean is not None else None),
               num(cell.get('wall_min')), int(cell.get('extra_args', False)) if cell else '']
        if reference is not None:
            ref = reference.get(key) or {}
            row += [ref.get('n', 0), num(ref.get('mean')), num(ref.get('std') if ref.get('n', 0) > 1 else None)]
        writer.writerow(row)
    return out.getvalue()


# method names as a paper's table writes them
TEX_NAMES = {'dynamos': 'Dynamos', 'msa': 'MSA (Eq.~8)', 'sgd': 'SGD', 'er': 'ER', 'der': 'DER', 'derpp': 'DER++'}


def _tex_cell(cell: Optional[dict]) -> str:
    return fmt_cell(cell, pm=' $\\pm$ ', dagger='$^\\dagger$')


def _tex_paper(key) -> str:
    return fmt_paper(key).replace(' ± ', ' $\\pm$ ') if key in PAPER else '--'


def _tex_diff(cell: Optional[dict], key) -> str:
    text = diff(cell, key)
    if text == '-':
        return '--'
    number, _, flag = text.partition(' ')
    return f'${number}$' + (' ($>$ 2 std)' if flag else '')


def table_tex(table: str, title: str, source: str, all_cells: dict, methods: Iterable[str],
              reference: Optional[dict] = None) -> str:
    """The table as a LaTeX tabular with booktabs rules (``\\usepackage{booktabs}``), mean $\\pm$ std; a method's
    name on its first row only."""
    columns = ['Method', 'Buffer', 'Ours'] + (['Reference'] if reference is not None else []) + [
        'Paper', 'Ours $-$ paper', 'Wall time per run']
    lines = [f'% {title}', f'% Built by ./run_experiments.sh --report from {source}; needs \\usepackage{{booktabs}}',
             '\\begin{tabular}{ll' + 'r' * (len(columns) - 2) + '}', '\\toprule', ' & '.join(columns) + ' \\\\',
             '\\midrule']
    previous = None
    for key in table_keys(table, methods):
        _, method, buffer = key
        cell = all_cells.get(key)
        row = [TEX_NAMES.get(method, method) if method != previous else '', str(buffer or '--'), _tex_cell(cell)]
        if reference is not None:
            row.append(_tex_cell(reference.get(key)))
        row += [_tex_paper(key), _tex_diff(cell, key), _wall(cell).replace('-', '--')]
        lines.append(' & '.join(row) + ' \\\\')
        previous = method
    lines += ['\\bottomrule', '\\end{tabular}']
    return '\n'.join(lines) + '\n'


def hardware_markdown(records: List[dict]) -> str:
    """Where the records were measured: one line per distinct machine, with its number of runs."""
    machines: Dict[tuple, int] = {}
    for r in records:
        hw = r.get('hardware', {})
        key = (hw.get('cpu'), hw.get('cores'), hw.get('gpu'), hw.get('torch'), r.get('threads'))
        machines[key] = machines.get(key, 0) + 1
    if not machines:
        hw = hardware()
        return (f'No records yet. This machine: {hw["cpu"]}, {hw["cores"]} cores, '
                f'{hw["gpu"] or "no GPU"}, torch {hw["torch"]}.')
    return 'Measured on: ' + '; '.join(
        f'{cpu}, {cores} cores, {gpu or "CPU only"}, torch {torch}, {threads} thread(s) per run ({n} runs)'
        for (cpu, cores, gpu, torch, threads), n in sorted(machines.items(), key=lambda kv: -kv[1])) + '.'


def wall_time_markdown(records: List[dict]) -> str:
    """Mean wall time per run of each method and dataset."""
    per: Dict[tuple, List[float]] = {}
    for r in records:
        if r.get('status') == 'ok':
            per.setdefault((r['dataset'], r['method']), []).append(r['wall_s'])
    if not per:
        return ''
    lines = ['| dataset | method | runs | wall time per run (mean) | total |', '|---|---|---|---|---|']
    for (ds, method), walls in sorted(per.items()):
        lines.append(f'| {ds} | {method} | {len(walls)} | {sum(walls) / len(walls) / 60:.1f} min '
                     f'| {sum(walls) / 3600:.2f} h |')
    return '\n'.join(lines)


def svhn_note(results_dir: Path) -> str:
    path = results_dir / SVHN_TIMING
    if not path.exists():
        return ('\nSeq-SVHN was not run here (`./run_experiments.sh --measure-svhn-epoch` times one epoch and '
                'projects the grid).\n')
    m = json.loads(path.read_text())
    return (f'\nSeq-SVHN was not run here. One epoch of task 1 of Dynamos ({m["steps"]} steps of batch 16 on an '
            f'SVHN-sized synthetic set of {m["n_train"]} training images) took {m["epoch_s"]:.0f} s on this machine; '
            f'a run (70 epochs x 5 tasks) would take about {m["run_h"]:.1f} h and the grid ({m["grid_runs"]} runs) '
            f'about {m["grid_days"]:.1f} days on one such machine ({m.get("conditions", "")}).\n')


def _table_page(table: str, results_dir: Path, header: str, notes: str, all_cells: dict,
                reference: Optional[dict] = None) -> str:
    """One table's page: title, provenance, the table, the notes, the paper's CCGN, Seq-SVHN's timing."""
    fname, title, methods = REPORT_TABLES[table]
    text = f'# {title}\n\n{header}\n{table_markdown(table, all_cells, methods, reference)}\n{notes}'
    ds = TABLES[table]['dataset']
    ccgn = [f'{b}: {PAPER_CCGN[ds, b]:.2f}' for b in TABLES[table]['buffers'] if (ds, b) in PAPER_CCGN]
    if ccgn:
        text += f'\nFor context, the paper\'s CCGN (not re-run here), by buffer size: {", ".join(ccgn)}.\n'
    if table == 'svhn':
        text += svhn_note(results_dir)
    return text


def _comparison_page(header: str, all_cells: dict, records: List[dict]) -> str:
    lines = ['# All methods side by side', '', header, '| dataset | buffer | ' + ' | '.join(METHODS) + ' |',
             '|---|---|' + '---|' * len(METHODS)]
    for table in ('2', '1', 'svhn'):
        ds = TABLES[table]['dataset']
        for buffer in TABLES[table]['buffers']:
            row = [fmt_cell(all_cells.get((ds, m, buffer if METHODS[m].buffer else None))) for m in METHODS]
            lines.append(f'| {ds} | {buffer} | ' + ' | '.join(row) + ' |')
    lines += ['', COMPARISON_NOTE, '', '## Wall time per run', '', wall_time_markdown(records) or 'No records yet.']
    return '\n'.join(lines) + '\n'


def _reference_note(out: Path, reference_dir: Path, n_records: int, fname: str) -> str:
    page = Path(os.path.relpath(reference_dir / REPORT_DIR / fname, out)).as_posix()
    return (f'\nThe *reference* column is the same cell in the reference results, '
            f'`{repo_relative(reference_dir)}/records/` '
            f'({n_records} run records; [their report]({page})): what this repository published for it.\n')


def report(results_dir: Path, reference_dir: Optional[Path] = None) -> List[Path]:
    """Builds table1.md, table2.md, table_svhn.md (each also as .csv and .tex), comparison.md and plots/ in
    ``results_dir/report`` from the records of ``results_dir/records``; links ``results_dir/studies/README.md``
    when there is one. With ``reference_dir`` (the committed ``results/``, for a user's report), each table
    shows the reference's cell beside ours."""
    records = load_records(results_dir)
    all_cells = cells(records)
    reference_records = load_records(reference_dir) if reference_dir is not None else None
    reference = cells(reference_records) if reference_records is not None else None
    out = results_dir / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    source = f'{sum(r.get("status") == "ok" for r in records)} run records in `{repo_relative(results_dir)}/records/`'
    header = f'{hardware_markdown(records)} Built by `./run_experiments.sh --report` from {source}.\n'
    notes = NOTES
    if (results_dir / STUDIES_PAGE).exists():
        notes += ('\nWhy cells differ from the paper, and where the spread between seeds comes from: '
                  f'[{STUDIES_PAGE.as_posix()}](../{STUDIES_PAGE.as_posix()}).\n')
    written = []
    for table, (fname, title, methods) in REPORT_TABLES.items():
        page_notes = notes
        if reference is not None:
            n_ref = sum(r.get('status') == 'ok' for r in reference_records)
            page_notes += _reference_note(out, reference_dir, n_ref, fname)
        (out / fname).write_text(_table_page(table, results_dir, header, page_notes, all_cells, reference))
        stem = Path(fname).stem
        (out / f'{stem}.csv').write_text(table_csv(table, all_cells, methods, reference))
        (out / f'{stem}.tex').write_text(table_tex(table, title, source.replace('`', ''), all_cells, methods,
                                                   reference))
        written += [out / fname, out / f'{stem}.csv', out / f'{stem}.tex']
    (out / 'comparison.md').write_text(_comparison_page(header, all_cells, records))
    written.append(out / 'comparison.md')
    return written + write_plots(all_cells, out / 'plots')


# =============================================================================================
# Plots
# =============================================================================================

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
METHOD_COLOURS = {'dynamos': 'tab:blue', 'msa': 'tab:purple', 'sgd': 'tab:gray', 'er': 'tab:orange',
                  'der': 'tab:green', 'derpp': 'tab:red'}


def _plot_ours(ax, ds: str, buffers, all_cells: dict) -> Tuple[List[float], List[float]]:
    """Our cells: one line per method with a buffer, a horizontal band for one without; the values drawn
    (means and the ends of their error bars), of the methods with a buffer and of those without."""
    lines: List[float] = []
    flat: List[float] = []
    for method in METHODS:
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
        if points:
            ax.errorbar([b for b, _ in points], [c['mean'] for _, c in points], yerr=[c['std'] for _, c in points],
                        color=colour, marker='o', capsize=3, label=method)
            lines += [c['mean'] + sign * c['std'] for _, c in points for sign in (-1, 1)]
    return lines, flat


def _plot_paper(ax, ds: str, buffers) -> Tuple[List[float], List[float]]:
    """The paper's numbers, dashed, in the method's colour; the values drawn, as :func:`_plot_ours`."""
    lines: List[float] = []
    flat: List[float] = []
    for method in (m for m in METHODS if METHODS[m].buffer):
        paper = [(b, *PAPER[ds, method, b]) for b in buffers if (ds, method, b) in PAPER]
        if paper:
            ax.errorbar([p[0] for p in paper], [p[1] for p in paper], yerr=[p[2] or 0 for p in paper],
                        color=METHOD_COLOURS[method], linestyle='--', marker='x', capsize=3, alpha=0.8,
                        label=f'{method} (paper)')
            lines += [p[1] + sign * (p[2] or 0) for p in paper for sign in (-1, 1)]
    for method in (m for m in METHODS if not METHODS[m].buffer and (ds, m, None) in PAPER):
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
    """One line per method (mean ± std over seeds, error bars), SGD as a horizontal band, the paper dashed; one
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
    axes[0].set_title(f'{ds}: final accuracy vs buffer size (mean ± std over seeds)')
    axes[0].legend(fontsize=8, loc='upper left', bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
