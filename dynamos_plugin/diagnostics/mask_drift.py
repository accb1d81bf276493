"""
Mask drift: how often the routing of the samples the model rehearses changes along the stream.

``dynamos --drift_every N`` takes, every N training steps, a snapshot of the buffer: its examples,
their labels and their *thresholded* masks (the masks the test uses: network in evaluation mode,
``p >= inf_thresh``; no random draw, no statistic updated, so the run trains exactly as without the
flag). Between two snapshots, a slot that still holds the same example tells how many of its mask
bits flipped (:func:`mask_flips`); the model logs, per class, the mean fraction of bits flipped and
the fraction of examples whose mask changed at all (:func:`drift_by_class`), and, at the end of the
run, each class's test accuracy, so that drift can be set against forgetting
(``results/studies/mnist360-agents/``).
"""

import json
import re
from typing import Dict, Iterable, List, Tuple

import torch

DRIFT_PREFIX = 'Mask drift: '
CLASS_ACCURACY_PREFIX = 'Per-class accuracy: '


@torch.no_grad()
def thresholded_masks(net, examples: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """The concatenated 0/1 masks ``(N, D)`` that ``net``'s agents apply to ``examples`` at test time.

    The network is put in evaluation mode for the call and given back in the mode it was in (module by module).
    """
    modes = {module: module.training for module in net.modules()}
    net.eval()
    try:
        masks = []
        for start in range(0, examples.shape[0], batch_size):
            _, decisions = net(examples[start:start + batch_size], returnt='agents')
            masks.append(torch.cat([d.actions for d in decisions], dim=1).bool())
        return torch.cat(masks) if masks else torch.zeros(0, 0, dtype=torch.bool)
    finally:
        for module, mode in modes.items():
            module.training = mode


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


@torch.no_grad()
def class_accuracy(net, batches: Iterable, device) -> Dict[int, float]:
    """Test accuracy (%) per class over ``batches`` of ``(inputs, labels, ...)``, the network in evaluation mode."""
    modes = {module: module.training for module in net.modules()}
    net.eval()
    correct: Dict[int, int] = {}
    total: Dict[int, int] = {}
    try:
        for data in batches:
            inputs, labels = data[0].to(device), data[1].to(device)
            hits = net(inputs).argmax(dim=1) == labels
            for label, hit in zip(labels.tolist(), hits.tolist()):
                total[label] = total.get(label, 0) + 1
                correct[label] = correct.get(label, 0) + int(hit)
    finally:
        for module, mode in modes.items():
            module.training = mode
    return {label: 100.0 * correct[label] / total[label] for label in sorted(total)}


def drift_line(step: int, by_class: Dict[int, Dict[str, float]]) -> str:
    return DRIFT_PREFIX + json.dumps({'step': step, 'classes': by_class})


def parse_drift(log_text: str) -> Tuple[List[dict], Dict[int, float]]:
    """The drift snapshots and the per-class accuracy that a ``--drift_every`` run logged."""
    snapshots = [json.loads(m.group(1)) for m in re.finditer(re.escape(DRIFT_PREFIX) + r'(\{.*\})', log_text)]
    for snapshot in snapshots:
        snapshot['classes'] = {int(k): v for k, v in snapshot['classes'].items()}
    accuracy = {}
    for m in re.finditer(re.escape(CLASS_ACCURACY_PREFIX) + r'(\{.*\})', log_text):
        accuracy = {int(k): v for k, v in json.loads(m.group(1)).items()}
    return snapshots, accuracy
