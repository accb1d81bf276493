"""The tests behind the report's verdicts, on differences paired by seed: the paired t-test (two-sided p and 95 %
t-interval), Holm's step-down correction of a family of p-values, the equivalence test (TOST: two one-sided paired
t-tests against a margin stated in advance) and the interaction of two paired differences (a difference of
differences, paired by seed).

Student's t distribution comes from scipy (the `lab` extra of setup.cfg)."""

import math
from typing import Dict, List, Optional, Sequence

from scipy import stats

#: the significance level of every verdict of the report
ALPHA = 0.05
#: the equivalence margin of the static-vs-Eq. 8 test, in accuracy points, fixed before the test was first run
#: (issue 26): within +-2 points at n = 5 seeds counts as equivalent
EQUIVALENCE_MARGIN = 2.0


def paired_t(diffs: Sequence[float]) -> Optional[Dict]:
    """The one-sample t-test of paired differences against 0: mean, sample std, n, the 95 % t-interval of the
    mean, t and the two-sided p-value; None for fewer than 2 differences. Zero spread gives p = 0 (or 1 for a
    mean of exactly 0) and a zero-width interval."""
    n = len(diffs)
    if n < 2:
        return None
    mean = sum(diffs) / n
    std = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    se = std / math.sqrt(n)
    half = stats.t.ppf(1 - ALPHA / 2, n - 1) * se
    if se == 0:
        t, p = (0.0, 1.0) if mean == 0 else (math.copysign(math.inf, mean), 0.0)
    else:
        t = mean / se
        p = float(2 * stats.t.sf(abs(t), n - 1))
    return {'mean': mean, 'std': std, 'n': n, 'ci': (mean - half, mean + half), 't': t, 'p': p}


def holm(pvalues: Sequence[float]) -> List[float]:
    """Holm's step-down adjusted p-values, in the order given: sorted ascending, the i-th smallest (from 0) is
    multiplied by ``m - i``, capped at 1, and made non-decreasing along the sorted order. A comparison is rejected
    at level alpha after correction when its adjusted p-value is below alpha; this controls the chance of any
    false rejection in the family at alpha."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def tost(diffs: Sequence[float], margin: float = EQUIVALENCE_MARGIN) -> Optional[Dict]:
    """The equivalence test of paired differences within ``(-margin, +margin)``: two one-sided paired t-tests,
    H0 mean <= -margin (p_lower) and H0 mean >= +margin (p_upper); p = the larger of the two, and the differences
    are *equivalent* within the margin when p < alpha, i.e. when the 90 % t-interval lies inside the margin.
    None for fewer than 2 differences."""
    n = len(diffs)
    if n < 2:
        return None
    mean = sum(diffs) / n
    se = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1)) / math.sqrt(n)
    half = stats.t.ppf(1 - ALPHA, n - 1) * se
    if se == 0:
        p_lower = 0.0 if mean > -margin else 1.0
        p_upper = 0.0 if mean < margin else 1.0
    else:
        p_lower = float(stats.t.sf((mean + margin) / se, n - 1))
        p_upper = float(stats.t.cdf((mean - margin) / se, n - 1))
    p = max(p_lower, p_upper)
    return {'mean': mean, 'n': n, 'ci90': (mean - half, mean + half), 'p_lower': p_lower, 'p_upper': p_upper,
            'p': p, 'margin': margin, 'equivalent': p < ALPHA}


def by_seed_diffs(a: Optional[dict], b: Optional[dict]) -> Optional[Dict[int, float]]:
    """``a - b`` per seed, over the seeds both ``{seed: value}`` maps have; None when either is missing."""
    if not a or not b:
        return None
    return {s: a[s] - b[s] for s in sorted(set(a) & set(b))}
