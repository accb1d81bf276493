"""The cells of the report: records grouped by (dataset, method, buffer), their mean ± std over seeds with a 95 %
t-interval, for Mammoth's protocol evaluation and for the evaluation with recalibrated BatchNorm statistics
(``accuracy_recal``, patch 0015), and the paper's number and our difference to it, formatted as every table format
shows them; and the differences between two methods paired by seed (:func:`paired`)."""

import math
from typing import Dict, Iterable, List, Optional, Tuple

from dynamos_plugin.experiments.grid import METHODS, TABLES
from dynamos_plugin.experiments.published import PAPER
from dynamos_plugin.experiments.significance import ALPHA, paired_t


def mean_std(values: List[float]) -> Tuple[Optional[float], Optional[float], int]:
    """Mean, sample standard deviation (n-1; 0 for one value) and n."""
    n = len(values)
    if n == 0:
        return None, None, 0
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std, n

def ci95(values: List[float]) -> Optional[Tuple[float, float]]:
    """The 95 % t-interval of the mean, ``mean -+ t(n-1) std / sqrt(n)``; None for fewer than 2 values."""
    test = paired_t(values)
    return None if test is None else test['ci']


def cells(records: List[dict]) -> Dict[tuple, dict]:
    """The ok records grouped by (dataset, method, buffer): mean, std, n, 95 % interval, seeds, mean wall time,
    extra args, the per-seed accuracies and, under ``recal``, the same statistics of the recalibrated evaluation
    over the records that have one (None when none has)."""
    grouped: Dict[tuple, list] = {}
    for r in records:
        if r.get('status') == 'ok':
            grouped.setdefault((r['dataset'], r['method'], r['buffer']), []).append(r)
    out = {}
    for key, rs in grouped.items():
        mean, std, n = mean_std([r['accuracy'] for r in rs])
        recal = [r for r in rs if r.get('accuracy_recal') is not None]
        recal_mean, recal_std, recal_n = mean_std([r['accuracy_recal'] for r in recal])
        out[key] = {'mean': mean, 'std': std, 'n': n, 'ci': ci95([r['accuracy'] for r in rs]),
                    'seeds': sorted(r['seed'] for r in rs),
                    'wall_min': sum(r['wall_s'] for r in rs) / n / 60,
                    'extra_args': any(r.get('extra_args') for r in rs),
                    'by_seed': {r['seed']: r['accuracy'] for r in rs},
                    'recal': {'mean': recal_mean, 'std': recal_std, 'n': recal_n,
                              'ci': ci95([r['accuracy_recal'] for r in recal]), 'seeds': sorted(r['seed'] for r in recal),
                              'extra_args': any(r.get('extra_args') for r in recal),
                              'by_seed': {r['seed']: r['accuracy_recal'] for r in recal}} if recal else None}
    return out


def paired(a: Optional[dict], b: Optional[dict]) -> Optional[dict]:
    """Cell ``a`` minus cell ``b`` over the seeds both have (same seed: same stream order and initialisation): the
    mean difference, its 95 % t-interval, n, the two-sided paired-t p-value, the differences by seed and a verdict,
    uncorrected for other comparisons: ``better`` / ``worse`` when p < 0.05 (the interval excludes 0), else
    ``no detectable difference at n seeds``; None with fewer than 2 common seeds."""
    if not a or not b:
        return None
    seeds = sorted(set(a['by_seed']) & set(b['by_seed']))
    if len(seeds) < 2:
        return None
    diffs = {s: a['by_seed'][s] - b['by_seed'][s] for s in seeds}
    test = paired_t(list(diffs.values()))
    verdict = (('better' if test['mean'] > 0 else 'worse') if test['p'] < ALPHA
               else f'no detectable difference at {len(seeds)} seeds')
    return {'mean': test['mean'], 'ci': test['ci'], 'n': len(seeds), 'p': test['p'], 'by_seed': diffs,
            'verdict': verdict}


def spread(cell: Optional[dict]) -> Optional[dict]:
    """How the seed spread of one cell changes from the protocol evaluation to the recalibrated one, over the
    seeds that have both (the same networks evaluated twice): n, the sample std, the range (max - min) and the
    worst seed of each evaluation; None with fewer than 2 such seeds."""
    if not cell or not cell.get('recal'):
        return None
    seeds = sorted(set(cell['by_seed']) & set(cell['recal']['by_seed']))
    if len(seeds) < 2:
        return None
    out = {'n': len(seeds)}
    for name, by_seed in (('protocol', cell['by_seed']), ('recal', cell['recal']['by_seed'])):
        values = [by_seed[s] for s in seeds]
        out[name] = {'std': mean_std(values)[1], 'range': max(values) - min(values), 'min': min(values)}
    return out


def fmt_cell(cell: Optional[dict], pm: str = ' ± ', dagger: str = ' †') -> str:
    """``mean ± std (n=N)``; one seed has no spread: ``mean (n=1)``."""
    if not cell:
        return 'not run'
    spread = f'{pm}{cell["std"]:.2f}' if cell['n'] > 1 else ''
    return f'{cell["mean"]:.2f}{spread} (n={cell["n"]})' + (dagger if cell['extra_args'] else '')

def fmt_ci(cell: Optional[dict]) -> str:
    """``[low, high]``, the 95 % interval of the mean; ``-`` without one (not run, or one seed)."""
    if not cell or not cell.get('ci'):
        return '-'
    return f'[{cell["ci"][0]:.2f}, {cell["ci"][1]:.2f}]'


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

def wall(cell: Optional[dict]) -> str:
    return f'{cell["wall_min"]:.1f} min' if cell else '-'
