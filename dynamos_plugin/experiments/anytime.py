"""Accuracy along the stream (Mammoth's ``--eval_every``, patch 0030): the curve a run record holds under ``anytime``
(the ``dynamos-log`` lines of kind ``anytime``, as logged, one dict per evaluation point) and the three metrics the
report computes from it, per run and per cell with a 95 % t-interval over seeds, paired by seed against Dynamos:

- **area under the anytime-accuracy curve** (``auc``): the mean, over the evaluation points, of the accuracy on the
  classes seen so far (Koh et al., ICLR 2022, "A_AUC" with equally spaced points);
- **stability gap** (De Lange et al., ICLR 2023), per arrival of a new class (a training batch that holds a label the
  previous batch did not): the *earlier classes* are those trained on before the arrival and absent from the arriving
  batch; ``before``: their accuracy at the last point before the arrival; ``low``: their lowest accuracy at the points
  after it and before the next arrival; ``gap = before - low``, ``recovery = last - low`` (``last``: the last of those
  points). An arrival with no point before it, none after it, or no earlier class is left out. A run's ``gap`` and
  ``recovery`` are the means over its arrivals;
- **learning** (plasticity), per arrival with a point after it: the accuracy of the arriving classes at the last point
  before the next arrival (how well a new class is learnt while it is in the stream); a run's ``learning`` is the mean
  over its arrivals;
- **forgetting** per class: its best accuracy at a point at or after its first arrival minus its accuracy at the last
  point; a run's ``forgetting`` is the mean over the classes it was trained on.

Accuracies are in %, on the test subset of ``--eval_subset`` images; a group of classes' accuracy counts its images
(``class_accuracy * class_total``), so larger classes weigh more, as in Mammoth's own accuracy.
"""

from typing import Dict, List, Optional, Sequence

from dynamos_plugin.experiments.cells import ci95, mean_std, paired
from dynamos_plugin.experiments.significance import ALPHA, holm

#: the per-run metrics, in report order, with the words the report uses
METRICS = {
    'auc': 'area under the anytime-accuracy curve (%)',
    'gap': 'stability gap: drop of earlier-class accuracy after a new class arrives (points)',
    'recovery': 'recovery after the stability gap, up to the next arrival (points)',
    'learning': 'learning: accuracy of the arriving classes at the last point before the next arrival (%)',
    'forgetting': 'forgetting per class: best minus final accuracy (points, mean over classes)',
}


def _correct(point: dict, classes) -> tuple:
    """(correct, total) images of ``classes`` at one point."""
    correct = total = 0
    for c in classes:
        n = point['class_total'].get(str(c), 0)
        correct += round(point['class_accuracy'].get(str(c), 0.0) * n / 100.0)
        total += n
    return correct, total


def group_accuracy(point: dict, classes) -> Optional[float]:
    """The accuracy (%) of the images of ``classes`` at one point; None when the subset has none."""
    correct, total = _correct(point, classes)
    return 100.0 * correct / total if total else None


def auc(points: Sequence[dict]) -> Optional[float]:
    values = [p['seen_accuracy'] for p in points if p.get('seen_accuracy') is not None]
    return sum(values) / len(values) if values else None


def arrivals(points: Sequence[dict]) -> List[dict]:
    """Every arrival in the curve: its step, the new labels, the labels of the arriving batch."""
    return [{'step': a[0], 'new': list(a[1]), 'batch': list(a[2]) if len(a) > 2 else list(a[1])}
            for p in points for a in p.get('arrivals', [])]


def stability_gaps(points: Sequence[dict]) -> List[dict]:
    """Per arrival with earlier classes and points on both sides: step, earlier classes, before, low, last, gap,
    recovery."""
    events = arrivals(points)
    seen_before: set = set()
    out = []
    for i, event in enumerate(events):
        earlier = sorted(seen_before - set(event['batch']))
        seen_before |= set(event['new'])
        next_step = events[i + 1]['step'] if i + 1 < len(events) else float('inf')
        before = [p for p in points if p['step'] < event['step']]
        after = [p for p in points if event['step'] <= p['step'] < next_step]
        if not earlier or not before or not after:
            continue
        acc_before = group_accuracy(before[-1], earlier)
        acc_after = [group_accuracy(p, earlier) for p in after]
        if acc_before is None or None in acc_after:
            continue
        low = min(acc_after)
        out.append({'step': event['step'], 'earlier': earlier, 'before': acc_before, 'low': low,
                    'last': acc_after[-1], 'gap': acc_before - low, 'recovery': acc_after[-1] - low})
    return out


def learning(points: Sequence[dict]) -> List[dict]:
    """Per arrival with a point after it (and before the next arrival): step, the arriving classes, their accuracy
    at the last such point."""
    events = arrivals(points)
    out = []
    for i, event in enumerate(events):
        next_step = events[i + 1]['step'] if i + 1 < len(events) else float('inf')
        after = [p for p in points if event['step'] <= p['step'] < next_step]
        accuracy = group_accuracy(after[-1], event['new']) if after else None
        if accuracy is not None:
            out.append({'step': event['step'], 'new': event['new'], 'accuracy': accuracy})
    return out


def forgetting(points: Sequence[dict]) -> Dict[int, float]:
    """Per class trained on: best accuracy at a point at or after its first arrival minus its final accuracy."""
    first: Dict[int, int] = {}
    for event in arrivals(points):
        for c in event['new']:
            first.setdefault(c, event['step'])
    if not points:
        return {}
    final = points[-1]
    out = {}
    for c, step in sorted(first.items()):
        values = [p['class_accuracy'][str(c)] for p in points if p['step'] >= step and str(c) in p['class_accuracy']]
        if values:
            out[c] = max(values) - final['class_accuracy'][str(c)]
    return out


def run_metrics(points: Sequence[dict]) -> Dict[str, Optional[float]]:
    """The per-run metrics of :data:`METRICS` (None where the curve has none, e.g. no stability-gap event)."""
    gaps, forgot, learnt = stability_gaps(points), forgetting(points), learning(points)
    mean = lambda xs: sum(xs) / len(xs) if xs else None  # noqa: E731
    return {'auc': auc(points), 'gap': mean([g['gap'] for g in gaps]), 'recovery': mean([g['recovery'] for g in gaps]),
            'learning': mean([e['accuracy'] for e in learnt]), 'forgetting': mean(list(forgot.values()))}


def metric_cells(records: List[dict]) -> Dict[tuple, Dict[str, dict]]:
    """Per (dataset, method, buffer) and metric, over the ok records with a curve: mean, std, n, 95 % interval,
    seeds and the values by seed (the form :func:`~dynamos_plugin.experiments.cells.paired` takes)."""
    values: Dict[tuple, Dict[str, Dict[int, float]]] = {}
    for r in records:
        if r.get('status') != 'ok' or not r.get('anytime'):
            continue
        key = (r['dataset'], r['method'], r['buffer'])
        for name, value in run_metrics(r['anytime']).items():
            if value is not None:
                values.setdefault(key, {}).setdefault(name, {})[r['seed']] = value
    out: Dict[tuple, Dict[str, dict]] = {}
    for key, per_metric in values.items():
        for name, by_seed in per_metric.items():
            vs = [by_seed[s] for s in sorted(by_seed)]
            mean, std, n = mean_std(vs)
            out.setdefault(key, {})[name] = {'mean': mean, 'std': std, 'n': n, 'ci': ci95(vs),
                                             'seeds': sorted(by_seed), 'by_seed': by_seed}
    return out


def paired_against_dynamos(cells_: Dict[tuple, Dict[str, dict]]) -> List[dict]:
    """Dynamos minus every other method of the same dataset and buffer, per metric, paired by seed
    (:func:`~dynamos_plugin.experiments.cells.paired`), with the p-value Holm-corrected within each dataset and metric
    (``p_holm``, as the report does for the final accuracy) and the verdict after that correction: ``Dynamos higher`` /
    ``Dynamos lower`` when ``p_holm < 0.05``, else no detectable difference."""
    out = []
    for (dataset, method, buffer), per_metric in sorted(cells_.items(), key=lambda kv: str(kv[0])):
        dyn = cells_.get((dataset, 'dynamos', buffer))
        if method == 'dynamos' or not dyn:
            continue
        for name in METRICS:
            test = paired(dyn.get(name), per_metric.get(name))
            if test:  # "better"/"worse" of an accuracy would mislead for a gap or forgetting: higher/lower
                word = {'better': 'Dynamos higher', 'worse': 'Dynamos lower'}.get(test['verdict'], test['verdict'])
                out.append({'dataset': dataset, 'buffer': buffer, 'method': method, 'metric': name, **test,
                            'verdict': word})
    families: Dict[tuple, List[dict]] = {}
    for c in out:
        families.setdefault((c['dataset'], c['metric']), []).append(c)
    for family in families.values():
        for c, adjusted in zip(family, holm([c['p'] for c in family])):
            c['p_holm'] = adjusted
            if adjusted >= ALPHA:
                c['verdict'] = f'no detectable difference at {c["n"]} seeds'
    return out


def _fmt(cell: Optional[dict]) -> str:
    if not cell:
        return '-'
    ci = f' [{cell["ci"][0]:.2f}, {cell["ci"][1]:.2f}]' if cell.get('ci') else ''
    return f'{cell["mean"]:.2f}{ci} (n={cell["n"]})'


def markdown(records: List[dict]) -> str:
    """The report's page of the metrics along the stream ('' when no record has a curve)."""
    cells_ = metric_cells(records)
    if not cells_:
        return ''
    lines = ['# Accuracy along the stream (`--eval_every`)', '',
             'Per cell: mean over seeds, its 95 % t-interval, n. Metrics (see `dynamos_plugin/experiments/anytime.py`): '
             + '; '.join(f'**{k}**: {v}' for k, v in METRICS.items()) + '.', '',
             '| dataset | method | buffer | ' + ' | '.join(METRICS) + ' |', '|---|---|---|' + '---|' * len(METRICS)]
    for key in sorted(cells_, key=lambda k: (k[0], k[2] or 0, k[1] != 'dynamos', k[1])):
        lines.append(f'| {key[0]} | {key[1]} | {key[2]} | ' + ' | '.join(_fmt(cells_[key].get(m)) for m in METRICS) + ' |')
    comparisons = paired_against_dynamos(cells_)
    lines += ['', '## Dynamos minus each method, paired by seed', '',
              'Mean difference (Dynamos minus the method), its uncorrected 95 % t-interval, n common seeds, paired-t p, '
              'p Holm-corrected within each dataset and metric, and the verdict at corrected p < 0.05. For the gap and '
              'forgetting, higher is worse; for the area under the curve, recovery and learning, higher is better.', '',
              '| dataset | buffer | method | metric | Dynamos minus method | 95 % interval | n | p | p (Holm) | verdict |',
              '|---|---|---|---|---|---|---|---|---|---|']
    for c in comparisons:
        lines.append(f'| {c["dataset"]} | {c["buffer"]} | {c["method"]} | {c["metric"]} | {c["mean"]:+.2f} '
                     f'| [{c["ci"][0]:+.2f}, {c["ci"][1]:+.2f}] | {c["n"]} | {c["p"]:.3g} | {c["p_holm"]:.3g} '
                     f'| {c["verdict"]} |')
    if not comparisons:
        lines.append('| - | - | - | - | (no cell shares two seeds with Dynamos yet) | - | - | - | - | - |')
    return '\n'.join(lines) + '\n'
