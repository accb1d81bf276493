"""Runs that survive faults: determinism, resuming, clear errors, and the buffer's reservoir."""

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from conftest import parse_accuracy, run_mammoth
from dynamos_plugin.mammoth_glue import parse_log

DYNAMOS = ['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '50', '--warmup', '3']


def final_raw(log):
    return parse_log(log)['per_task']


def test_same_seed_same_accuracy(mnist_dir, tmp_path):
    runs = [run_mammoth(DYNAMOS + ['--seed', '7', '--base_path', mnist_dir], tmp_path / str(i)) for i in range(2)]
    for proc in runs:
        assert proc.returncode == 0, proc.log[-2000:]
    assert parse_accuracy(runs[0].log) == parse_accuracy(runs[1].log)
    assert final_raw(runs[0].log) == final_raw(runs[1].log)


def test_resumed_run_matches_the_uninterrupted_one(mnist_dir, tmp_path):
    """A run stopped after task 2 and resumed from Mammoth's end-of-task checkpoint ends exactly like the uninterrupted run.

    Mammoth resumes at task boundaries only (`--loadcheck <ckpt of task K> --start_from K+1`): its
    SIGINT checkpoint mid-task keeps the weights but not the position in the task's stream, so a
    task interrupted in the middle is trained again from its start. The checkpoint holds the weights,
    batch-norm statistics, Dynamos' buffer and reservoir count (`DynamosBuffer.serialize`), and the
    random generators are reseeded at every task start (patches/0009), so the resumed tasks draw
    exactly what the uninterrupted run drew.
    """
    common = DYNAMOS + ['--seed', '5', '--base_path', mnist_dir]
    full = run_mammoth(common + ['--savecheck', 'task', '--checkpoint_path', tmp_path / 'ckpt', '--ckpt_name', 'full'],
                       tmp_path / 'full')
    assert full.returncode == 0, full.log[-2000:]
    after_task_2 = next((tmp_path / 'ckpt').glob('full*_1.pt'))
    resumed = run_mammoth(common + ['--loadcheck', after_task_2, '--start_from', '2'], tmp_path / 'resumed')
    assert resumed.returncode == 0, resumed.log[-2000:]
    assert 'Dynamos task 3: mean keep ratio' in resumed.log and 'Dynamos task 2: mean keep ratio' not in resumed.log
    assert parse_accuracy(resumed.log) == parse_accuracy(full.log)
    assert final_raw(resumed.log) == final_raw(full.log)


def assert_one_clear_error(proc, phrase):
    assert proc.returncode != 0
    assert phrase in proc.log, proc.log[-2000:]
    assert 'Traceback' not in proc.log


def test_corrupt_checkpoint(mnist_dir, tmp_path):
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    proc = run_mammoth(DYNAMOS + ['--base_path', mnist_dir, '--loadcheck', bad], tmp_path, timeout=120)
    assert_one_clear_error(proc, f'Cannot read the checkpoint {bad}')


def test_incompatible_checkpoint(mnist_dir, tmp_path):
    er = run_mammoth(['--model', 'er', '--dataset', 'seq-mnist', '--buffer_size', '50', '--lr', '0.1', '--backbone',
                      'ungated-resnet', '--base_path', mnist_dir, '--stop_after', '1', '--savecheck', 'last',
                      '--checkpoint_path', tmp_path / 'ckpt', '--ckpt_name', 'er'], tmp_path, timeout=300)
    assert er.returncode == 0, er.log[-2000:]
    ckpt = next((tmp_path / 'ckpt').glob('er*.pt'))
    proc = run_mammoth(DYNAMOS + ['--base_path', mnist_dir, '--loadcheck', ckpt, '--backbone', 'gated-resnet'],
                       tmp_path, timeout=300)
    assert_one_clear_error(proc, 'does not fit this model: it was saved by --model er --backbone ungated-resnet')


def test_wrong_data_folder(tmp_path):
    proc = run_mammoth(DYNAMOS + ['--base_path', tmp_path / 'missing'], tmp_path, timeout=120)
    assert_one_clear_error(proc, f'MNIST not found in {tmp_path / "missing" / "MNIST" / "raw"}')


def test_impossible_hyperparameter(mnist_dir, tmp_path):
    proc = run_mammoth(DYNAMOS + ['--base_path', mnist_dir, '--keep_ratio', '2'], tmp_path, timeout=120)
    assert proc.returncode == 2
    assert 'argument --keep_ratio: the keep ratio must be in (0, 1], got 2' in proc.log
    assert 'Traceback' not in proc.log


@pytest.fixture
def buffer_module(mammoth_imported):
    import dynamos_plugin.buffer as module
    return module


def test_buffer_never_exceeds_its_size_and_reservoir_is_uniform(buffer_module):
    size, stream, batch = 200, 20000, 10
    np.random.seed(0)
    buf = buffer_module.DynamosBuffer(size)
    for start in range(0, stream, batch):
        x = torch.arange(start, start + batch, dtype=torch.float32)[:, None]
        buf.add_data(x, torch.zeros(batch, dtype=torch.long), correct=torch.ones(batch, dtype=torch.bool))
        assert len(buf) <= size
    assert len(buf) == size and buf.num_seen_examples == stream
    positions = buf.examples[:, 0].long().numpy()
    assert len(set(positions.tolist())) == size  # no sample stored twice
    counts = np.bincount(positions // (stream // 10), minlength=10)  # ten equal slices of the stream
    assert chisquare(counts).pvalue > 0.01  # each slice holds ~20 of the 200 kept samples


def test_buffer_with_half_the_samples_correct(buffer_module):
    size = 100
    np.random.seed(1)
    buf = buffer_module.DynamosBuffer(size)
    for start in range(0, 5000, 10):
        x = torch.arange(start, start + 10, dtype=torch.float32)[:, None]
        correct = torch.arange(start, start + 10) % 2 == 0
        buf.add_data(x, torch.zeros(10, dtype=torch.long), correct=correct)
        assert len(buf) <= size
    kept = buf.examples[buf.written_slots(), 0].long()
    assert bool((kept % 2 == 0).all())  # only correct samples are written
    assert buf.num_seen_examples == 5000
