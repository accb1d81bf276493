"""The cells of the report: records grouped by (dataset, method, buffer), their mean ± std over seeds, and the
paper's number and our difference to it, formatted as every table format shows them."""

import math
from typing import Dict, Iterable, List, Optional, Tuple

from dynamos_plugin.experiments.grid import METHODS, TABLES
from dynamos_plugin.experiments.published import PAPER


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

def wall(cell: Optional[dict]) -> str:
    return f'{cell["wall_min"]:.1f} min' if cell else '-'
