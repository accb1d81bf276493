"""The Section 6 analysis: pure computations against hand-computed values, and the command end to end."""

import json
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest
import torch

from dynamos_plugin.diagnostics import analysis
from dynamos_plugin.mammoth_glue import REPO  # noqa: F401


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


def _strict_json(path: Path):
    def refuse(constant):
        raise ValueError(f'{path.name} holds {constant}, which is not standard JSON')
    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture
def one_thread():
    """torch and the OpenMP/BLAS pools of sklearn on one thread while the test runs (see `checkpoint`)."""
    from threadpoolctl import threadpool_limits
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)


def test_command_writes_every_file(checkpoint, mnist_dir, tmp_path, one_thread):
    out = tmp_path / 'figures'
    assert analysis.main(['--checkpoint', str(checkpoint), '--dataset', 'seq-mnist', '--base_path', str(mnist_dir),
                          '--out', str(out), '--tsne-samples', '150', '--trials', '3', '--seed', '0']) == 0
    expected = {'activation_rates_class.png', 'activation_rates_task.png', 'activation_rates_all_layers.png',
                'jsd.png', 'tsne.png', 'trial_variability.png', 'activation_rates.json', 'jsd.json', 'tsne.json',
                'trial_variability.json', 'sparsity.json', 'summary.json', 'summary.md'}
    assert {p.name for p in out.iterdir()} == expected
    summary = _strict_json(out / 'summary.json')
    assert set(summary['files']) == expected and set(summary['file_descriptions']) == expected
    for name in expected:
        assert (out / name).stat().st_size > 0
        if name.endswith('.png'):
            assert (out / name).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
        if name.endswith('.json'):
            _strict_json(out / name)
    md = (out / 'summary.md').read_text()
    assert all(name in md for name in expected)
    assert summary['test_samples'] == 200 and summary['checkpoint_args']['model'] == 'dynamos'

    rates = _strict_json(out / 'activation_rates.json')
    by_class = np.array(rates['by_class'], dtype=float)
    assert by_class.shape == (4, 10, 64)
    # fractions of each class's 20 test images; a task's rate is its two classes' mean (balanced test set)
    assert np.allclose(by_class * 20, np.round(by_class * 20))
    assert np.allclose(rates['by_task'], (by_class[:, 0::2] + by_class[:, 1::2]) / 2)
    jsd = _strict_json(out / 'jsd.json')
    matrix = np.array(jsd['jsd_x100'])
    assert matrix.shape == (10, 10) and np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 0)
    assert jsd['lowest_jsd_x100'] == pytest.approx(matrix[~np.eye(10, dtype=bool)].min())
    tsne = _strict_json(out / 'tsne.json')
    assert np.array(tsne['embedding']).shape == (150, 2) and len(set(tsne['indices'])) == 150
    test_labels = np.fromfile(mnist_dir / 'MNIST' / 'raw' / 't10k-labels-idx1-ubyte', dtype=np.uint8, offset=8)
    assert tsne['labels'] == test_labels[tsne['indices']].tolist()
    from sklearn.metrics import silhouette_score
    assert tsne['silhouette_embedding'] == pytest.approx(silhouette_score(np.array(tsne['embedding']), tsne['labels']))
    # 5-fold cross-validation over 150 samples: folds of 30, so the mean accuracy is a multiple of 1 / 150
    for space in ('embedding', 'attention'):
        assert tsne[f'knn5_accuracy_{space}'] * 150 == pytest.approx(round(tsne[f'knn5_accuracy_{space}'] * 150))
    trials = _strict_json(out / 'trial_variability.json')
    for t in trials:
        acts = np.array(t['actions'])
        assert acts.shape == (3, 64) and set(np.unique(acts)) <= {0, 1}
        assert t['always_on'] + t['always_off'] + t['varying'] == pytest.approx(1.0)
        assert t['always_on'] == pytest.approx(acts.all(0).mean())
    sparsity = _strict_json(out / 'sparsity.json')
    keep = sparsity['mean_keep_ratio_per_agent']
    assert len(keep) == 4 and list(keep)[0] == 'stage 2 block 1 conv 1'
    assert list(keep.values()) == pytest.approx(by_class.mean(axis=(1, 2)), abs=1e-9)  # balanced test set
    macs = sparsity['gated_stage_macs_per_sample']
    assert macs['dense'] == 25690112  # nf = 32 on 28x28 MNIST: the dense stage 2 per image
    assert 0 < macs['gated_over_dense'] <= 1


def test_an_old_pickle_checkpoint_loads_the_same_network(checkpoint, tmp_path):
    """`--save_checkpoint_mode old_pickle` stores the arguments as a Namespace (and pickles objects)."""
    saved = torch.load(checkpoint, map_location='cpu', weights_only=False)
    old = dict(saved, args=Namespace(**saved['args']))
    torch.save(old, tmp_path / 'old.pt')
    net_safe, args_safe = analysis.load_checkpoint(checkpoint)
    net_old, args_old = analysis.load_checkpoint(tmp_path / 'old.pt')
    assert args_old == args_safe
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(net_safe(x), net_old(x))
    assert not net_old.training and net_old.infer_mode == 'threshold'


def test_a_checkpoint_without_agents_is_refused(checkpoint, mnist_dir, tmp_path):
    """A checkpoint of the un-gated twin (`--backbone ungated-resnet`: the same keys without the agents)."""
    saved = torch.load(checkpoint, map_location='cpu', weights_only=False)
    saved['model'] = {k: v for k, v in saved['model'].items() if 'agent' not in k}
    saved['args'] = dict(saved['args'], model='er', backbone='ungated-resnet')
    torch.save(saved, tmp_path / 'ungated.pt')
    assert analysis.main(['--checkpoint', str(tmp_path / 'ungated.pt'), '--base_path', str(mnist_dir),
                          '--out', str(tmp_path / 'o')]) == 1
    (tmp_path / 'junk.pt').write_bytes(b'not a checkpoint')
    assert analysis.main(['--checkpoint', str(tmp_path / 'junk.pt'), '--base_path', str(mnist_dir),
                          '--out', str(tmp_path / 'o')]) == 1
