"""The Section 6 analysis command (dynamos_plugin/diagnostics/analysis.py) end to end on the checkpoint Mammoth
trained (the `checkpoint` fixture): every file it writes and the numbers in them, old checkpoints, refusals."""

import json
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest
import torch

from dynamos_plugin.diagnostics import analysis


def _strict_json(path: Path):
    def refuse(constant):
        raise ValueError(f'{path.name} holds {constant}, which is not standard JSON')
    return json.loads(path.read_text(), parse_constant=refuse)


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
