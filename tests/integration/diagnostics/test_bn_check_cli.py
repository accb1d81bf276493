"""The BatchNorm running-statistics check command (dynamos_plugin/diagnostics/bn_check.py) on the checkpoint
Mammoth trained (the `checkpoint` fixture): hand-computed accuracies, stored and recalibrated, Seq-MNIST and
MNIST-360, without a buffer, and the checkpoint's path stored relative to the repository root."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from dynamos_plugin.glue import paths
from dynamos_plugin.diagnostics import bn_check


def test_command_on_a_checkpoint(checkpoint, mnist_dir, tmp_path, capsys, monkeypatch, request):
    import copy
    import functools
    import re
    threads = torch.get_num_threads()  # one thread, as the `checkpoint` run: on 2 busy cores, two are much slower
    torch.set_num_threads(1)
    request.addfinalizer(lambda: torch.set_num_threads(threads))
    # 200 stream images (not 2000) for the training-like batches: the same code path, a fifth of the time
    monkeypatch.setattr(bn_check, 'training_like_batches', functools.partial(bn_check.training_like_batches, n=200))
    out = tmp_path / 'bn.json'
    assert bn_check.main(['--checkpoint', str(checkpoint), '--base_path', str(mnist_dir), '--out', str(out)]) == 0
    result = json.loads(out.read_text())
    assert result['args']['model'] == 'dynamos' and result['buffer_examples_used'] > 0
    from dynamos_plugin.diagnostics.analysis import load_checkpoint
    net, _ = load_checkpoint(checkpoint)
    # the test split straight from its IDX files, and Mammoth's accuracies computed here in plain torch
    raw = mnist_dir / 'MNIST' / 'raw'
    labels = np.fromfile(raw / 't10k-labels-idx1-ubyte', dtype=np.uint8, offset=8).astype(np.int64)
    images = torch.from_numpy(np.fromfile(raw / 't10k-images-idx3-ubyte', dtype=np.uint8, offset=16).copy())
    images = images.float().div(255).view(-1, 1, 28, 28)
    task_of, counts = labels // 2, np.bincount(labels, minlength=10)

    def by_hand(network):
        with torch.no_grad():
            logits = network.eval()(images)
        pred = logits.argmax(1).numpy()
        pair = torch.from_numpy(task_of)[:, None] * 2 + torch.arange(2)  # each image's own task's two classes
        pred_til = pair.gather(1, logits.gather(1, pair).argmax(1, keepdim=True))[:, 0].numpy()
        per_task = [100 * np.mean(pred[task_of == t] == labels[task_of == t]) for t in range(5)]
        per_task_til = [100 * np.mean(pred_til[task_of == t] == labels[task_of == t]) for t in range(5)]
        per_class = [100 * np.mean(pred[labels == c] == c) for c in range(10)]
        return {'class_il': np.mean(per_task), 'task_il': np.mean(per_task_til), 'per_task': per_task,
                'per_task_task_il': per_task_til, 'per_class': per_class}
    # stored statistics: what evaluating the loaded network gives, and what Mammoth reported after the last task
    for key, value in by_hand(net).items():
        assert result['stored'][key] == pytest.approx(value), key
    for setting, key in (('class-il', 'per_task'), ('task-il', 'per_task_task_il')):
        logged = (checkpoint.parents[1] / 'results' / setting / 'seq-mnist' / 'dynamos' / 'logs.pyd').read_text()
        mammoth = {int(t): float(v) for t, v in re.findall(r"'accuracy_(\d+)_task5': ([\d.]+)", logged)}
        assert [mammoth[t] for t in range(1, 6)] == pytest.approx(result['stored'][key]), setting
    # recalibrated on the checkpoint's buffer: its written slots, in batches of stream + replay (2 x 10), each
    # BatchNorm's statistics the plain mean over those batches, the rest of the network in eval mode (thresholded)
    saved = torch.load(checkpoint, map_location='cpu', weights_only=False)
    written = saved['buffer']['examples'][torch.as_tensor(saved['buffer']['labels']) >= 0].float()
    assert result['buffer_examples_used'] == len(written)
    recalibrated = copy.deepcopy(net).eval()
    for bn in (m for m in recalibrated.modules() if isinstance(m, nn.BatchNorm2d)):
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    with torch.no_grad():
        for start in range(0, len(written), 20):
            recalibrated(written[start:start + 20])
    for key, value in by_hand(recalibrated).items():
        assert result['recalibrated_buffer'][key] == pytest.approx(value), key
    for key in ('stored', 'recalibrated_buffer', 'recalibrated_training_batches'):
        r = result[key]  # per class: a fraction of that class's test images; per task: its classes' weighted mean
        assert len(r['per_class']) == 10 and len(r['per_task']) == 5
        assert all(a * n / 100 == pytest.approx(round(a * n / 100)) for a, n in zip(r['per_class'], counts))
        assert r['per_task'] == pytest.approx([(r['per_class'][2 * t] * counts[2 * t] + r['per_class'][2 * t + 1]
                                                * counts[2 * t + 1]) / counts[2 * t:2 * t + 2].sum() for t in range(5)])
        assert r['class_il'] == pytest.approx(np.mean(r['per_task'])) and r['task_il'] == pytest.approx(
            np.mean(r['per_task_task_il']))
    printed = capsys.readouterr().out
    assert 'stored: Class-IL' in printed and 'recalibrated_training_batches: Class-IL' in printed
    assert bn_check.main(['--checkpoint', str(tmp_path / 'missing.pt'), '--base_path', str(mnist_dir)]) == 1
    # as if saved after task 2: scored on the classes 0-3 only
    assert bn_check.main(['--checkpoint', str(checkpoint), '--base_path', str(mnist_dir), '--tasks', '2',
                          '--out', str(out)]) == 0
    result = json.loads(out.read_text())
    assert result['tasks'] == 2 and len(result['stored']['per_task']) == 2
    assert len(result['recalibrated_training_batches']['per_class']) == 4
    assert bn_check.main(['--checkpoint', str(checkpoint), '--base_path', str(mnist_dir), '--tasks', '6']) == 1
    assert '--tasks must be between 1 and 5' in capsys.readouterr().err


def test_command_on_an_mnist360_checkpoint(checkpoint, mnist_dir, tmp_path, capsys, request):
    """The same network, relabelled as a 9-class MNIST-360 run: scored on Mammoth's own rotating test stream."""
    threads = torch.get_num_threads()  # one thread, as the `checkpoint` run: on 2 busy cores, two are much slower
    torch.set_num_threads(1)
    request.addfinalizer(lambda: torch.set_num_threads(threads))
    saved = torch.load(checkpoint, map_location='cpu', weights_only=False)
    saved['model']['net.classifier.weight'] = saved['model']['net.classifier.weight'][:9]
    saved['model']['net.classifier.bias'] = saved['model']['net.classifier.bias'][:9]
    saved['args'] = dict(saved['args'], dataset='mnist-360', batch_size=16)
    torch.save(saved, tmp_path / 'm360.pt')
    out = tmp_path / 'bn.json'
    assert bn_check.main(['--checkpoint', str(tmp_path / 'm360.pt'), '--base_path', str(mnist_dir),
                          '--out', str(out)]) == 0
    result = json.loads(out.read_text())
    images, labels, _ = bn_check.mnist360_test_stream(saved['args'], str(mnist_dir))
    assert set(labels.tolist()) <= set(range(9)) and images.shape[1:] == (1, 28, 28)
    from dynamos_plugin.diagnostics.analysis import load_test_set
    all_labels = load_test_set('seq-mnist', str(mnist_dir))[1]
    # as many test images per class as the test split has, for the classes 0-8
    assert np.bincount(labels, minlength=9).tolist() == np.bincount(all_labels[all_labels < 9], minlength=9).tolist()
    assert result['tasks'] == 1 and len(result['stored']['per_task']) == 1
    assert result['stored']['class_il'] == result['stored']['per_task'][0] == result['stored']['task_il']
    # stored statistics: the plain accuracy of the loaded network's predictions on that stream
    from dynamos_plugin.diagnostics.analysis import load_checkpoint
    net, _ = load_checkpoint(tmp_path / 'm360.pt')
    with torch.no_grad():
        pred = net.eval()(images).argmax(1).numpy()
    assert result['stored']['class_il'] == pytest.approx(100 * np.mean(pred == labels))
    assert result['stored']['per_class'] == pytest.approx([100 * np.mean(pred[labels == c] == c) for c in range(9)])
    counts = np.bincount(labels, minlength=9)
    for key in ('stored', 'recalibrated_buffer', 'recalibrated_training_batches'):
        r = result[key]  # per class: a fraction of that class's images; overall: their mean weighted by the counts
        assert len(r['per_class']) == 9 and r['per_task'] == [r['class_il']] and r['task_il'] == r['class_il']
        assert all(a * n / 100 == pytest.approx(round(a * n / 100)) for a, n in zip(r['per_class'], counts))
        assert r['class_il'] == pytest.approx(np.dot(r['per_class'], counts) / counts.sum())
    assert 'accuracy' in capsys.readouterr().out
    assert bn_check.main(['--checkpoint', str(tmp_path / 'm360.pt'), '--base_path', str(mnist_dir),
                          '--tasks', '2']) == 1
    # SGD saves no buffer: recalibrated on the end of the stream alone
    del saved['buffer']
    torch.save(saved, tmp_path / 'm360_sgd.pt')
    assert bn_check.main(['--checkpoint', str(tmp_path / 'm360_sgd.pt'), '--base_path', str(mnist_dir),
                          '--out', str(out)]) == 0
    result = json.loads(out.read_text())
    assert result['buffer_examples_used'] == 0 and 'recalibrated_buffer' not in result
    assert len(result['recalibrated_training_batches']['per_class']) == 9


def test_mnist360_stream_end_is_the_last_class_pair_at_its_last_rotations(checkpoint, mnist_dir):
    """The stream visits the pairs (0, 1), (1, 2), ..., (8, 0) three times; it ends on 8 and 0."""
    args = dict(torch.load(checkpoint, map_location='cpu', weights_only=False)['args'], dataset='mnist-360',
                batch_size=16)
    stream = list(bn_check._mnist360(args, str(mnist_dir), is_train=True))
    labels = torch.cat([y for _, y, _ in stream])
    end = bn_check.mnist360_stream_end(args, str(mnist_dir), n=40)
    sizes = [len(x) for x, _, _ in stream]
    k = next(k for k in range(1, len(sizes) + 1) if sum(sizes[-k:]) >= 40)  # the fewest last batches with 40
    assert len(end) == sum(sizes[-k:]) and 40 <= len(end) < 40 + sizes[-k]
    assert set(stream[0][1].tolist()) <= {0, 1} and set(stream[-1][1].tolist()) <= {8, 0}
    assert set(labels.tolist()) == set(range(9))
    # the stream is seeded by the run's seed: replaying it gives the very same last images
    assert torch.equal(end, torch.cat([x for x, _, _ in stream[-k:]]))


def test_command_on_a_checkpoint_without_a_buffer(checkpoint, mnist_dir, tmp_path):
    """SGD saves no buffer: the statistics are recomputed on the last task's stream alone."""
    saved = torch.load(checkpoint, map_location='cpu', weights_only=False)
    del saved['buffer']
    saved['args'] = dict(saved['args'], model='sgd')
    torch.save(saved, tmp_path / 'sgd.pt')
    out = tmp_path / 'bn.json'
    assert bn_check.main(['--checkpoint', str(tmp_path / 'sgd.pt'), '--base_path', str(mnist_dir),
                          '--out', str(out)]) == 0
    result = json.loads(out.read_text())
    assert result['buffer_examples_used'] == 0 and 'recalibrated_buffer' not in result
    assert len(result['recalibrated_training_batches']['per_task']) == 5


def test_bn_check_stores_the_checkpoint_relative_to_the_repository(checkpoint, mnist_dir, tmp_path, monkeypatch):
    """The session's checkpoint lives outside the repository; with the root moved to its grandparent, the JSON
    names it relative to that root; outside the root it keeps the path it was given."""
    out = tmp_path / 'bn.json'
    assert bn_check.main(['--checkpoint', str(checkpoint), '--base_path', str(mnist_dir), '--out', str(out)]) == 0
    assert json.loads(out.read_text())['checkpoint'] == str(checkpoint)
    monkeypatch.setattr(paths, 'REPO', checkpoint.parent.parent.resolve())
    assert bn_check.main(['--checkpoint', str(checkpoint), '--base_path', str(mnist_dir), '--out', str(out)]) == 0
    assert json.loads(out.read_text())['checkpoint'] == f'{checkpoint.parent.name}/{checkpoint.name}'
