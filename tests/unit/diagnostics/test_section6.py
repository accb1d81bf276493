"""The Section 6 analysis (dynamos_plugin/diagnostics/section6/, through analysis.py): activation rates, Jensen-Shannon
divergences, the gated stage's multiply-accumulates and the cluster scores against hand-computed values."""

import numpy as np
import pytest

from dynamos_plugin.diagnostics import analysis


def test_activation_rates_hand_computed():
    actions = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 1], [1, 1, 1]])
    rates = analysis.activation_rates(actions, np.array([0, 0, 1, 1]), 3)
    assert np.allclose(rates[:2], [[1.0, 0.5, 0.5], [0.5, 0.5, 1.0]])
    assert np.isnan(rates[2]).all()  # a group without samples
    assert ((rates[:2] >= 0) & (rates[:2] <= 1)).all()


def test_jsd_is_zero_on_identical_symmetric_and_hand_computed():
    rates = np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]])
    jsd = analysis.jsd_matrix(rates)
    assert jsd[0, 1] == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(jsd, jsd.T) and np.allclose(np.diag(jsd), 0)
    # P = (1/2, 1/2), Q = (1, 0), M = (3/4, 1/4): JSD = 1/2 KL(P||M) + 1/2 KL(Q||M), base 2
    kl_p = 0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25)
    kl_q = np.log2(1 / 0.75)
    assert jsd[0, 2] == pytest.approx(0.5 * kl_p + 0.5 * kl_q)
    # the rate vectors are normalised to sum 1 first: a scaled copy has divergence 0
    assert analysis.jsd_matrix(np.array([[0.2, 0.6], [0.1, 0.3]]))[0, 1] == pytest.approx(0.0, abs=1e-12)


def test_jsd_matrix_of_random_rates_is_a_divergence():
    rates = np.random.default_rng(0).uniform(size=(10, 64))
    jsd = analysis.jsd_matrix(rates)
    assert np.allclose(jsd, jsd.T) and np.allclose(np.diag(jsd), 0)
    assert (jsd[~np.eye(10, dtype=bool)] > 0).all() and (jsd <= 1).all()  # base 2: in [0, 1]


def test_jsd_summary():
    jsd = np.array([[0, 0.1, 0.4], [0.1, 0, 0.2], [0.4, 0.2, 0]])
    s = analysis.jsd_summary(jsd, ['a', 'b', 'c'])
    assert s['lowest_pair'] == ['a', 'b'] and s['largest_pair'] == ['a', 'c']
    assert s['lowest_jsd_x100'] == pytest.approx(10.0) and s['mean_jsd_x100'] == pytest.approx(70 / 3)
    assert s['mean_over_lowest'] == pytest.approx((0.7 / 3) / 0.1)
    assert s['largest_over_lowest'] == pytest.approx(4.0)
    assert [p[:2] for p in s['pairs_by_overlap']] == [['a', 'b'], ['b', 'c'], ['a', 'c']]


def test_gated_stage_macs_hand_computed():
    # nf=1: stage input 1 channel, width 2, input 4x4 -> output 2x2 (out_hw = 4), MLP hidden 1
    all_kept = [np.ones((1, 2))] * 4
    m = analysis.gated_stage_macs(all_kept, 1, 2, 16, 4, 1)
    dense = (1 * 2 * 9 + 2 * 2 * 9 + 1 * 2) * 4 + (2 * 2 * 9 + 2 * 2 * 9) * 4
    assert m['dense'] == m['gated'] == dense == 512
    half = [np.array([[1, 0]])] * 4  # one channel kept everywhere
    m = analysis.gated_stage_macs(half, 1, 2, 16, 4, 1)
    assert m['gated'] == (1 * 1 * 9 + 1 * 1 * 9 + 1 * 1) * 4 + (1 * 1 * 9 + 1 * 1 * 9) * 4 == 148
    assert m['gated_over_dense'] == pytest.approx(148 / 512)
    # agents: pointwise convs read 1, 1, 1, 1 channels into 2 outputs over 4 positions, plus 4 MLPs of 2*2*1
    assert m['agents'] == 4 * (1 * 2 * 4) + 4 * 4 == 48
    assert m['parts']['block1.shortcut'] == {'dense': 8.0, 'gated': 4.0}
    assert m['parts']['block1.agent1'] == {'macs': 12.0}


def test_gated_stage_macs_per_sample_products():
    # a dropped output channel of conv1 also removes an input channel of conv2: per-sample products, then the mean
    # sample 1 keeps (2, 1, 2, 1) channels, sample 2 keeps (1, 2, 1, 2); C_in = 1, C = 2, one output position
    acts = [np.array([[1, 1], [1, 0]]), np.array([[1, 0], [1, 1]]), np.array([[1, 1], [0, 1]]),
            np.array([[0, 1], [1, 1]])]
    m = analysis.gated_stage_macs(acts, 1, 2, 4, 1, 1)
    assert m['parts']['block1.conv2']['gated'] == pytest.approx((2 * 1 * 9 + 1 * 2 * 9) / 2)  # not 1.5 * 1.5 * 9
    assert m['parts']['block2.conv2']['gated'] == pytest.approx((2 * 1 * 9 + 1 * 2 * 9) / 2)
    assert m['gated'] == pytest.approx(sum(p['gated'] for p in m['parts'].values() if 'gated' in p))
    assert m['agents'] == pytest.approx(sum(p['macs'] for p in m['parts'].values() if 'macs' in p))


def test_cluster_scores_separate_and_mixed_classes():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    separated = np.eye(3)[labels] * 10 + rng.normal(scale=0.1, size=(60, 3))
    s = analysis.cluster_scores(separated[:, :2], separated, labels)
    assert s['knn5_accuracy_embedding'] == s['knn5_accuracy_attention'] == 1.0 and s['silhouette_embedding'] > 0.9
    mixed = rng.normal(size=(60, 3))
    s = analysis.cluster_scores(mixed[:, :2], mixed, labels)
    assert s['silhouette_embedding'] < 0.1 and s['knn5_accuracy_attention'] < 0.7
    assert np.isnan(analysis.cluster_scores(mixed[:6, :2], mixed[:6], labels[:6])['silhouette_embedding'])
