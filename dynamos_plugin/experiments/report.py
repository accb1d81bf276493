"""The report, from the records alone: ``<results>/report/`` holds table1.md, table2.md, table_svhn.md
(mean ± std over seeds next to the paper), comparison.md (every method side by side, wall times)
and ``plots/accuracy_vs_buffer_<dataset>.png``."""

import json
import math
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from dynamos_plugin.experiments.grid import DATASETS, METHODS, TABLES
from dynamos_plugin.experiments.published import PAPER, PAPER_CCGN
from dynamos_plugin.experiments.records import hardware, load_records
from dynamos_plugin.experiments.svhn_timing import SVHN_TIMING

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


def fmt_cell(cell: Optional[dict]) -> str:
    if not cell:
        return 'not run'
    return f'{cell["mean"]:.2f} ± {cell["std"]:.2f} (n={cell["n"]})' + (' †' if cell['extra_args'] else '')


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


def table_markdown(table: str, all_cells: dict, methods: Iterable[str]) -> str:
    spec = TABLES[table]
    ds = spec['dataset']
    lines = ['| method | buffer | ours (mean ± std, n seeds) | paper | ours - paper | wall time per run (mean) |',
             '|---|---|---|---|---|---|']
    for method in methods:
        for buffer in (spec['buffers'] if METHODS[method].buffer else (None,)):
            key = (ds, method, buffer)
            cell = all_cells.get(key)
            wall = f'{cell["wall_min"]:.1f} min' if cell else '-'
            lines.append(f'| {method} | {buffer or "-"} | {fmt_cell(cell)} | {fmt_paper(key)} | {diff(cell, key)} '
                         f'| {wall} |')
    return '\n'.join(lines)


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


def _table_page(table: str, results_dir: Path, header: str, notes: str, all_cells: dict) -> str:
    """One table's page: title, provenance, the table, the notes, the paper's CCGN, Seq-SVHN's timing."""
    fname, title, methods = REPORT_TABLES[table]
    text = f'# {title}\n\n{header}\n{table_markdown(table, all_cells, methods)}\n{notes}'
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


def report(results_dir: Path) -> List[Path]:
    """Builds table1.md, table2.md, table_svhn.md, comparison.md and plots/ in ``results_dir/report`` from the
    records of ``results_dir/records``; links ``results_dir/studies/README.md`` when there is one."""
    records = load_records(results_dir)
    all_cells = cells(records)
    out = results_dir / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    header = (f'{hardware_markdown(records)} Built by `./run_experiments.sh --report` from '
              f'{sum(r.get("status") == "ok" for r in records)} run records in `{results_dir.name}/records/`.\n')
    notes = NOTES
    if (results_dir / STUDIES_PAGE).exists():
        notes += ('\nWhy cells differ from the paper, and where the spread between seeds comes from: '
                  f'[{STUDIES_PAGE.as_posix()}](../{STUDIES_PAGE.as_posix()}).\n')
    written = []
    for table, (fname, _, _) in REPORT_TABLES.items():
        (out / fname).write_text(_table_page(table, results_dir, header, notes, all_cells))
        written.append(out / fname)
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


def _plot_ours(ax, ds: str, buffers, all_cells: dict) -> bool:
    """Our cells: one line per method with a buffer, a horizontal band for one without; whether any was drawn."""
    plotted = False
    for method in METHODS:
        if not METHODS[method].buffer:
            cell = all_cells.get((ds, method, None))
            if cell:
                ax.axhline(cell['mean'], color='grey', linestyle=':', label=f'{method} (no buffer, n={cell["n"]})')
                ax.axhspan(cell['mean'] - cell['std'], cell['mean'] + cell['std'], color='grey', alpha=0.15)
                plotted = True
            continue
        points = [(b, all_cells[ds, method, b]) for b in buffers if (ds, method, b) in all_cells]
        if points:
            ax.errorbar([b for b, _ in points], [c['mean'] for _, c in points], yerr=[c['std'] for _, c in points],
                        marker='o', capsize=3, label=method)
            plotted = True
    return plotted


def _plot_paper(ax, ds: str, buffers) -> None:
    for method, style in (('dynamos', 'k--'), ('msa', 'k:')):
        paper = [(b, *PAPER[ds, method, b]) for b in buffers if (ds, method, b) in PAPER]
        if paper:
            ax.errorbar([p[0] for p in paper], [p[1] for p in paper], yerr=[p[2] or 0 for p in paper], fmt=style,
                        marker='x', capsize=3, alpha=0.7, label=f'{method} (paper)')
    for method in (m for m in METHODS if not METHODS[m].buffer and (ds, m, None) in PAPER):
        ax.axhline(PAPER[ds, method, None][0], color='black', linestyle='-.', alpha=0.5, label=f'{method} (paper)')


def plot_accuracy_vs_buffer(plt, table: str, all_cells: dict, path: Path) -> None:
    """One line per method (mean ± std over seeds, error bars), SGD as a horizontal band, the paper dashed."""
    ds, buffers = TABLES[table]['dataset'], TABLES[table]['buffers']
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plotted = _plot_ours(ax, ds, buffers, all_cells)
    _plot_paper(ax, ds, buffers)
    if not plotted:
        ax.text(0.98, 0.03, 'no runs recorded yet', transform=ax.transAxes, ha='right', va='bottom', color='grey',
                bbox={'facecolor': 'white', 'edgecolor': 'none', 'alpha': 0.8})
    ax.set_xscale('log')
    ax.minorticks_off()
    ax.set_xticks(buffers)
    ax.set_xticklabels([str(b) for b in buffers])
    ax.set_xlabel('buffer size')
    ax.set_ylabel(DATASETS[ds].accuracy.split(' (Mammoth')[0])
    ax.set_title(f'{ds}: final accuracy vs buffer size (mean ± std over seeds)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='best')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
