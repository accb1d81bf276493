"""README.md's numbers, generated: every number the README quotes from the results lies in a block between
``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``, written here from the committed records
(``results/records/``), the Section 6 summary (``results/section6/summary.json``) and the benchmark files
(``results/benchmarks/*.json``). ``./run_experiments.sh --report`` (building the committed report) rewrites them;
``tests/unit/experiments/test_readme.py`` fails when the README's blocks differ from what this module writes.

Blocks: ``quick-start`` (what the first command gives), ``run-time`` (the grid's wall time), ``claims`` (the
paper's claims, one verdict each), ``status`` (the comparisons behind them), ``gap`` (the cells against the
paper), ``authors-code`` (the authors' code's anchor records, ``results/anchors/authors-code/``), ``speed`` (the step
benchmark and the whole run) and ``mutation`` (the mutation runs and their rechecks, ``results/benchmarks/mutation/``)."""

import json
import re
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, List, Optional

from dynamos_plugin.experiments import anytime
from dynamos_plugin.experiments.cells import ci95, cells, mean_std, paired
from dynamos_plugin.experiments.formats import NAMES
from dynamos_plugin.experiments.grid import TABLES
from dynamos_plugin.experiments.published import PAPER, PAPER_CCGN
from dynamos_plugin.experiments.records import load_records
from dynamos_plugin.experiments.report import (equivalence_tests, lift_interactions, paired_comparisons,
                                               INTERACTION_PRIMARY)
from dynamos_plugin.experiments.significance import ALPHA, EQUIVALENCE_MARGIN, paired_t
from dynamos_plugin.experiments.svhn_timing import SVHN_TIMING

MARKER = re.compile(r'(<!-- generated:([\w-]+) -->\n)(.*?)(<!-- /generated:\2 -->)', re.S)
SECTION6 = Path('section6') / 'summary.json'
BENCHMARK = Path('benchmarks') / 'benchmark.json'
WHOLE_RUN = Path('benchmarks') / 'whole_run.json'
MUTATION = Path('benchmarks') / 'mutation'
CPU_COST = Path('benchmarks') / 'cpu_cost.json'


def _ci(c: dict) -> str:
    return f'[{c["ci"][0]:+.2f}, {c["ci"][1]:+.2f}]'


def _seeds(seeds: List[int]) -> str:
    seeds = sorted(seeds)
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f'seeds {seeds[0]}-{seeds[-1]}'
    return 'seeds ' + ', '.join(map(str, seeds))


class Results:
    """The committed results, read once: the records' cells, the comparisons and the other files."""

    def __init__(self, results_dir: Path):
        self.dir = results_dir
        self.records = load_records(results_dir)
        self.cells = cells(self.records)
        self.comparisons = paired_comparisons(self.cells)
        self.equivalence = equivalence_tests(self.cells)
        self.interactions = lift_interactions(self.cells)

    def json(self, path: Path) -> Optional[dict]:
        full = self.dir / path
        return json.loads(full.read_text()) if full.exists() else None

    def comparison(self, ds: str, buffer: int, baseline: str, evaluation: str) -> Optional[dict]:
        for c in self.comparisons:
            if (c['dataset'], c['buffer'], c['baseline'], c['evaluation']) == (ds, buffer, baseline, evaluation):
                return c
        return None

    def cell(self, ds: str, method: str, buffer: Optional[int]) -> Optional[dict]:
        return self.cells.get((ds, method, buffer))


# ---- the blocks -----------------------------------------------------------------------------------

def quick_start(r: Results) -> str:
    runs = sorted((rec for rec in r.records if rec.get('status') == 'ok' and rec['dataset'] == 'seq-mnist'
                   and rec['method'] == 'dynamos' and rec['buffer'] == 500), key=lambda rec: rec['seed'])
    if not runs:
        return 'No reference run of this command is committed yet.'
    cell = r.cell('seq-mnist', 'dynamos', 500)
    task_il = sum(rec['task_il'] for rec in runs) / len(runs)
    threads = sorted({rec.get('threads') for rec in runs})
    walls = [rec['wall_s'] for rec in runs]
    return (f'What to expect from the first command: five tasks of one epoch each, then `Accuracy for 5 task(s): '
            f'[Class-IL]: ~{cell["mean"]:.0f} % [Task-IL]: ~{task_il:.1f} %`. The reference grid\'s {len(runs)} '
            f'seeded runs of it (`--seed {runs[0]["seed"]}` to `{runs[-1]["seed"]}`, '
            f'[records](results/records/), `seq-mnist__dynamos__buf500__seed*.json`) ended at Class-IL '
            + ' / '.join(f'{rec["accuracy"]:.2f}' for rec in runs) + ' % (mean '
            f'{cell["mean"]:.2f} ± {cell["std"]:.2f}; Task-IL ' + ' / '.join(f'{rec["task_il"]:.2f}' for rec in runs)
            + f' %); the paper reports {PAPER["seq-mnist", "dynamos", 500][0]:.2f} %. On this project\'s 2-core CPU '
            f'machine ({" / ".join(sorted({rec["hardware"]["cpu"] for rec in runs}))}) they took ' + ' / '.join(f'{w:.0f}' for w in walls) + f' s ({min(walls) / 60:.1f} to '
            f'{max(walls) / 60:.1f} min, the `wall_s` of those records) at {" or ".join(map(str, threads))} '
            f'thread(s) per run, two runs at a time (the grid\'s `-j 2`); without `OMP_NUM_THREADS`, Mammoth uses '
            f'two threads. A seed repeats a run to the last digit on the same machine only: another CPU\'s kernels '
            f'round differently, and over a run the difference grows into another run of the same seed. Two virtual '
            f'machines that both name their CPU "AMD EPYC" did not repeat each other\'s runs ([the stream '
            f'study](results/studies/mnist360-stream/README.md#hardware)), so from 2026-12-06 a record\'s `hardware` '
            f'also names the CPU\'s family, model and stepping and the instruction set torch dispatches to.')


def run_time(r: Results) -> str:
    ok = [rec for rec in r.records if rec.get('status') == 'ok']
    if not ok:
        return 'No reference records are committed yet.'
    per: Dict[tuple, List[float]] = {}
    for rec in ok:
        per.setdefault((rec['dataset'], rec['method']), []).append(rec['wall_s'])
    means = {key: sum(v) / len(v) / 60 for key, v in per.items()}
    fastest, slowest = min(means, key=means.get), max(means, key=means.get)
    name = {'seq-mnist': 'Seq-MNIST', 'mnist-360': 'MNIST-360', 'seq-svhn32': 'Seq-SVHN'}
    return (f'On this project\'s 2-core CPU machine (one thread per run, `-j 2`) a run takes {means[fastest]:.1f} '
            f'min ({name[fastest[0]]} {NAMES[fastest[1]]}) to {means[slowest]:.1f} min ({name[slowest[0]]} '
            f'{NAMES[slowest[1]]}) on average; the {len(ok)} committed runs took '
            f'{sum(rec["wall_s"] for rec in ok) / 3600:.1f} h of run time (the sum of the wall-time table in '
            f'[`comparison.md`](results/report/comparison.md); with `-j 2` two runs share the machine at a time); '
            f'each table states the wall time per run.')


def _gap_cells(r: Results, ds: str, method: str) -> List[tuple]:
    """(buffer, cell, paper mean, paper std, within 2 std) for each buffer the paper gives a number for."""
    out = []
    for buffer in (TABLES['1' if ds == 'mnist-360' else '2' if ds == 'seq-mnist' else 'svhn']['buffers']
                   if method != 'sgd' else (None,)):
        if (ds, method, buffer) not in PAPER:
            continue
        mean, std = PAPER[ds, method, buffer]
        cell = r.cell(ds, method, buffer)
        within = None
        if cell and cell['n'] > 1:
            spread = max(cell['std'], std or 0.0)
            within = abs(cell['mean'] - mean) <= 2 * spread
        out.append((buffer, cell, mean, std, within))
    return out


def _table_claim(r: Results, ds: str, method: str, table: str) -> Optional[str]:
    gaps = _gap_cells(r, ds, method)
    if not gaps:
        return None
    claim = f'{table}: {NAMES[method]} at ' + ' / '.join(f'{mean:.2f}' for _, _, mean, _, _ in gaps)
    if all(cell is None for _, cell, _, _, _ in gaps):
        return f'| {claim} | - | *not run* |'
    ours = '; '.join(
        (f'{b if b is not None else "-"}: {c["mean"]:.2f} [{c["ci"][0]:.2f}, {c["ci"][1]:.2f}], {_seeds(c["seeds"])}'
         if c and c['n'] > 1 else f'{b}: not run') for b, c, _, _, _ in gaps)
    missed = sum(w is False for *_, w in gaps)
    verdict = ('*reproduced*' if missed == 0 else
               f'*not reproduced* ({missed} of {len(gaps)} more than 2 std from the paper)')
    return f'| {claim} | {ours} | {verdict} |'


def _above_claim(r: Results, ds: str, baselines: tuple, what: str) -> str:
    buffers = TABLES['1' if ds == 'mnist-360' else '2']['buffers']
    parts, verdicts = [], []
    for baseline in baselines:
        found = [(b, r.comparison(ds, b, baseline, 'protocol')) for b in buffers]
        found = [(b, c) for b, c in found if c]
        if not found:
            continue
        verdicts += [c['holm'] for _, c in found]
        parts.append(f'{NAMES[baseline]}: ' + ' / '.join(f'{c["mean"]:+.2f} {_ci(c)}' for _, c in found)
                     + f' (n={found[0][1]["n"]}, Holm: ' + ' / '.join(c['holm'].replace('no detectable difference',
                                                                                       'none') for _, c in found) + ')')
    if not verdicts:
        return f'| {what} | - | *not run* |'
    if all(v == 'better' for v in verdicts):
        verdict = '*reproduced*'
    elif 'worse' in verdicts:
        verdict = f'*not reproduced*: reversed ({verdicts.count("worse")} of {len(verdicts)} detectably worse)'
    else:
        verdict = f'*not reproduced* ({verdicts.count("better")} of {len(verdicts)} detectably better)'
    return f'| {what} | {"; ".join(parts)} | {verdict} |'


def claims(r: Results) -> str:
    """The paper's claims, the reversed headline first."""
    lines = ['| claim (paper) | here: protocol evaluation, Dynamos minus baseline or mean, [95 % t-interval], seeds '
             '| verdict |', '|---|---|---|',
             _above_claim(r, 'mnist-360', ('msa',), 'Dynamos above its Eq. 8 baseline in general continual learning '
                                                   '(MNIST-360, Table 1, buffers 100 / 200 / 500)'),
             _above_claim(r, 'mnist-360', ('er', 'der', 'derpp'),
                          'Dynamos "outperforms previous baselines" in general continual learning: here ER / DER / '
                          'DER++ (not in the paper\'s tables; MNIST-360, buffers 100 / 200 / 500)')]
    for ds, table, methods in (('mnist-360', 'Table 1', ('dynamos', 'msa', 'sgd')),
                               ('seq-mnist', 'Table 2 (Seq-MNIST)', ('dynamos',))):
        lines += [row for row in (_table_claim(r, ds, m, table) for m in methods) if row]
    ccgn = [(b, r.cell('seq-mnist', 'dynamos', b), PAPER_CCGN.get(('seq-mnist', b))) for b in
            TABLES['2']['buffers']]
    above = [b for b, c, ccgn_mean in ccgn if c and c['ci'] and ccgn_mean and c['ci'][0] > ccgn_mean]
    ran = [b for b, c, _ in ccgn if c and c['ci']]
    verdict = ('*not run*' if not ran else '*reproduced* (each interval above CCGN\'s number)'
               if len(above) == len(ccgn) else f'*not reproduced* at {" / ".join(str(b) for b in ran if b not in above)} '
               f'(the interval reaches below CCGN\'s number)' + (f'; above it at {" / ".join(map(str, above))}'
                                                                   if above else ''))
    lines.append('| Table 2 (Seq-MNIST): Dynamos above CCGN (' + ' / '.join(f'{m:.2f}' for *_, m in ccgn)
                 + '; CCGN not re-run here, the paper\'s numbers) | ' + '; '.join(
                     f'{b}: {c["mean"]:.2f} [{c["ci"][0]:.2f}, {c["ci"][1]:.2f}]' for b, c, _ in ccgn if c and c['ci'])
                 + f' | {verdict} |')
    timing = r.json(SVHN_TIMING)
    svhn_time = ('70 epochs per task: about ' + (f'{timing["run_h"]:.0f} h per run, ' if timing else '')
                 + 'on 2 CPU cores, see [table_svhn.md](results/report/table_svhn.md)')
    svhn = [r.cell('seq-svhn32', m, b) for m in ('dynamos',) for b in TABLES['svhn']['buffers']]
    lines.append('| Table 2 (Seq-SVHN): Dynamos at ' + ' / '.join(
        f'{PAPER["seq-svhn32", "dynamos", b][0]:.2f}' for b in TABLES['svhn']['buffers'])
        + ' | ' + ('-' if not any(svhn) else 'see table_svhn.md') + ' | '
        + (f'*not run* ({svhn_time})' if not any(svhn) else 'see the table') + ' |')
    lines += section6_claims(r)
    return '\n'.join(lines)


def section6_claims(r: Results) -> List[str]:
    s = r.json(SECTION6)
    if s is None:
        return ['| Section 6 (Seq-MNIST buffer 500) | - | *not run* |']
    jsd, sp = s['jsd'], s['sparsity']
    macs = sp['gated_stage_macs_per_sample']
    keep = sp['mean_keep_ratio_per_agent'].values()
    seed = s['checkpoint_args']['seed']
    one = f'one checkpoint (seed {seed})'
    lowest = '-'.join(jsd['lowest_pair'])
    largest = '-'.join(jsd['largest_pair'])
    variability = s['trial_variability']
    varies = all(t['varying'] > 0 and t['always_on'] > 0 and t['always_off'] > 0 for t in variability)
    knn = s['tsne_clustering']['knn5_accuracy_embedding']
    return [
        '| Section 6: filters respond per class and per task, not uniformly (Fig. 3, 7) | class-dependent filters in '
        f'every gated layer ([analysis.md](results/section6/analysis.md)); {one} | *reproduced* |',
        f'| Section 6: the lowest class-pair JSD is 1-7, about 1/15 of the mean over pairs | lowest {lowest} '
        f'({jsd["lowest_jsd_x100"]:.2f} x100), 1/{jsd["mean_over_lowest"]:.1f} of the mean; {one} | '
        + ('*reproduced*' if lowest == '1-7' else '*not reproduced*') + ' |',
        f'| Section 6: 1-8 is the most disjoint pair, about 42x the lowest | largest {largest}, '
        f'{jsd["largest_over_lowest"]:.0f}x the lowest; {one} | '
        + ('*reproduced* (the pair; not the ratio)' if largest == '1-8' else '*not reproduced*') + ' |',
        f'| Section 6: attention vectors cluster by class (Fig. 5) | 5-NN accuracy {100 * knn:.1f} % in the t-SNE '
        f'embedding (chance: 10 %), silhouette {s["tsne_clustering"]["silhouette_embedding"]:.2f}; {one} | '
        + ('*reproduced*' if knn > 0.5 else '*not reproduced*') + ' |',
        f'| Section 6: sampled actions vary from trial to trial, some filters always on or off (Fig. 6) | varying '
        f'{100 * min(t["varying"] for t in variability):.0f}-{100 * max(t["varying"] for t in variability):.0f} % of '
        f'the last layer\'s filters over {len(variability)} images\' trials; {one} | '
        + ('*reproduced*' if varies else '*not reproduced*') + ' |',
        f'| Sparsity: the agents keep the target fraction {sp["target_keep_ratio"]:g} of the channels (Table 5) | '
        f'{min(keep):.3f}-{max(keep):.3f} per agent on the test set; {one} | '
        + ('*reproduced*' if max(abs(k - sp['target_keep_ratio']) for k in keep) <= 0.02
           else '*not reproduced* (above the target)') + ' |',
        f'| Compute saved (not claimed in the paper) | stage 2\'s convolutions {100 * macs["gated_over_dense"]:.1f} % '
        f'of the dense multiply-accumulates, {100 * macs["gated_plus_agents_over_dense"]:.1f} % with the agents; {one} '
        '| measured, '
        f'no paper number |',
    ]


def _pair_list(r: Results, ds: str, baseline: str, evaluation: str) -> str:
    found = [r.comparison(ds, b, baseline, evaluation) for b in TABLES['1' if ds == 'mnist-360' else '2']['buffers']]
    return ' / '.join(f'{c["mean"]:+.2f} {_ci(c)}' + (f' (*{c["holm"]}*)' if c['holm'] != 'no detectable difference'
                                                    else '') for c in found if c)


def _family_line(r: Results, ds: str, evaluation: str) -> str:
    family = [c for c in r.comparisons if (c['dataset'], c['evaluation']) == (ds, evaluation)
              and c['holm_p'] is not None]
    raw = sum(c['p'] < ALPHA for c in family)
    kept = [f'{NAMES[c["baseline"]]} {c["buffer"]}' for c in family if c['holm_p'] < ALPHA]
    return (f'{raw} of {len(family)} intervals exclude 0, {len(kept)} after Holm\'s correction'
            + (f' ({", ".join(kept)})' if kept else ''))


def status(r: Results) -> str:
    """The comparisons behind the claims, from comparison.md."""
    if not r.comparisons:
        return 'No paired comparison yet.'
    bullets = []
    gcl = ['msa', 'static']
    bullets.append(
        '- **MNIST-360: Dynamos is below its Eq. 8 baseline, the reverse of the paper\'s Table 1.** Dynamos minus '
        'Eq. 8 at buffers 100 / 200 / 500, as evaluated: ' + _pair_list(r, 'mnist-360', 'msa', 'protocol')
        + '; recalibrated: ' + _pair_list(r, 'mnist-360', 'msa', 'recalibrated') + '. Minus the static-sparsity '
        'control, as evaluated: ' + _pair_list(r, 'mnist-360', 'static', 'protocol') + '; recalibrated: '
        + _pair_list(r, 'mnist-360', 'static', 'recalibrated') + '. Verdicts in *italics* survive Holm\'s '
        'correction (family: the non-SGD comparisons of one dataset and evaluation; as evaluated, '
        + _family_line(r, 'mnist-360', 'protocol') + '; recalibrated, ' + _family_line(r, 'mnist-360', 'recalibrated')
        + '); the others show no detectable difference after correction.')
    rehearsal = [c for c in r.comparisons if c['dataset'] == 'mnist-360' and c['baseline'] in ('er', 'der', 'derpp')]
    if rehearsal:
        n = '/'.join(sorted({str(c['n']) for c in rehearsal}))
        kept = [f'{NAMES[c["baseline"]]} {c["buffer"]} {c["evaluation"]}' for c in rehearsal
                if c['holm'] != 'no detectable difference']
        bullets.append(
            f'- **MNIST-360 against ER / DER / DER++ (n={n} seeds).** Dynamos minus each, as evaluated: '
            + '; '.join(f'{NAMES[b]} ' + _pair_list(r, 'mnist-360', b, 'protocol') for b in ('er', 'der', 'derpp'))
            + '; recalibrated: ' + '; '.join(f'{NAMES[b]} ' + _pair_list(r, 'mnist-360', b, 'recalibrated')
                                             for b in ('er', 'der', 'derpp'))
            + f'. {sum(c["mean"] < 0 for c in rehearsal)} of {len(rehearsal)} differences are negative, '
            f'{sum(c["p"] < ALPHA for c in rehearsal)} intervals exclude 0 on their own, and after Holm\'s '
            f'correction ' + (f'{len(kept)} keep their verdict ({", ".join(kept)})' if kept else 'none keeps its '
                                                                                              'verdict') + '.')
    seq = '; '.join(f'{NAMES[b]} ' + _pair_list(r, 'seq-mnist', b, 'recalibrated')
                    for b in ('msa', 'static', 'er', 'der', 'derpp'))
    bullets.append(
        '- **Seq-MNIST: no detectable difference between Dynamos and any rehearsal method after correction.** '
        'Dynamos minus each, recalibrated, at buffers 500 / 1000 / 2000: ' + seq + '. Of these, '
        + _family_line(r, 'seq-mnist', 'recalibrated') + '; as evaluated, ' + _family_line(r, 'seq-mnist', 'protocol')
        + '. No detectable difference is not equivalence: these intervals are up to '
        f'{max(c["ci"][1] - c["ci"][0] for c in r.comparisons if c["dataset"] == "seq-mnist" and c["holm_p"] is not None):.1f}'
        ' points wide.')
    eq = [e for e in r.equivalence]
    shown = [f'{e["dataset"]} {e["buffer"]} {e["evaluation"]}' for e in eq if e['equivalent']]
    bullets.append(
        f'- **Static sparsity vs Eq. 8 (equivalence test, margin ±{EQUIVALENCE_MARGIN:g} points fixed before '
        f'the test, n={"/".join(sorted({str(e["n"]) for e in eq}))}).** Equivalent within the margin in '
        f'{len(shown)} of {len(eq)} cells ({", ".join(shown) or "none"}); in the others the 90 % interval reaches '
        'past the margin, so neither equivalence nor a difference is shown (e.g. MNIST-360 200: '
        + ', '.join(f'{e["evaluation"]} [{e["ci90"][0]:+.2f}, {e["ci90"][1]:+.2f}]' for e in eq
                    if (e['dataset'], e['buffer']) == ('mnist-360', 200)) + ').')
    ds, buffer, baseline = INTERACTION_PRIMARY
    primary = next((c for c in r.interactions if c['primary']), None)
    if primary:
        lift = {m: paired(r.cell(ds, m, buffer)['recal'], r.cell(ds, m, buffer)) for m in ('dynamos', baseline)}
        bullets.append(
            f'- **Stale BatchNorm statistics cost Dynamos more than Eq. 8 at MNIST-360 buffer {buffer}.** '
            f'Recalibrating lifts Dynamos by {lift["dynamos"]["mean"]:+.2f} {_ci(lift["dynamos"])} and Eq. 8 by '
            f'{lift[baseline]["mean"]:+.2f} {_ci(lift[baseline])}; the interaction (Dynamos\' lift minus Eq. 8\'s, '
            f'paired by seed, {_seeds(primary["seeds"])}) is {primary["mean"]:+.2f} {_ci(primary)} '
            f'(p={primary["p"]:.3f}). The hypothesis was only partly committed before the runs: that Dynamos\' lift '
            'would be detectable and the baselines\' not was written down after seeds 0-1 and before seeds 2-4 '
            'ran; the interaction test was chosen afterwards. At other buffers no interaction is detectable. '
            'Recalibrated, Dynamos is still below Eq. 8 (first bullet).')
    spread_lines = []
    for ds_name, ds in (('Seq-MNIST', 'seq-mnist'), ('MNIST-360', 'mnist-360')):
        pairs = [(c['std'], c['recal']['std']) for (d, _, _), c in r.cells.items()
                 if d == ds and c.get('recal') and c['n'] > 1 and c['recal']['n'] > 1]
        if pairs:
            before = (sum(a * a for a, _ in pairs) / len(pairs)) ** 0.5
            after = (sum(b * b for _, b in pairs) / len(pairs)) ** 0.5
            spread_lines.append(f'{ds_name}: smaller in {sum(b < a for a, b in pairs)} of {len(pairs)} cells, pooled '
                                f'std {before:.2f} -> {after:.2f}')
    bullets.append('- **Most of the seed spread is stale BatchNorm statistics.** Recalibrated, the std over seeds '
                   'shrinks: ' + '; '.join(spread_lines) + ' ([the seed-spread table](results/report/comparison.md)).')
    return '\n'.join(bullets)


def gap(r: Results) -> str:
    msa = _gap_cells(r, 'mnist-360', 'msa')
    dyn = _gap_cells(r, 'mnist-360', 'dynamos')
    sgd = _gap_cells(r, 'mnist-360', 'sgd')
    if not all(c for _, c, *_ in msa + dyn + sgd):
        return 'The MNIST-360 cells are not all run yet.'
    (_, sgd_cell, sgd_paper, sgd_std, sgd_within), = sgd
    n = sorted({c['n'] for _, c, *_ in msa + dyn})
    return (f'On MNIST-360 the Eq. 8 baseline is '
            + ('within two standard deviations of the paper at every buffer size'
               if all(w for *_, w in msa) else 'more than two standard deviations from the paper in some cell')
            + ' (' + ' / '.join(f'{c["mean"] - m:+.2f}' for _, c, m, _, _ in msa) + f', {"/".join(map(str, n))} '
            'seeds), but Dynamos is ' + f'{min(m - c["mean"] for _, c, m, _, _ in dyn):.0f} to '
            f'{max(m - c["mean"] for _, c, m, _, _ in dyn):.0f} points below the paper in every cell ('
            + ' / '.join(f'{c["mean"] - m:+.2f}' for _, c, m, _, _ in dyn) + ' in '
            '[`table1.md`](results/report/table1.md)) and below the baseline, and plain SGD is '
            f'{sgd_paper - sgd_cell["mean"]:.2f} points below the paper\'s {sgd_paper:.2f} ({sgd_cell["mean"]:.2f} ± '
            f'{sgd_cell["std"]:.2f}, ' + ('within' if sgd_within else 'more than') + ' two standard deviations; it '
            'only knows the stream\'s last two classes, so its number is how well it knows those two at the end).')


ANCHOR_RECORDS = Path('anchors') / 'authors-code' / 'records'
#: the anchor's cells in the order the README quotes them: (dataset, method, buffer), label
ANCHOR_CELLS = ((('seq-mnist', 'dynamos', 500), 'Seq-MNIST 500 Dynamos'),
                (('mnist-360', 'dynamos', 500), 'MNIST-360 500 Dynamos'),
                (('mnist-360', 'msa', 500), 'its Eq. 8 baseline'))


def authors_code(r: Results) -> str:
    """The authors' published code, from its committed anchor records only (``results/anchors/authors-code/``), beside
    the paper and this plugin's records of the same seeds (paired by seed number)."""
    folder = r.dir / ANCHOR_RECORDS
    records = [json.loads(p.read_text()) for p in sorted(folder.glob('*.json'))] if folder.is_dir() else []
    if not records:
        return 'The authors\' code has no committed anchor record yet (`benchmarks/authors_code.sh`).'
    parts, pairs = [], []
    for key, label in ANCHOR_CELLS:
        theirs = {rec['seed']: rec['accuracy'] for rec in records if (rec['dataset'], rec['method'], rec['buffer']) == key}
        if not theirs:
            continue
        mean, std, n = mean_std(list(theirs.values()))
        interval = ci95(list(theirs.values()))
        paper = PAPER.get(key, (None,))[0]
        parts.append(f'{label} {mean:.2f} ± {std:.2f}' + (f' [{interval[0]:.2f}, {interval[1]:.2f}]' if interval else '')
                     + (f' (paper {paper:.2f})' if paper is not None else ''))
        ours = {seed: rec['accuracy'] for seed in theirs for rec in r.records
                if (rec['dataset'], rec['method'], rec['buffer'], rec['seed']) == (*key, seed)
                and rec.get('status', 'ok') == 'ok'}
        diffs = [ours[s] - theirs[s] for s in sorted(theirs) if s in ours]
        test = paired_t(diffs)
        if test:
            pairs.append((label, test))
    seeds = sorted({rec['seed'] for rec in records})
    text = ('The authors\' published code (github NeurAI-Lab/DynamicContinualLearning, pinned; '
            '`benchmarks/authors_code.sh` runs it with its Table 5 arguments on the same data) gives, over '
            f'{_seeds(seeds)} ({len(records)} committed records in '
            '[`results/anchors/authors-code/`](results/anchors/authors-code/README.md)): ' + '; '.join(parts) + '.')
    if pairs:
        text += (' This plugin minus the authors\' code, paired by seed: ' + '; '.join(
            f'{label} {t["mean"]:+.2f} [{t["ci"][0]:+.2f}, {t["ci"][1]:+.2f}]' for label, t in pairs) + ' ('
            + ('no interval excludes 0: the two implementations are not distinguishable at these seeds'
               if all(t['ci'][0] <= 0 <= t['ci'][1] for _, t in pairs) else
               'an interval excludes 0: the implementations differ there') + ').')
    dyn, eq8 = ({rec['seed']: rec['accuracy'] for rec in records if (rec['dataset'], rec['method'], rec['buffer']) == key}
                for key in (('mnist-360', 'dynamos', 500), ('mnist-360', 'msa', 500)))
    gap = paired_t([dyn[s] - eq8[s] for s in sorted(dyn) if s in eq8])
    if gap:
        text += (f' In the authors\' code, too, Dynamos ends below its Eq. 8 baseline on MNIST-360 (buffer 500, paired by '
                 f'seed: {gap["mean"]:+.2f} [{gap["ci"][0]:+.2f}, {gap["ci"][1]:+.2f}], n={gap["n"]}'
                 + ('' if gap['ci'][1] < 0 else '; the interval includes 0 at these seeds') + ').')
    return text


def speed(r: Results) -> str:
    b, w = r.json(BENCHMARK), r.json(WHOLE_RUN)
    if b is None or w is None:
        return 'No benchmark is committed yet.'
    ms, xf, ev = b['median_step_ms'], b['x_floor'], b['eval_images_per_s']
    runs = w['runs']
    rows = [('`--memory_format contiguous`', 'NCHW, the layout before the speed options', 'nchw', 'no'),
            ('`--memory_format channels_last`', 'weights and activations channels-last', 'default',
             '**yes** (both backbones)'),
            ('`--compile 1`', '`torch.compile` of the backbone (on top of channels-last)', 'compile', 'no: opt-in')]
    table = ['| option | what it is | Dynamos step | x floor | on by default |', '|---|---|---:|---:|---|']
    table += [f'| {flag} | {what} | {ms[f"dynamos/{v}"]:.1f} ms | {xf[f"dynamos/{v}"]:.2f} | {default} |'
              for flag, what, v, default in rows]
    saved_cl = 1 - ms['dynamos/default'] / ms['dynamos/nchw']
    saved_compile = 1 - ms['dynamos/compile'] / ms['dynamos/default']
    return '\n'.join([
        f'Measured on this project\'s 2-core CPU at one thread (commit `{b["hardware"]["commit"][:7]}`, load '
        f'average {b["hardware"]["load_average_at_start"]:.2f} at the start), the floor is '
        f'{ms["floor/nchw"]:.1f} ms and a Dynamos step costs:', '', *table, '',
        f'Channels-last saves {100 * saved_cl:.0f} % of a step and speeds up evaluation ({ev["default"]["10"]:.0f} against '
        f'{ev["nchw"]["10"]:.0f} images/s at the default test batch of 10); `--compile 1` saves {100 * saved_compile:.0f} % '
        f'more per step after compiling. Evaluation does not get faster with bigger test batches here ('
        + ' / '.join(f'{ev["default"][k]:.0f}' for k in ('10', '50', '256')) + ' images/s at 10 / 50 / 256), so '
        f'Mammoth\'s test batch is left as it is. The quick-start command with `--seed 0` at one thread takes '
        f'{runs["default"]["wall_s"]:.0f} s from start to final accuracy ({runs["default"]["class_il"]:.2f} %) with '
        f'the defaults, {runs["nchw"]["wall_s"]:.0f} s with `--memory_format contiguous` '
        f'({runs["nchw"]["class_il"]:.2f} %) and {runs["compile"]["wall_s"]:.0f} s with `--compile 1` '
        f'({runs["compile"]["class_il"]:.2f} %, compiling from a cold cache, on a machine not fully idle): on a CPU '
        f'compiling costs more than it saves over one run ([benchmark.md](results/benchmarks/benchmark.md), '
        '`whole_run.json`).'])


def startup(r: Results) -> str:
    """What a command costs before training (``benchmarks/cpu_cost.py startup``)."""
    c = (r.json(CPU_COST) or {}).get('startup')
    if c is None:
        return 'No start-up measurement is committed yet (`benchmarks/cpu_cost.py startup`).'
    m = c['median_cpu_s']
    return (f'`--help` and an argument error take {m["help"]:.1f} and {m["argument_error"]:.1f} s of CPU here, of which '
            f'{m["import_torch"]:.1f} s is `import torch, torchvision` alone (median of {c["repeats"]}, one thread, '
            f'user + system time of the child process, at a load average of {c["load_average_at_start"]:.1f} on this '
            f'project\'s 2-core machine, commit `{c["commit"][:7]}`; `benchmarks/cpu_cost.py startup`, '
            '[cpu_cost.json](results/benchmarks/cpu_cost.json)).')


def anytime_cost(r: Results, here: str = 'results/benchmarks/') -> str:
    """The evaluation along the stream's share of a run (``benchmarks/cpu_cost.py anytime``). ``here``: the
    benchmarks folder as seen from the page the block is on."""
    c = (r.json(CPU_COST) or {}).get('anytime')
    if c is None:
        return 'The evaluation along the stream (`--eval_every`): its cost is not measured yet (`benchmarks/cpu_cost.py anytime`).'
    w, wo = c['with'], c['without']
    same = all(w.get(k) == wo.get(k) for k in ('accuracy', 'accuracy_recal', 'raw', 'raw_recal'))  # to the last digit
    cpu = f' ({c["cpu"]})' if c.get('cpu') else ''
    wall = (f' Wall time, which the load moves more: {w["wall_s"]:.0f} s against {wo["wall_s"]:.0f} s '
            f'({100 * (w["wall_s"] / wo["wall_s"] - 1):+.1f} %).' if 'wall_s' in w and 'wall_s' in wo else '')
    return (f'The evaluation along the stream (`--eval_every`, patch 0030) costs, in one MNIST-360 Dynamos run (buffer '
            f'500, seed 0, one thread, both runs at once on this project\'s 2-core machine{cpu}, load average '
            f'{c["load_average_at_start"]:.1f} at the start, commit `{c["commit"][:7]}`): '
            f'{w["cpu_s"]:.1f} CPU s with `--eval_every 100 --eval_subset 1000` against {wo["cpu_s"]:.1f} without, **{100 * c["extra_cpu"]:+.1f} %** (user + system time; '
            + (f'the same final accuracy, {w["accuracy"]:.2f} / recalibrated {w["accuracy_recal"]:.2f}' if same else
               f'**different final accuracies**, {w["accuracy"]:.2f} against {wo["accuracy"]:.2f}')
            + f'; `benchmarks/cpu_cost.py anytime`, [cpu_cost.json]({here}cpu_cost.json)); every 50 steps, '
            'about twice that.' + wall)


def mutation(r: Results, here: str = 'results/benchmarks/mutation/') -> str:
    """One row per mutation run (``<run>/mutation.json``, oldest first) with what its recheck (``recheck.json``
    beside it, if any) found of its survivors: killed by a test written since, still surviving (each explained as
    equivalent on the triage page), or no longer in the code. ``here``: the runs' folder as seen from the page."""
    runs = []
    for report in (r.dir / MUTATION).glob('*/mutation.json'):
        recheck = report.parent / 'recheck.json'
        runs.append((report.parent.name, json.loads(report.read_text()),
                     json.loads(recheck.read_text()) if recheck.exists() else None))
    if not runs:
        return 'No mutation run is committed yet.'
    rows = ['| run | modules | commit | wall time | mutants | killed in the run | survivors killed since by a test | '
            'equivalent (explained) | no longer in the code | rechecked at |',
            '|---|---|---|---|---:|---:|---:|---:|---:|---|']
    since = Counter()
    for name, m, rc in sorted(runs, key=lambda run: run[1]['date']):
        modules = ', '.join(f'`{module.removeprefix("dynamos_plugin/")}`' for module in m['per_module'])
        found = Counter(x['recheck'] for x in rc['mutants']) if rc else Counter()
        since.update(found)
        after = (f'{found["killed"]} | {found["survived"]} | {found["no longer applies"]} | `{rc["commit"]}`' if rc
                 else '- | - | - | not yet')
        rows.append(f'| [{name}/]({here}{name}/mutation.md) | {modules} | `{m["commit"][:7]}` | '
                    f'{m["exec_s"] / 60:.0f} min, {m["workers"]} worker{"s" * (m["workers"] > 1)} | {m["total"]} | '
                    f'{m["killed"]} ({100 * m["killed"] / m["total"]:.1f} %) | {after} |')
    if not any(rc for *_, rc in runs):
        return '\n'.join([*rows, '', 'No run is rechecked yet.'])
    survivors = sum(m['survived'] for _, m, rc in runs if rc)
    page = f'[the triage page]({here}README.md)' if here else 'below'
    text = (f'Of the {survivors} survivors of the rechecked runs, {since["killed"]} are killed by tests written since '
            f'and {since["survived"]} are equivalent (no input the code can receive tells them from the original), each '
            f'explained {"on " * bool(here)}{page}'
            + (f'; {gone} {"lies" if gone == 1 else "lie"} in lines rewritten since' if (gone := since['no longer applies'])
               else '') + '.')
    unchecked = [f'`{name}/` ({m["survived"]} survivors)' for name, m, rc in runs if not rc]
    if unchecked:
        text += f' Not rechecked, their survivors triaged by hand {"on " * bool(here)}{page}: {", ".join(unchecked)}.'
    return '\n'.join([*rows, '', text])


STREAM = Path('studies') / 'mnist360-stream'
#: the stream study's hypothesis H, as its page stated it before the runs: per metric of Dynamos minus Eq. 8, what H
#: expects, and the test of its uncorrected 95 % interval (lo, hi) that says "as expected"
STREAM_RULES = {
    'learning': ('within ±5, or the interval reaching into ±5', lambda lo, hi: hi >= -5 and lo <= 5),
    'forgetting': ('positive, interval above 0', lambda lo, hi: lo > 0),
    'gap': ('positive, interval above 0', lambda lo, hi: lo > 0),
    'auc': ('negative, interval below 0', lambda lo, hi: hi < 0),
}


def _p(p: float) -> str:
    """A p-value with two significant digits, or three where two would round it up to the level (0.0497 is not
    written 0.05 beside a verdict that it is below 0.05)."""
    text = f'{p:.2g}'
    return f'{p:.3g}' if p < ALPHA <= float(text) else text


def stream_verdicts(r: Results) -> str:
    """The stream study's table (its page): Dynamos minus Eq. 8 per dataset (MNIST-360, then Seq-MNIST), buffer and
    metric, paired by seed, from the study's records, read against the rule its page stated before the runs; "as
    expected" by the uncorrected interval, and whether it survives Holm's correction (over the comparisons of each
    dataset and metric, as report/anytime.md has them)."""
    records = load_records(r.dir / STREAM)
    comparisons = {(c['dataset'], c['buffer'], c['metric']): c
                   for c in anytime.paired_against_dynamos(anytime.metric_cells(records)) if c['method'] == 'msa'}
    if not comparisons:
        return 'No buffer has Dynamos and Eq. 8 at two common seeds yet.'
    rows = ['| dataset | buffer | metric | Dynamos minus Eq. 8 [95 %] | n | Holm p | H expects | as expected? |',
            '|---|---|---|---|---|---|---|---|']
    cells_in_order = sorted({(d, b) for d, b, _ in comparisons}, key=lambda k: (k[0] != 'mnist-360', k[0], -k[1]))
    for dataset, buffer in cells_in_order:
        for metric, (expects, holds) in STREAM_RULES.items():
            c = comparisons.get((dataset, buffer, metric))
            if c is None:
                continue
            lo, hi = c['ci']
            if not holds(lo, hi):
                answer = 'no' + (': no detectable difference' if lo <= 0 <= hi else '')
            elif metric == 'learning':
                answer = 'yes by the rule' + (f' (the point estimate is {c["mean"]:+.1f})' if abs(c['mean']) > 5 else '')
            else:
                answer = '**yes**' if c['p_holm'] < ALPHA else 'uncorrected only (not after Holm)'
            rows.append(f'| {dataset} | {buffer} | {metric} | {c["mean"]:+.2f} [{lo:+.2f}, {hi:+.2f}] | {c["n"]} | '
                        f'{_p(c["p_holm"])} | {expects} | {answer} |')
    return '\n'.join(rows)


#: the stream study's methods, in the order its page lists them
STREAM_METHODS = ('dynamos', 'msa', 'static', 'er', 'der', 'derpp', 'sgd')


def _mean_ci(c: Optional[dict]) -> str:
    if not c:
        return '-'
    return f'{c["mean"]:.2f}' + (f' [{c["ci"][0]:.2f}, {c["ci"][1]:.2f}]' if c.get('ci') else '')


def stream_methods(r: Results) -> str:
    """The stream study's cells, every method (its page): per dataset and buffer, the final accuracy and the metrics
    along the stream, mean over seeds [95 % t-interval], and Dynamos minus the method on the area under the curve
    and on forgetting, paired by seed, with the Holm-corrected p of report/anytime.md (its verdict when < 0.05)."""
    records = [x for x in load_records(r.dir / STREAM) if x.get('status') == 'ok' and x.get('anytime')]
    metric_cells = anytime.metric_cells(records)
    if not metric_cells:
        return 'No run of the study has a curve yet.'
    pairs = {(c['dataset'], c['buffer'], c['method'], c['metric']): c
             for c in anytime.paired_against_dynamos(metric_cells)}
    final: Dict[tuple, List[float]] = {}
    for x in records:
        final.setdefault((x['dataset'], x['method'], x['buffer']), []).append(x['accuracy'])

    def versus(key, metric):
        c = pairs.get((key[0], key[2], key[1], metric))
        if c is None:
            return '-'
        verdict = f', {c["verdict"]}' if c['p_holm'] < ALPHA else ''
        return f'{c["mean"]:+.2f} (Holm p {_p(c["p_holm"])}{verdict})'

    order = {m: i for i, m in enumerate(STREAM_METHODS)}
    keys = sorted(metric_cells, key=lambda k: (k[0] != 'mnist-360', k[0], -k[2] if k[2] else 1,
                                               order.get(k[1], len(order))))
    rows = ['| dataset | buffer | method | n | final accuracy | auc | learning | forgetting | gap | '
            'Dynamos minus it: auc | Dynamos minus it: forgetting |', '|' + '---|' * 11]
    for key in keys:
        dataset, method, buffer = key
        m = metric_cells[key]
        acc = final[key]
        mean, _, n = mean_std(acc)
        acc_text = _mean_ci({'mean': mean, 'ci': ci95(acc)})
        rows.append(f'| {dataset} | {buffer if buffer else "-"} | {NAMES.get(method, method)} | {n} | {acc_text} | '
                    f'{_mean_ci(m.get("auc"))} | {_mean_ci(m.get("learning"))} | {_mean_ci(m.get("forgetting"))} | '
                    f'{_mean_ci(m.get("gap"))} | {versus(key, "auc")} | {versus(key, "forgetting")} |')
    return '\n'.join(rows)


BLOCKS: Dict[str, Callable[[Results], str]] = {
    'quick-start': quick_start, 'run-time': run_time, 'claims': claims, 'status': status, 'gap': gap,
    'authors-code': authors_code, 'speed': speed, 'mutation': mutation, 'startup': startup,
    'anytime-cost': anytime_cost}


# pages under results/ with generated blocks of their own (paths relative to the results folder)
PAGES: Dict[Path, Dict[str, Callable[[Results], str]]] = {
    MUTATION / 'README.md': {'mutation': lambda r: mutation(r, here='')},
    STREAM / 'README.md': {'anytime-cost': lambda r: anytime_cost(r, here='../../benchmarks/'),
                           'stream-verdicts': stream_verdicts, 'stream-methods': stream_methods}}


def blocks(results_dir: Path, generators: Optional[Dict[str, Callable[[Results], str]]] = None) -> Dict[str, str]:
    r = Results(results_dir)
    return {name: make(r) for name, make in (BLOCKS if generators is None else generators).items()}


def render(text: str, generated: Dict[str, str]) -> str:
    """``text`` with each generated block's content replaced; a marker with no block of that name is an error."""
    def replace(match):
        name = match.group(2)
        if name not in generated:
            raise KeyError(f'README.md has a block "{name}" that no generator writes')
        return match.group(1) + generated[name] + '\n' + match.group(4)
    return MARKER.sub(replace, text)


def block_names(text: str) -> List[str]:
    return [m.group(2) for m in MARKER.finditer(text)]


def update_readme(readme: Path, results_dir: Path) -> bool:
    """Rewrites the generated blocks of ``readme`` and of the ``PAGES`` under ``results_dir`` from ``results_dir``;
    True when a file changed."""
    changed = False
    for path, generators in [(readme, None), *((results_dir / page, g) for page, g in PAGES.items())]:
        if not path.exists():
            continue
        text = path.read_text()
        new = render(text, blocks(results_dir, generators))
        if new != text:
            path.write_text(new)
            changed = True
    return changed
