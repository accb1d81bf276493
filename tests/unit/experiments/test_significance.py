"""The report's tests, against values computed by hand: with 2 degrees of freedom Student's t has a closed form,
``P(T > t) = (1 - t / sqrt(t^2 + 2)) / 2``, so every p-value below is exact arithmetic."""

import math

import pytest

from dynamos_plugin.experiments.significance import by_seed_diffs, holm, paired_t, tost


def sf_df2(t: float) -> float:
    return (1 - t / math.sqrt(t * t + 2)) / 2


def test_paired_t_by_hand():
    # differences 1, 2, 3: mean 2, std 1, standard error 1 / sqrt(3), t = 2 sqrt(3) = 3.4641
    test = paired_t([1.0, 2.0, 3.0])
    assert test['t'] == pytest.approx(2 * math.sqrt(3))
    assert test['p'] == pytest.approx(2 * sf_df2(2 * math.sqrt(3))) == pytest.approx(0.074180, abs=1e-6)
    # t(2) 97.5 % quantile 4.302653: 2 -+ 4.302653 / sqrt(3) = 2 -+ 2.484138
    assert test['ci'] == pytest.approx((2 - 2.484138, 2 + 2.484138), abs=1e-5)
    assert paired_t([5.0]) is None
    assert paired_t([1.0, 1.0])['p'] == 0.0 and paired_t([0.0, 0.0])['p'] == 1.0  # no spread


def test_holm_by_hand():
    # sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> kept non-decreasing: 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # at 0.05 the two smallest are rejected; uncorrected, all four would be
    assert [p < 0.05 for p in holm([0.01, 0.04, 0.03, 0.005])] == [True, False, False, True]
    assert holm([0.5, 0.6]) == [1.0, 1.0]  # 0.5 x 2 = 1 (capped), then 0.6 x 1 = 0.6 raised to 1
    assert holm([0.02]) == [0.02] and holm([]) == []


def test_tost_by_hand():
    # differences 0, 1, 2 within +-2: mean 1, standard error 1 / sqrt(3);
    # H0 mean <= -2: t = 3 sqrt(3) = 5.196, p = 0.017550; H0 mean >= 2: t = -sqrt(3), p = 0.112702
    wide = tost([0.0, 1.0, 2.0], margin=2.0)
    assert wide['p_lower'] == pytest.approx(sf_df2(3 * math.sqrt(3))) == pytest.approx(0.017550, abs=1e-6)
    assert wide['p_upper'] == pytest.approx(sf_df2(math.sqrt(3))) == pytest.approx(0.112702, abs=1e-6)
    assert wide['p'] == wide['p_upper'] and not wide['equivalent']
    # its 90 % interval, 1 -+ t(2) 95 % quantile 2.919986 / sqrt(3) = 1 -+ 1.685854, reaches past +2
    assert wide['ci90'] == pytest.approx((1 - 1.685854, 1 + 1.685854), abs=1e-5)
    # differences 0.5, 1, 1.5: standard error 0.5 / sqrt(3); t = -2 sqrt(3) against +2 (p = 0.037090) and
    # 6 sqrt(3) against -2 (p = 0.004567): equivalent at 0.05
    narrow = tost([0.5, 1.0, 1.5], margin=2.0)
    assert narrow['p_upper'] == pytest.approx(sf_df2(2 * math.sqrt(3))) == pytest.approx(0.037090, abs=1e-6)
    assert narrow['p_lower'] == pytest.approx(sf_df2(6 * math.sqrt(3))) == pytest.approx(0.004567, abs=1e-6)
    assert narrow['equivalent'] and narrow['ci90'][1] < 2.0
    assert not tost([0.5, 1.0, 1.5], margin=1.0)['equivalent']  # the same data, a margin it does not clear
    assert tost([1.0], margin=2.0) is None


def test_differences_by_seed_keep_the_common_seeds():
    assert by_seed_diffs({0: 5.0, 1: 6.0, 2: 7.0}, {1: 1.0, 2: 3.0, 3: 0.0}) == {1: 5.0, 2: 4.0}
    assert by_seed_diffs(None, {0: 1.0}) is None
