"""The BatchNorm running-statistics check (dynamos_plugin/diagnostics/bn_check.py), its pure parts: hand-computed
statistics and accuracies, the batch layout, the buffer reader (the command on a checkpoint:
tests/integration/diagnostics/test_bn_check_cli.py)."""

import numpy as np
import pytest
import torch
from torch import nn

from dynamos_plugin.diagnostics import bn_check


def test_recalibrate_bn_is_the_cumulative_average_of_the_batch_statistics():
    net = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.BatchNorm2d(1))
    nn.init.constant_(net[0].weight, 2.0)
    net[1].running_mean.fill_(-7.0)
    examples = torch.tensor([1.0, 3.0, 5.0, 9.0]).view(4, 1, 1, 1)  # conv doubles them: 2, 6 | 10, 18
    fixed = bn_check.recalibrate_bn(net, examples, batch_size=2)
    # batch means 4 and 14 -> 9; unbiased batch variances 8 and 32 -> 20
    assert fixed[1].running_mean.item() == pytest.approx(9.0)
    assert fixed[1].running_var.item() == pytest.approx(20.0)
    assert not fixed.training and not fixed[1].training
    assert net[1].running_mean.item() == -7.0  # the original is untouched
    assert torch.equal(fixed[0].weight, net[0].weight)
    with pytest.raises(ValueError, match='at least one example'):
        bn_check.recalibrate_bn(net, examples[:0])
    with pytest.raises(ValueError, match='no BatchNorm'):
        bn_check.recalibrate_bn(nn.Identity(), examples)


def test_recalibration_keeps_the_rest_of_the_network_in_eval_mode():
    net = nn.Sequential(nn.BatchNorm1d(2), nn.Dropout(p=0.999))
    fixed = bn_check.recalibrate_bn(net, torch.ones(4, 2) + torch.arange(4.0)[:, None], batch_size=4)
    assert not fixed[1].training  # dropout was off while the statistics were gathered, and stays off
    assert fixed[0].running_mean.tolist() == pytest.approx([2.5, 2.5])


def test_accuracies_hand_computed():
    """Two tasks of two classes; the network returns its input as logits."""
    logits = torch.tensor([[5., 1., 0., 0.],   # label 0: right
                           [0., 1., 2., 0.],   # label 1: Class-IL wrong (2), Task-IL right (1 > 0)
                           [0., 0., 3., 1.],   # label 2: right
                           [9., 0., 1., 2.],   # label 3: Class-IL wrong (0), Task-IL right (2 > 1)
                           [0., 0., 2., 1.]])  # label 3: wrong in both
    labels = np.array([0, 1, 2, 3, 3])
    r = bn_check.accuracies(nn.Identity(), logits, labels, labels // 2)
    assert r['per_task'] == pytest.approx([50.0, 100 / 3])
    assert r['per_task_task_il'] == pytest.approx([100.0, 200 / 3])
    assert r['class_il'] == pytest.approx((50 + 100 / 3) / 2)
    assert r['task_il'] == pytest.approx((100 + 200 / 3) / 2)
    assert r['per_class'] == pytest.approx([100.0, 0.0, 100.0, 0.0])
    # after the first task of a 2-task network: only task 0's classes are scored, Task-IL among classes 0-1
    first = bn_check.accuracies(nn.Identity(), logits[:2], labels[:2], labels[:2] // 2, classes_per_task=2)
    assert first['per_task'] == [50.0] and first['per_task_task_il'] == [100.0] and first['per_class'] == [100.0, 0.0]


def test_training_like_batches_alternate_stream_and_buffer():
    stream, buffer = torch.ones(30, 1, 2, 2), torch.zeros(7, 1, 2, 2)
    mixed = bn_check.training_like_batches(stream, buffer, batch_size=3, n=12)
    assert mixed.shape == (24, 1, 2, 2)
    assert mixed[:, 0, 0, 0].tolist() == ([1.0] * 3 + [0.0] * 3) * 4


def test_training_like_batches_without_a_buffer_are_the_stream_alone():
    stream = torch.arange(30.0).view(30, 1, 1, 1)
    mixed = bn_check.training_like_batches(stream, None, batch_size=4, n=12)
    assert mixed.shape == (12, 1, 1, 1) and set(mixed.flatten().tolist()) <= set(range(30))


def test_buffer_examples_skip_unwritten_slots():
    examples = torch.arange(4.0).view(4, 1, 1, 1)
    assert bn_check.buffer_examples({'buffer': {'examples': examples, 'labels': torch.tensor([3, -1, 0, -1])}}
                                    ).flatten().tolist() == [0.0, 2.0]
    assert len(bn_check.buffer_examples({'buffer': {'examples': examples}})) == 4  # Mammoth's own buffer
    with pytest.raises(ValueError, match='no replay buffer'):
        bn_check.buffer_examples({'model': {}})
    with pytest.raises(ValueError, match='empty'):
        bn_check.buffer_examples({'buffer': {'examples': examples, 'labels': torch.full((4,), -1)}})


def test_stream_batches_with_buffer_keep_the_stream_order():
    stream, buffer = torch.arange(5.0).view(5, 1), torch.full((4, 1), -1.0)
    mixed = bn_check.stream_batches_with_buffer(stream, buffer, batch_size=2)
    assert mixed.flatten().tolist() == [0, 1, -1, -1, 2, 3, -1, -1, 4, -1]
    assert bn_check.stream_batches_with_buffer(stream, None, batch_size=2) is stream
