"""The report, from the records alone: ``<results>/report/`` holds table1.md, table2.md, table_svhn.md
(mean ± std over seeds next to the paper; each also as ``.csv`` and as a LaTeX ``.tex`` tabular),
comparison.md (every method side by side, wall times) and ``plots/accuracy_vs_buffer_<dataset>.png``; for records
with a curve along the stream (``--eval_every``), anytime.md and its plots (:mod:`.anytime`, :mod:`.anytime_plots`).

A report of other results than the reference (a user's ``runs/results``) shows each cell beside the
reference's (the committed ``results/``): the number the reproduction published for it."""

import json
import os
from pathlib import Path
from typing import Dict, List, Optional

from dynamos_plugin.experiments import anytime
from dynamos_plugin.experiments.anytime_plots import write_anytime_plots
from dynamos_plugin.experiments.cells import cells, fmt_cell, paired, spread, table_keys
from dynamos_plugin.experiments.formats import table_csv, table_markdown, table_tex
from dynamos_plugin.experiments.grid import METHODS, TABLE_METHODS, TABLES
from dynamos_plugin.experiments.plots import write_plots
from dynamos_plugin.experiments.published import PAPER_CCGN
from dynamos_plugin.experiments.records import hardware, load_records
from dynamos_plugin.experiments.significance import ALPHA, EQUIVALENCE_MARGIN, by_seed_diffs, holm, paired_t, tost
from dynamos_plugin.experiments.svhn_timing import SVHN_TIMING
from dynamos_plugin.glue.paths import repo_relative

# the report: file, title and method order per table
REPORT_TABLES = {
    '2': ('table2.md', 'Table 2: class-incremental accuracy (%), Seq-MNIST',
          ('dynamos', 'msa', 'static', 'er', 'der', 'derpp', 'sgd')),
    '1': ('table1.md', 'Table 1: general continual learning, MNIST-360, accuracy (%)',
          ('dynamos', 'msa', 'static', 'sgd', 'er', 'der', 'derpp')),
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
                   'msa (Eq. 8, the paper\'s Table 1 baseline) and static (Eq. 8 with fixed random channel masks, '
                   'the static-sparsity control) are in both tables. ER, DER and DER++ use Mammoth\'s published '
                   'lr/alpha/beta for the nearest published buffer size, with Dynamos\' batch sizes and epochs (see '
                   '`dynamos_plugin/experiments/`).')


# method names as a paper's table writes them


def hardware_markdown(records: List[dict]) -> str:
    """Where the records were measured: one line per distinct machine, with its number of runs. A machine is told
    apart by its CPU's family, model and stepping and torch's CPU capability where the record has them (a VM's model
    name, e.g. "AMD EPYC", can stand for several CPUs)."""
    machines: Dict[tuple, int] = {}
    for r in records:
        hw = r.get('hardware', {})
        detail = ', '.join(hw[k] for k in ('cpu_id', 'cpu_capability') if hw.get(k))
        cpu = f"{hw.get('cpu')} ({detail})" if detail else hw.get('cpu')
        key = (cpu, hw.get('cores'), hw.get('gpu'), hw.get('torch'), r.get('threads'))
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
    lines = ['# All methods side by side', '', header, '| dataset | buffer | ' + ' | '.join(TABLE_METHODS) + ' |',
             '|---|---|' + '---|' * len(TABLE_METHODS)]
    for table in ('2', '1', 'svhn'):
        ds = TABLES[table]['dataset']
        for buffer in TABLES[table]['buffers']:
            row = [fmt_cell(all_cells.get((ds, m, buffer if METHODS[m].buffer else None))) for m in TABLE_METHODS]
            lines.append(f'| {ds} | {buffer} | ' + ' | '.join(row) + ' |')
    lines += ['', COMPARISON_NOTE, '', paired_markdown(all_cells), '', equivalence_markdown(all_cells), '',
              spread_markdown(all_cells), '', interaction_markdown(all_cells), '',
              '## Wall time per run', '',
              wall_time_markdown(records) or 'No records yet.']
    return '\n'.join(lines) + '\n'


#: the methods whose differences to every other method the comparison page gives, paired by seed
PAIRED_METHODS = ('dynamos',)
#: the baselines left out of each family of the Holm correction: SGD (no buffer) differs from every rehearsal
#: method by tens of points; its comparisons would only make the correction weaker. They keep their uncorrected
#: verdict, said as such
OUTSIDE_FAMILY = ('sgd',)
EVALUATIONS = ('protocol', 'recalibrated')


def _fmt_paired(p) -> str:
    if p is None:
        return '-'
    return f'{p["mean"]:+.2f} [{p["ci"][0]:+.2f}, {p["ci"][1]:+.2f}], n={p["n"]}: {p["verdict"]}'


def _fmt_p(p: float) -> str:
    return '<0.0001' if p < 1e-4 else f'{p:.4f}'


def _interval(ci) -> str:
    return f'[{ci[0]:+.2f}, {ci[1]:+.2f}]'


def _table_end(lines: List[str], rows: List[list], nothing: str, columns: int = 8) -> str:
    """``lines`` (a page section ending in a table's header) with the table's rows, or one row saying ``nothing``
    when there are none, as one string."""
    rows = rows or [['-'] * 4 + [nothing] + ['-'] * (columns - 5)]
    return '\n'.join(lines + ['| ' + ' | '.join(map(str, row)) + ' |' for row in rows])


def _p_equals(p: float) -> str:
    """``p=0.0123``, or ``p<0.0001``."""
    return 'p<0.0001' if p < 1e-4 else f'p={p:.4f}'


def paired_comparisons(all_cells: dict) -> List[dict]:
    """Every paired comparison of a method of ``PAIRED_METHODS`` with a baseline, per dataset, buffer and evaluation
    (``protocol``, ``recalibrated``), with its uncorrected paired t-test (:func:`cells.paired`) and, within its
    family (dataset x evaluation, the baselines of ``OUTSIDE_FAMILY`` left out), Holm's adjusted p-value and
    corrected verdict (``better`` / ``worse`` / ``no detectable difference``); outside the family ``holm_p`` is
    None and the verdict the uncorrected one."""
    found = []
    for table in ('2', '1', 'svhn'):
        ds = TABLES[table]['dataset']
        for buffer in TABLES[table]['buffers']:
            for method in PAIRED_METHODS:
                ours = all_cells.get((ds, method, buffer))
                for baseline in TABLE_METHODS:
                    if baseline in PAIRED_METHODS:
                        continue
                    theirs = all_cells.get((ds, baseline, buffer if METHODS[baseline].buffer else None))
                    for evaluation in EVALUATIONS:
                        a, b = (ours, theirs) if evaluation == 'protocol' else (
                            ours and ours.get('recal'), theirs and theirs.get('recal'))
                        test = paired(a, b)
                        if test is not None:
                            found.append({'dataset': ds, 'buffer': buffer, 'method': method, 'baseline': baseline,
                                          'evaluation': evaluation, **test})
    families: Dict[tuple, list] = {}
    for c in found:
        if c['baseline'] not in OUTSIDE_FAMILY:
            families.setdefault((c['dataset'], c['evaluation']), []).append(c)
    for c in found:
        c['holm_p'], c['holm'] = None, c['verdict']
    for family in families.values():
        for c, adjusted in zip(family, holm([c['p'] for c in family])):
            c['holm_p'] = adjusted
            c['holm'] = ('better' if c['mean'] > 0 else 'worse') if adjusted < ALPHA else 'no detectable difference'
    return found


def _fmt_holm(c: dict) -> str:
    if c['holm_p'] is None:
        return f'{c["holm"].split(" at ")[0]} (uncorrected: not in the family)'
    return f'{c["holm"]} (adjusted {_p_equals(c["holm_p"])})'


def paired_markdown(all_cells: dict) -> str:
    """Per dataset, buffer and baseline: Dynamos minus the baseline, paired by seed, for both evaluations, with its
    uncorrected interval and p-value and its Holm-corrected verdict within the family."""
    lines = ['## Paired by seed: is Dynamos better than each baseline?', '',
             'Dynamos minus the baseline over the seeds both cells have (the same seed gives both the same stream '
             'order and initialisation): mean difference, its 95 % t-interval and the paired t-test\'s two-sided '
             'p-value, each uncorrected for the other comparisons. The verdict is corrected: the comparisons of one '
             'dataset and one evaluation form a family (SGD left out of it: it has no buffer and trails every '
             'rehearsal method by tens of points), and Holm\'s step-down correction of the family\'s p-values '
             'keeps the chance of any false *better* / *worse* in it at 5 %; the adjusted p-value is given. '
             '*No detectable difference* means only that: the data do not tell the two apart at that number of '
             'seeds, which is not evidence that they are equal (for that, see the equivalence test below). '
             'Protocol: Mammoth\'s evaluation (what the paper reports); recalibrated: the same networks with '
             'BatchNorm statistics recomputed before testing (`--bn_recal_batches`).', '',
             '| dataset | buffer | baseline | n | protocol: difference [95 % CI] | p | Holm-corrected verdict '
             '| recalibrated BN: difference [95 % CI] | p | Holm-corrected verdict |',
             '|---|---|---|---|---|---|---|---|---|---|']
    comparisons = paired_comparisons(all_cells)
    by_key: Dict[tuple, dict] = {}
    for c in comparisons:
        by_key.setdefault((c['dataset'], c['buffer'], c['method'], c['baseline']), {})[c['evaluation']] = c
    for (ds, buffer, _, baseline), pair in by_key.items():
        row = [ds, str(buffer), baseline, '/'.join(sorted({str(c['n']) for c in pair.values()}))]
        for evaluation in EVALUATIONS:
            c = pair.get(evaluation)
            row += ([f'{c["mean"]:+.2f} [{c["ci"][0]:+.2f}, {c["ci"][1]:+.2f}]', _fmt_p(c['p']), _fmt_holm(c)]
                    if c else ['-', '-', '-'])
        lines.append('| ' + ' | '.join(row) + ' |')
    if not comparisons:
        lines.append('| - | - | - | - | no cell pair with two or more common seeds yet | - | - | - | - | - |')
        return '\n'.join(lines)
    lines += ['', 'Per family: how many comparisons exclude 0 on their own (where no method differs from another, about '
              'one in twenty would) and how many keep their verdict after Holm\'s correction.', '']
    families: Dict[tuple, list] = {}
    for c in comparisons:
        if c['holm_p'] is not None:
            families.setdefault((c['dataset'], c['evaluation']), []).append(c)
    for (ds, evaluation), family in families.items():
        n = len(family)
        raw = sum(c['p'] < ALPHA for c in family)
        kept = [f'{c["baseline"]} {c["buffer"]}' for c in family if c['holm_p'] < ALPHA]
        lines.append(f'- {ds}, {evaluation}: {n} comparisons (SGD excluded); {raw} exclude 0 uncorrected (about '
                     f'{n / 20:g} expected by chance alone), {len(kept)} after Holm\'s correction'
                     + (f' ({", ".join(kept)})' if kept else '') + '.')
    return '\n'.join(lines)


#: the static-sparsity control against Eq. 8, as an equivalence test (two one-sided tests), margin in points
EQUIVALENCE_PAIR = ('static', 'msa')


def equivalence_tests(all_cells: dict) -> List[dict]:
    """Static minus Eq. 8, paired by seed, per dataset, buffer and evaluation: the TOST of
    :func:`significance.tost` with the margin ``EQUIVALENCE_MARGIN``, beside the difference's 95 % interval."""
    found = []
    a_method, b_method = EQUIVALENCE_PAIR
    for table in ('2', '1', 'svhn'):
        ds = TABLES[table]['dataset']
        for buffer in TABLES[table]['buffers']:
            a, b = all_cells.get((ds, a_method, buffer)), all_cells.get((ds, b_method, buffer))
            for evaluation in EVALUATIONS:
                if evaluation == 'recalibrated':
                    a, b = a and a.get('recal'), b and b.get('recal')
                diffs = by_seed_diffs(a and a['by_seed'], b and b['by_seed'])
                if not diffs or len(diffs) < 2:
                    continue
                found.append({'dataset': ds, 'buffer': buffer, 'evaluation': evaluation,
                              'paired': paired_t(list(diffs.values())), **tost(list(diffs.values()))})
    return found


def _equivalence_word(e: dict) -> str:
    return (f'equivalent within ±{e["margin"]:g}' if e['equivalent']
            else f'not shown equivalent (the 90 % interval reaches past ±{e["margin"]:g})')


def equivalence_markdown(all_cells: dict) -> str:
    lines = ['## Static sparsity vs Eq. 8: an equivalence test', '',
             f'Does the static-sparsity control (fixed random channel masks) perform like the Eq. 8 baseline? '
             f'"No detectable difference" cannot say so; an equivalence test can. The margin was fixed before the '
             f'test was first run on these records (issue 26; `EQUIVALENCE_MARGIN` in '
             f'`dynamos_plugin/experiments/significance.py`): ±{EQUIVALENCE_MARGIN:g} accuracy points, at the five '
             f'seeds of each cell. Two one-sided paired t-tests (TOST) test static minus Eq. 8 against -'
             f'{EQUIVALENCE_MARGIN:g} and +{EQUIVALENCE_MARGIN:g}; the larger of their p-values is the test\'s, '
             f'and the two are *equivalent within ±{EQUIVALENCE_MARGIN:g}* when it is below 0.05, i.e. when the 90 % '
             f't-interval lies inside the margin. Not corrected across cells (each cell is its own claim; '
             f'correction would only make equivalence harder to show).', '',
             '| dataset | buffer | evaluation | n | static - Eq. 8 [95 % CI] | 90 % CI | p (TOST) | verdict |',
             '|---|---|---|---|---|---|---|---|']
    rows = [[e['dataset'], e['buffer'], e['evaluation'], e['n'], f'{e["mean"]:+.2f} {_interval(e["paired"]["ci"])}',
             _interval(e['ci90']), _fmt_p(e['p']), _equivalence_word(e)] for e in equivalence_tests(all_cells)]
    return _table_end(lines, rows, 'no static and Eq. 8 cells with two or more common seeds yet')


#: the BatchNorm-lift interaction: (method, baseline), the pair the hypothesis named first
INTERACTION_PAIRS = (('dynamos', 'msa'), ('dynamos', 'static'))
#: the one comparison the hypothesis was stated for (dataset, buffer, baseline)
INTERACTION_PRIMARY = ('mnist-360', 500, 'msa')


def lift_interactions(all_cells: dict) -> List[dict]:
    """Per dataset, buffer and pair of ``INTERACTION_PAIRS``: the method's BatchNorm lift (recalibrated minus
    protocol accuracy, paired by seed: the same network) minus the baseline's, paired by seed, as a paired t-test."""
    found = []
    for table in ('2', '1', 'svhn'):
        ds = TABLES[table]['dataset']
        for buffer in TABLES[table]['buffers']:
            lifts = {}
            for method in {m for pair in INTERACTION_PAIRS for m in pair}:
                cell = all_cells.get((ds, method, buffer))
                lifts[method] = by_seed_diffs(cell and cell.get('recal') and cell['recal']['by_seed'],
                                              cell and cell['by_seed'])
            for method, baseline in INTERACTION_PAIRS:
                diffs = by_seed_diffs(lifts[method], lifts[baseline])
                test = paired_t(list(diffs.values())) if diffs else None
                if test is not None:
                    found.append({'dataset': ds, 'buffer': buffer, 'method': method, 'baseline': baseline,
                                  'primary': (ds, buffer, baseline) == INTERACTION_PRIMARY,
                                  'seeds': sorted(diffs), **test})
    return found


def interaction_markdown(all_cells: dict) -> str:
    ds, buffer, baseline = INTERACTION_PRIMARY
    lines = ['## Does recalibrating BatchNorm lift Dynamos more than the baselines? (interaction)', '',
             f'Dynamos\' lift (recalibrated minus protocol accuracy of the same network) minus the baseline\'s lift, '
             f'paired by seed, with its 95 % t-interval and p-value. The hypothesis was only partly committed '
             f'before the runs: after seeds 0 and 1 it was written down that at {ds} buffer {buffer} recalibration '
             f'would lift Dynamos detectably and Eq. 8 and the static control not, before seeds 2-4 ran; testing '
             f'it as this interaction (a difference of lifts, not two separate verdicts) was decided afterwards '
             f'(issue 26). The row marked *primary* is that hypothesis; every other row is exploratory and '
             f'uncorrected.', '',
             '| dataset | buffer | Dynamos\' lift minus | n | difference [95 % CI] | p | |', '|---|---|---|---|---|---|---|']
    rows = [[c['dataset'], c['buffer'], f"{c['baseline']}'s", c['n'], f'{c["mean"]:+.2f} {_interval(c["ci"])}',
             _fmt_p(c['p']), f'{"primary" if c["primary"] else "exploratory"}: '
             + (('larger' if c['mean'] > 0 else 'smaller') if c['p'] < ALPHA else 'no detectable difference')]
            for c in lift_interactions(all_cells)]
    return _table_end(lines, rows, 'no two lifts with two or more common seeds yet', columns=7)


def _fmt_lift(p) -> str:
    """A paired recalibrated-minus-protocol difference: its verdict read as *higher* / *lower*."""
    words = {'better': 'higher', 'worse': 'lower'}
    return _fmt_paired(p if p is None else {**p, 'verdict': words.get(p['verdict'], p['verdict'])})


def spread_markdown(all_cells: dict) -> str:
    """Per cell with both evaluations on two or more seeds: the seed spread of the protocol evaluation beside the
    recalibrated one's (the same networks), and per dataset the pooled std (root mean variance) of those cells."""
    lines = ['## Seed spread: protocol vs recalibrated BatchNorm', '',
             'Over the seeds whose records have both evaluations of the same trained networks: sample std, range '
             '(max - min) and worst seed, protocol -> recalibrated. A spread that shrinks is spread that came from '
             'stale BatchNorm statistics at evaluation, not from what the networks learnt. The last column is the '
             'recalibrated accuracy minus the protocol one, paired by seed (the same network), with its 95 % '
             't-interval: *higher* / *lower* when the interval excludes 0.', '',
             '| dataset | buffer | method | n | std | range | worst seed | recalibrated - protocol |',
             '|---|---|---|---|---|---|---|---|']
    pooled: Dict[str, list] = {}
    for table in ('2', '1', 'svhn'):
        for ds, method, buffer in table_keys(table, TABLE_METHODS):
            cell = all_cells.get((ds, method, buffer))
            sp = spread(cell)
            if sp is None:
                continue
            p, r = sp['protocol'], sp['recal']
            pooled.setdefault(ds, []).append((p['std'], r['std']))
            lines.append(f'| {ds} | {buffer if buffer is not None else "-"} | {method} | {sp["n"]} | '
                         f'{p["std"]:.2f} -> {r["std"]:.2f} | {p["range"]:.2f} -> {r["range"]:.2f} | '
                         f'{p["min"]:.2f} -> {r["min"]:.2f} | {_fmt_lift(paired(cell.get("recal"), cell))} |')
    if not pooled:
        lines.append('| - | - | - | - | no cell with both evaluations on two or more seeds yet | - | - | - |')
    for ds, stds in pooled.items():
        before = (sum(a * a for a, _ in stds) / len(stds)) ** 0.5
        after = (sum(b * b for _, b in stds) / len(stds)) ** 0.5
        shrunk = sum(b < a for a, b in stds)
        lines.append(f'\n{ds}: the recalibrated std is smaller in {shrunk} of {len(stds)} cells; pooled std '
                     f'{before:.2f} -> {after:.2f}.')
    return '\n'.join(lines)


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
    stream_page = anytime.markdown(records)  # records with a curve (--eval_every): anytime.md and its plots
    if stream_page:
        (out / 'anytime.md').write_text(stream_page + '\n' + header)
        written += [out / 'anytime.md'] + write_anytime_plots(records, out / 'plots')
    return written + write_plots(all_cells, out / 'plots')


