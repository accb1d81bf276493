"""The evaluation along the stream of patch 0030 (mammoth/utils/anytime_eval.py, `--eval_every`, `--eval_subset`):
what it measures (against hand-computed values on a stand-in network), and that training with it is bit for bit
training without it (weights, BatchNorm statistics, optimiser state, buffer, random generators), in-process, for
Dynamos (which samples its agents' actions while training) and Mammoth's ER. The final accuracies of whole runs
with and without it: tests/integration/test_anytime_eval.py."""

import json
import random
from argparse import Namespace

import numpy as np
import pytest
import torch
from torch import nn

from conftest import build_model
from dynamos_plugin import runlog


# ---- what it measures ----------------------------------------------------------------------------------------

class _Images(torch.utils.data.Dataset):
    """Test images whose pixel [0, 0] is their label; a stateful transform counts the reads (like MNIST-360's
    incremental rotation)."""

    def __init__(self, labels):
        self.labels = labels
        self.reads = 0

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        self.reads += 1
        x = torch.zeros(1, 2, 2)
        x[0, 0, 0] = self.labels[i]
        return x, self.labels[i]


class _Net(nn.Module):
    """Predicts the label for even labels and class 1 for odd ones; has a BatchNorm layer (to see its mode kept)."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm1d(1)

    def forward(self, x):
        label = x[:, 0, 0, 0].long()
        pred = torch.where(label % 2 == 0, label, torch.ones_like(label))
        return nn.functional.one_hot(pred, 4).float()


class _Model:
    def __init__(self):
        self.net = _Net()
        self.device = torch.device('cpu')

    def __call__(self, x):
        return self.net(x)


class _Dataset:
    N_TASKS = 1

    def __init__(self, labels):
        self.test_loaders = [torch.utils.data.DataLoader(_Images(labels), batch_size=3)]

    def get_offsets(self):
        return 0, 4


def test_seen_class_and_per_class_accuracy_by_hand(mammoth_imported, caplog):
    from utils import anytime_eval
    labels = [0, 0, 1, 1, 2, 3, 3, 3]  # the whole test set (subset size 8 >= 8: all of it)
    dataset, model = _Dataset(labels), _Model()
    evaluator = anytime_eval.AnytimeEvaluator(Namespace(eval_every=2, eval_subset=8, seed=0))
    evaluator.begin_task(dataset, 0)
    assert dataset.test_loaders[0].dataset.reads == 0  # a copy was read, not the run's own test set
    assert sorted(evaluator.labels[0].tolist()) == labels
    model.net.train()
    with caplog.at_level('INFO'):
        evaluator.after_step(model, torch.tensor([0, 1, 0]))  # step 1: classes 0 and 1 arrive; no evaluation
        evaluator.after_step(model, torch.tensor([1, 1]))  # step 2: evaluated
        evaluator.after_step(model, torch.tensor([1, 2]))  # step 3: class 2 arrives
        evaluator.end_task(model)  # step 3 not evaluated yet: the end-of-task point
        evaluator.end_task(model)  # nothing new
    assert model.net.training and model.net.bn.training  # the modes are set back
    records = runlog.read(caplog.text, 'anytime')
    assert len(records) == 2
    first, last = records
    # step 2: seen {0, 1}: class 0 2/2 right, class 1 2/2 right (odd -> 1) => 4/4; class 2 1/1, class 3 0/3
    assert first == {'step': 2, 'task': 1, 'seen': [0, 1], 'seen_accuracy': 100.0,
                     'class_accuracy': {'0': 100.0, '1': 100.0, '2': 100.0, '3': 0.0},
                     'class_total': {'0': 2, '1': 2, '2': 1, '3': 3}, 'arrivals': [[1, [0, 1], [0, 1]]], 'end_of_task': False}
    # step 3: seen {0, 1, 2}: 5 of 5 right
    assert last['step'] == 3 and last['seen'] == [0, 1, 2] and last['seen_accuracy'] == 100.0
    assert last['arrivals'] == [[3, [2], [1, 2]]] and last['end_of_task'] is True


def test_the_subset_is_drawn_once_from_the_seed_and_split_over_tasks(mammoth_imported):
    from utils import anytime_eval
    labels = list(range(4)) * 25  # 100 images
    draws = []
    for seed in (0, 0, 1):
        dataset = _Dataset(labels)
        dataset.N_TASKS = 5
        evaluator = anytime_eval.AnytimeEvaluator(Namespace(eval_every=1, eval_subset=50, seed=seed))
        evaluator.begin_task(dataset, 0)
        evaluator.begin_task(dataset, 0)  # the same loaders: nothing taken again
        assert len(evaluator.inputs) == 1 and len(evaluator.labels[0]) == 50 // 5
        draws.append(evaluator.inputs[0][:, 0, 0, 0].tolist())
    assert draws[0] == draws[1] and draws[0] != draws[2]


# ---- training is unchanged ---------------------------------------------------------------------------------

def _train(mnist_dir, model_args, evaluate: bool, steps: int = 5):
    from utils import anytime_eval
    model, dataset, args = build_model(['--dataset', 'seq-mnist', '--buffer_size', '50', '--seed', '0',
                                        '--base_path', mnist_dir, '--eval_every', '1' if evaluate else '0',
                                        '--eval_subset', '40', *model_args])
    initial = {k: v.clone() for k, v in model.net.state_dict().items()}
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    evaluator = anytime_eval.evaluator(args)
    assert (evaluator is not None) == evaluate
    train_loader, _ = dataset.get_data_loaders()
    if evaluator:
        evaluator.begin_task(dataset, 0)
    model.meta_begin_task(dataset)
    model.net.train()
    batches = iter(train_loader)
    for _ in range(steps):
        x, y, x0 = next(batches)[:3]
        model.meta_observe(x, y, x0, epoch=0)
        if evaluator:
            evaluator.after_step(model, y)
    if evaluator:
        evaluator.end_task(model)
    return {'initial': initial, 'net': model.net.state_dict(), 'opt': model.opt.state_dict(),
            'buffer': [getattr(model.buffer, a) for a in ('examples', 'labels') if hasattr(model.buffer, a)],
            'rng': (torch.get_rng_state(), np.random.get_state()[1], random.getstate()),
            'modes': [m.training for m in model.net.modules()]}


def _equal(a, b):
    """Exact equality of nested containers of tensors, arrays and numbers."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize('model_args', [
    ['--model', 'dynamos', '--warmup', '2'],
    ['--model', 'er', '--lr', '0.1', '--backbone', 'ungated-resnet', '--batch_size', '10', '--minibatch_size', '8'],
], ids=['dynamos', 'er'])
def test_training_with_the_evaluation_is_bit_for_bit_training_without(mammoth_imported, mnist_dir, model_args, caplog):
    with caplog.at_level('INFO'):
        without = _train(mnist_dir, model_args, evaluate=False)
        assert runlog.read(caplog.text, 'anytime') == []
        with_eval = _train(mnist_dir, model_args, evaluate=True)
    assert _equal(without['initial'], with_eval['initial'])  # the same start
    points = runlog.read(caplog.text, 'anytime')
    assert [p['step'] for p in points] == [1, 2, 3, 4, 5]  # it did evaluate, after every step
    assert sum(points[0]['class_total'].values()) == 40 // 5  # task 1's share of --eval_subset 40 (5 tasks)
    for key in ('net', 'opt', 'buffer', 'rng', 'modes'):  # weights and BatchNorm statistics, optimiser, ...
        assert _equal(without[key], with_eval[key]), key


def test_the_log_line_is_the_plugins_format(mammoth_imported):
    from utils import anytime_eval
    assert anytime_eval.PREFIX == runlog.PREFIX and anytime_eval.KIND in runlog.KINDS
    line = runlog.format_line('anytime', {'step': 1})
    assert runlog.read(line, 'anytime') == [{'step': 1}] and json.loads(line[len(runlog.PREFIX):])['kind'] == 'anytime'
