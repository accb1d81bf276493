"""
Are a checkpoint's BatchNorm running statistics what its weights need? A diagnostic for Seq-MNIST and
MNIST-360 runs.

    python -m dynamos_plugin.diagnostics.bn_check --checkpoint PATH [--base_path DIR] [--tasks N] [--out FILE.json]

Mammoth evaluates in ``eval()`` mode, so every BatchNorm layer normalises with the running mean and
variance it accumulated during training (momentum 0.1: mostly the last ~20 steps). When the weights
move fast at the end of a task (small batches, a high learning rate), those statistics can lag
behind the weights, and a whole class can be predicted as another. This command evaluates the
checkpoint's network on the test set with the same weights and different statistics:

1. ``stored``: the running statistics saved in the checkpoint (what Mammoth reported);
2. ``recalibrated_buffer`` (methods with a buffer): statistics recomputed with the final weights over
   the checkpoint's own replay buffer (every written slot, cumulative average, no gradient);
3. ``recalibrated_training_batches``: recomputed over batches built as the last training batches were:
   on Seq-MNIST ``--batch_size`` images of the last task's training split, on MNIST-360 the last
   batches of Mammoth's own training stream (almost all of them the final class pair, 8 and 0, at
   its final rotations),
   each followed by as many buffer examples when there is a buffer; 2000 stream images. If this
   restores the accuracy, the stored statistics were not wrong for the data but stale for the
   weights.

It prints Mammoth's Class-IL and Task-IL accuracy (mean of the per-task accuracies; MNIST-360: one
task, so the plain accuracy, on Mammoth's own rotating test stream) and the per-class accuracy, and
writes them as JSON with ``--out``. Works for the gated (Dynamos) and the un-gated (ER, DER, DER++,
Eq. 8, SGD) backbone of this plugin; gated networks keep thresholded actions while their statistics
are recomputed (the inference path). The JSON names the checkpoint by its path relative to the
repository root when it lies inside it.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import torch
from torch import nn

from dynamos_plugin.diagnostics.section6.data import load_test_set
from dynamos_plugin.glue.paths import default_data_path, mammoth_on_path, repo_relative
from dynamos_plugin.glue.checkpoints import load_checkpoint


def recalibrate_bn(net: nn.Module, examples: torch.Tensor, batch_size: int = 20) -> nn.Module:
    """A copy of ``net`` whose BatchNorm running statistics are the cumulative average over ``examples``, taken
    ``batch_size`` at a time: the recalibration of Mammoth's second evaluation (patch 0015,
    ``utils.bn_recalibration.recalibrated_net``), the rest of the network in ``eval()`` mode, so a gated
    network thresholds its actions as at inference. The weights are not touched; the copy is in ``eval()`` mode.
    """
    if len(examples) == 0:
        raise ValueError('recalibrate_bn needs at least one example')
    with mammoth_on_path():
        from utils.bn_recalibration import batch_norms, recalibrated_net
    if not batch_norms(net):
        raise ValueError('the network has no BatchNorm layer to recalibrate')
    return recalibrated_net(net, (examples[start:start + batch_size] for start in range(0, len(examples), batch_size)))


@torch.no_grad()
def accuracies(net: nn.Module, images: torch.Tensor, labels: np.ndarray, task_of: np.ndarray,
               classes_per_task: Optional[int] = None, batch_size: int = 500) -> Dict[str, object]:
    """Mammoth's Seq-MNIST accuracies of ``net`` (``eval()`` mode): Class-IL and Task-IL as the mean over
    tasks of the per-task accuracy (Task-IL: the arg-max over the task's own classes), and per class.

    Task ``t`` owns the classes ``t * classes_per_task`` .. ``(t + 1) * classes_per_task - 1`` (default: the
    network's outputs split evenly over the tasks present in ``task_of``)."""
    logits = torch.cat([net.eval()(images[s:s + batch_size]) for s in range(0, len(images), batch_size)]).numpy()
    n_tasks = int(task_of.max()) + 1
    classes_per_task = classes_per_task or logits.shape[1] // n_tasks
    pred = logits.argmax(1)
    first = task_of * classes_per_task
    within = logits.copy()
    cols = np.arange(logits.shape[1])[None, :]
    within[(cols < first[:, None]) | (cols >= first[:, None] + classes_per_task)] = -np.inf
    pred_til = within.argmax(1)
    per_task = [100 * float((pred[task_of == t] == labels[task_of == t]).mean()) for t in range(n_tasks)]
    per_task_til = [100 * float((pred_til[task_of == t] == labels[task_of == t]).mean()) for t in range(n_tasks)]
    return {'class_il': float(np.mean(per_task)), 'task_il': float(np.mean(per_task_til)),
            'per_task': per_task, 'per_task_task_il': per_task_til,
            'per_class': [100 * float((pred[labels == c] == c).mean()) for c in np.unique(labels)]}


def buffer_examples(saved: dict) -> torch.Tensor:
    """The written examples of a checkpoint's buffer (Mammoth's buffer, or the plugin's, whose unwritten slots
    have label -1)."""
    buffer = saved.get('buffer')
    if not isinstance(buffer, dict) or 'examples' not in buffer:
        raise ValueError('the checkpoint holds no replay buffer (`buffer.examples`) to recompute the statistics on')
    examples = buffer['examples']
    if 'labels' in buffer:
        examples = examples[torch.as_tensor(buffer['labels']) >= 0]
    if len(examples) == 0:
        raise ValueError('the checkpoint\'s buffer is empty')
    return examples.float()


def training_like_batches(stream: torch.Tensor, buffer: Optional[torch.Tensor], batch_size: int, n: int = 2000,
                          seed: int = 0) -> torch.Tensor:
    """``n`` stream images and ``n`` buffer examples (both drawn at random, with ``seed``) laid out as the
    training batches were: ``batch_size`` stream images, then ``batch_size`` buffer examples, and so on
    (``buffer`` None, a method without one: the stream images alone)."""
    g = torch.Generator().manual_seed(seed)
    n_batches = n // batch_size
    stream = stream[torch.randint(len(stream), (n_batches * batch_size,), generator=g)]
    if buffer is None:
        return stream
    buffer = buffer[torch.randint(len(buffer), (n_batches * batch_size,), generator=g)]
    shape = (n_batches, batch_size, *stream.shape[1:])
    return torch.stack([stream.reshape(shape), buffer.reshape(shape)], 1).reshape(-1, *stream.shape[1:])


def task_train_images(base_path: str, task: int) -> torch.Tensor:
    """The Seq-MNIST training images of ``task`` (0-based; its two classes), in [0, 1]."""
    from torchvision.datasets import MNIST
    try:
        train = MNIST(base_path, train=True, download=False)
    except RuntimeError as e:
        raise FileNotFoundError(f'MNIST training files not found in {Path(base_path) / "MNIST" / "raw"}') from e
    return train.data[train.targets // 2 == task].float().div(255).unsqueeze(1)


def _mnist360(args: dict, base_path: str, is_train: bool):
    """Mammoth's own MNIST-360 stream (training or test) for a run's arguments, reading MNIST from ``base_path``."""
    import os
    from argparse import Namespace
    with mammoth_on_path():
        from datasets.mnist_360 import MNIST360
        from utils.conf import base_path as mammoth_base_path
    mammoth_base_path(str(Path(base_path).resolve()) + os.sep)
    return MNIST360(Namespace(**dict(args, num_workers=0, validation=None)), is_train=is_train)


def mnist360_test_stream(args: dict, base_path: str):
    """MNIST-360's test stream exactly as Mammoth evaluates it (its own loader, the run's seed and batch size),
    gathered into tensors: images, labels, and a task index of 0 (general continual learning: one task)."""
    batches = list(_mnist360(args, base_path, is_train=False))
    labels = torch.cat([y for _, y in batches]).numpy()
    return torch.cat([x for x, _ in batches]), labels, np.zeros_like(labels)


def mnist360_stream_end(args: dict, base_path: str, n: int = 2000) -> torch.Tensor:
    """The last batches of MNIST-360's training stream that hold ``n`` images (or just over: whole batches),
    from Mammoth's own loader with the run's arguments, in the order the stream gives them. With real MNIST
    and ``n=2000`` that is the stream's last pair, 8 and 0 (1981 images with seed 0), at its final
    rotations, after the last images of the pair before it (20 sevens). Rotations advance per image drawn
    and each class loader draws with its own generator seeded by ``--seed`` (Mammoth's
    ``create_seeded_dataloader``), so these are the images the run's last steps trained on."""
    from collections import deque
    last, count = deque(), 0
    for x, _, _ in _mnist360(args, base_path, is_train=True):
        last.append(x)
        count += len(x)
        while count - len(last[0]) >= n:
            count -= len(last.popleft())
    return torch.cat(list(last))


def stream_batches_with_buffer(stream: torch.Tensor, buffer: Optional[torch.Tensor], batch_size: int,
                               seed: int = 0) -> torch.Tensor:
    """``stream`` in order, each ``batch_size`` images followed by ``batch_size`` buffer examples drawn at random
    (with ``seed``), as a rehearsal method's training batches are laid out (``buffer`` None: the stream alone)."""
    if buffer is None:
        return stream
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(0, len(stream), batch_size):
        chunk = stream[i:i + batch_size]
        out += [chunk, buffer[torch.randint(len(buffer), (len(chunk),), generator=g)]]
    return torch.cat(out)


def check(checkpoint: Path, base_path: str, tasks: Optional[int] = None) -> Dict[str, object]:
    """The evaluations of a checkpoint saved after ``tasks`` tasks (default: all; see the module docstring)."""
    net, args = load_checkpoint(checkpoint, require_agents=False)
    saved = torch.load(checkpoint, map_location='cpu', weights_only=False)
    examples = buffer_examples(saved) if saved.get('buffer') is not None else None  # SGD has none
    dataset = args.get('dataset', 'seq-mnist')
    batch_size = int(args.get('batch_size') or 10)
    replay = 2 * batch_size if examples is not None else batch_size  # the training batch: stream (+ replay)
    info = {'checkpoint': repo_relative(checkpoint, resolve=True),
            'args': {k: args.get(k) for k in ('model', 'backbone', 'dataset', 'buffer_size', 'lr', 'seed',
                                                 'batch_size')},
            'buffer_examples_used': 0 if examples is None else int(len(examples))}
    if dataset == 'mnist-360':
        if tasks not in (None, 1):
            raise ValueError('MNIST-360 is one task (general continual learning): --tasks does not apply')
        images, labels, task_of = mnist360_test_stream(args, base_path)
        stream_end = stream_batches_with_buffer(mnist360_stream_end(args, base_path), examples, batch_size)

        def evaluate360(network):
            return accuracies(network, images, labels, task_of, net.classifier.out_features)
        result = dict(info, tasks=1, stored=evaluate360(net))
        if examples is not None:
            result['recalibrated_buffer'] = evaluate360(recalibrate_bn(net, examples, replay))
        result['recalibrated_training_batches'] = evaluate360(recalibrate_bn(net, stream_end, replay))
        return result
    images, labels, task_of = load_test_set(dataset, base_path)
    n_tasks = int(task_of.max()) + 1
    tasks = n_tasks if tasks is None else tasks
    if not 1 <= tasks <= n_tasks:
        raise ValueError(f'--tasks must be between 1 and {n_tasks}, got {tasks}')
    seen = task_of < tasks
    images, labels, task_of = images[seen], labels[seen], task_of[seen]
    per_task = net.classifier.out_features // n_tasks
    mixed = training_like_batches(task_train_images(base_path, tasks - 1), examples, batch_size)

    def evaluate(network):
        return accuracies(network, images, labels, task_of, per_task)
    # the statistics are recomputed over batches of the training size (stream + replay), as they were stored
    result = dict(info, tasks=tasks, stored=evaluate(net))
    if examples is not None:
        result['recalibrated_buffer'] = evaluate(recalibrate_bn(net, examples, replay))
    result['recalibrated_training_batches'] = evaluate(recalibrate_bn(net, mixed, replay))
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog='python -m dynamos_plugin.diagnostics.bn_check', description=__doc__.split('\n\n')[1])
    p.add_argument('--checkpoint', type=Path, required=True, help='a Mammoth checkpoint of a Seq-MNIST or MNIST-360 run')
    p.add_argument('--base_path', default=default_data_path(),
                   help='folder holding MNIST/raw/ (default: $DYNAMOS_DATA, else <repo>/data)')
    p.add_argument('--tasks', type=int, help='the tasks the checkpoint was trained on (a `--savecheck task` checkpoint '
                                          'of an earlier task; default: all): evaluated on those tasks, '
                                          'recalibrated with the last of them')
    p.add_argument('--out', type=Path, help='also write the numbers to this JSON file')
    a = p.parse_args(argv)
    try:
        result = check(a.checkpoint, a.base_path, a.tasks)
    except (ValueError, FileNotFoundError) as e:
        print(f'bn_check: {e}', file=sys.stderr)
        return 1
    for key in ('stored', 'recalibrated_buffer', 'recalibrated_training_batches'):
        if key not in result:
            continue
        r = result[key]
        scores = (f'accuracy {r["class_il"]:.2f}' if result['args']['dataset'] == 'mnist-360'
                  else f'Class-IL {r["class_il"]:.2f}  Task-IL {r["task_il"]:.2f}')
        print(f'{key:>29}: {scores}  per class ' + ' '.join(f'{x:.1f}' for x in r['per_class']))
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
