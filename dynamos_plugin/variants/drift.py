"""
Mask drift: how often the routing of the samples the model rehearses changes along the stream.

``dynamos-variants --drift_every N`` takes, every N training steps, a snapshot of the buffer: its
examples, their labels and their *thresholded* masks (the masks the test uses: network in evaluation
mode, ``p >= inf_thresh``; no random draw, no statistic updated, so the run trains exactly as without
the flag). Between two snapshots, a slot that still holds the same example tells how many of its mask
bits flipped (:func:`mask_flips`); the model logs, per class, the mean fraction of bits flipped and the
fraction of examples whose mask changed at all (:func:`drift_by_class`), and, after each evaluation,
each class's test accuracy (Mammoth's own evaluation, ``model.class_accuracy``), so that drift can be
set against forgetting (``results/studies/mnist360-agents/``). Both are lines of
:mod:`dynamos_plugin.runlog` (kinds ``mask_drift`` and ``class_accuracy``).
"""

import contextlib
from typing import Dict, Iterator, List, Tuple

import torch

from dynamos_plugin import runlog


@contextlib.contextmanager
def evaluation_mode(net: torch.nn.Module) -> Iterator[None]:
    """``net`` in evaluation mode for the block, then each of its modules back in the mode it was in."""
    modes = {module: module.training for module in net.modules()}
    net.eval()
    try:
        yield
    finally:
        for module, mode in modes.items():
            module.training = mode


@torch.no_grad()
def thresholded_masks(net, examples: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """The concatenated 0/1 masks ``(N, D)`` that ``net``'s agents apply to ``examples`` at test time."""
    masks = []
    with evaluation_mode(net):
        for start in range(0, examples.shape[0], batch_size):
            _, decisions = net(examples[start:start + batch_size], returnt='agents')
            masks.append(torch.cat([d.actions for d in decisions], dim=1).bool())
    return torch.cat(masks) if masks else torch.zeros(0, 0, dtype=torch.bool)


def mask_flips(previous_examples: torch.Tensor, previous_masks: torch.Tensor,
               examples: torch.Tensor, masks: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per buffer slot: whether it held the same example at both snapshots, and the fraction of its mask bits that
    flipped between them (meaningful where the example is the same).

    Returns:
        ``(same, flipped)``: ``(N,)`` bool and ``(N,)`` float.
    """
    same = (previous_examples.flatten(1) == examples.flatten(1)).all(dim=1)
    flipped = (previous_masks != masks).float().mean(dim=1)
    return same, flipped


def drift_by_class(labels: torch.Tensor, same: torch.Tensor, flipped: torch.Tensor) -> Dict[int, Dict[str, float]]:
    """Per class of the slots that kept their example: how many (``n``), the mean fraction of mask bits flipped
    (``bits``) and the fraction of those examples whose mask changed at all (``changed``)."""
    out = {}
    for label in sorted(set(labels[same].tolist())):
        rows = same & (labels == label)
        out[int(label)] = {'n': int(rows.sum()), 'bits': float(flipped[rows].mean()),
                           'changed': float((flipped[rows] > 0).float().mean())}
    return out


def drift_line(step: int, by_class: Dict[int, Dict[str, float]]) -> str:
    return runlog.format_line('mask_drift', {'step': step, 'classes': by_class})


def class_accuracy_line(accuracy: Dict[int, float]) -> str:
    return runlog.format_line('class_accuracy', {'accuracy': accuracy})


def parse_drift(log_text: str) -> Tuple[List[dict], Dict[int, float]]:
    """The drift snapshots and the last per-class accuracy that a ``--drift_every`` run logged."""
    snapshots = runlog.read(log_text, 'mask_drift')
    for snapshot in snapshots:
        snapshot['classes'] = {int(k): v for k, v in snapshot['classes'].items()}
    accuracies = runlog.read(log_text, 'class_accuracy')
    accuracy = {int(k): v for k, v in accuracies[-1]['accuracy'].items()} if accuracies else {}
    return snapshots, accuracy
