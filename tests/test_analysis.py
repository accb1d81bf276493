"""The Section 6 analysis: pure computations against hand-computed values, and the command end to end."""

import json

import numpy as np
import pytest

from conftest import run_mammoth
from dynamos_plugin import analysis


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


def test_jsd_summary():
    jsd = np.array([[0, 0.1, 0.4], [0.1, 0, 0.2], [0.4, 0.2, 0]])
    s = analysis.jsd_summary(jsd, ['a', 'b', 'c'])
    assert s['lowest_pair'] == ['a', 'b'] and s['largest_pair'] == ['a', 'c']
    assert s['mean_over_lowest'] == pytest.approx((0.7 / 3) / 0.1)
    assert s['largest_over_lowest'] == pytest.approx(4.0)


def test_gated_stage_macs_hand_computed():
    # nf=1: stage input 1 channel, width 2, input 4x4 -> output 2x2 (out_hw = 4), MLP hidden 1
    all_kept = [np.ones((1, 2))] * 4
    m = analysis.gated_stage_macs(all_kept, 1, 2, 16, 4, 1)
    dense = (1 * 2 * 9 + 2 * 2 * 9 + 1 * 2) * 4 + (2 * 2 * 9 + 2 * 2 * 9) * 4
    assert m['dense'] == m['gated'] == dense
    half = [np.array([[1, 0]])] * 4  # one channel kept everywhere
    m = analysis.gated_stage_macs(half, 1, 2, 16, 4, 1)
    assert m['gated'] == (1 * 1 * 9 + 1 * 1 * 9 + 1 * 1) * 4 + (1 * 1 * 9 + 1 * 1 * 9) * 4
    # agents: pointwise convs read 1, 1, 1, 1 channels into 2 outputs over 4 positions, plus 4 MLPs of 2*2*1
    assert m['agents'] == 4 * (1 * 2 * 4) + 4 * 4


def trained_checkpoint(args, mnist_dir, tmp_path):
    """Trains with `mammoth/main.py ARGS` on the generated MNIST and returns the checkpoint it saved."""
    proc = run_mammoth(args + ['--dataset', 'seq-mnist', '--buffer_size', '50', '--seed', '0', '--base_path', mnist_dir,
                               '--savecheck', 'last', '--checkpoint_path', tmp_path / 'ckpt', '--ckpt_name', 'run'],
                       tmp_path)
    assert proc.returncode == 0, proc.log[-2000:]
    return next((tmp_path / 'ckpt').glob('run_*_last.pt'))


def test_command_writes_every_file(mnist_dir, tmp_path):
    ckpt = trained_checkpoint(['--model', 'dynamos', '--warmup', '2'], mnist_dir, tmp_path)
    out = tmp_path / 'figures'
    assert analysis.main(['--checkpoint', str(ckpt), '--base_path', str(mnist_dir), '--out', str(out),
                          '--tsne-samples', '150', '--trials', '3']) == 0
    summary = json.loads((out / 'summary.json').read_text())
    for name in ('activation_rates_class.png', 'activation_rates_task.png', 'activation_rates_all_layers.png',
                 'jsd.png', 'tsne.png', 'trial_variability.png', 'activation_rates.json', 'jsd.json', 'tsne.json',
                 'trial_variability.json', 'sparsity.json'):
        assert (out / name).stat().st_size > 0 and name in summary['files']
    rates = np.array(json.loads((out / 'activation_rates.json').read_text())['by_class'], dtype=float)
    assert rates.shape == (4, 10, 64) and np.nanmin(rates) >= 0 and np.nanmax(rates) <= 1
    jsd = np.array(json.loads((out / 'jsd.json').read_text())['jsd_x100'])
    assert np.allclose(jsd, jsd.T)
    sparsity = json.loads((out / 'sparsity.json').read_text())
    assert len(sparsity['mean_keep_ratio_per_agent']) == 4
    assert 0 < sparsity['gated_stage_macs_per_sample']['gated_over_dense'] <= 1


def test_a_checkpoint_without_agents_is_refused(mnist_dir, tmp_path):
    ckpt = trained_checkpoint(['--model', 'er', '--lr', '0.1', '--backbone', 'ungated-resnet'], mnist_dir, tmp_path)
    assert analysis.main(['--checkpoint', str(ckpt), '--base_path', str(mnist_dir), '--out', str(tmp_path / 'o')]) == 1
