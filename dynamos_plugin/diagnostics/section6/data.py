"""The inputs of every Section 6 figure: the Seq-MNIST test set and what the checkpoint's network does on it."""

from dataclasses import dataclass
from pathlib import Path
from typing import List

import numpy as np
import torch

N_CLASSES, N_TASKS = 10, 5
#: the class names on the figures' axes
CLASSES = [str(c) for c in range(N_CLASSES)]
#: the four gated convolutions of stage 2, in network order
LAYER_NAMES = [f'stage 2 block {b + 1} conv {c + 1}' for b in range(2) for c in range(2)]


def load_test_set(dataset: str, base_path: str):
    """The test images and labels, and the class -> task map (seq-mnist: 5 tasks of 2 classes)."""
    if dataset != 'seq-mnist':
        raise ValueError(f'the analysis supports seq-mnist (the paper\'s Section 6), not {dataset}')
    from torchvision.datasets import MNIST
    raw = Path(base_path) / 'MNIST' / 'raw'
    try:
        test = MNIST(base_path, train=False, download=False)
    except RuntimeError as e:
        raise FileNotFoundError(f'MNIST test files not found in {raw}') from e
    images = test.data.float().div(255).unsqueeze(1)
    labels = test.targets.numpy()
    return images, labels, labels // 2


@torch.no_grad()
def collect(net, images: torch.Tensor, batch_size: int = 500):
    """Thresholded-inference actions of every agent, the last layer's attention vectors, and predictions."""
    actions: List[List[np.ndarray]] = [[] for _ in net.agents]
    attention, preds = [], []
    for start in range(0, len(images), batch_size):
        logits, decisions = net(images[start:start + batch_size], returnt='agents')
        for i, d in enumerate(decisions):
            actions[i].append(d.actions.numpy().astype(np.uint8))
        attention.append(decisions[-1].attention.numpy())
        preds.append(logits.argmax(1).numpy())
    return [np.concatenate(a) for a in actions], np.concatenate(attention), np.concatenate(preds)


@dataclass
class Evaluated:
    """A checkpoint's network and what it does on the test set: what every figure reads."""
    net: object
    args: dict
    images: torch.Tensor
    labels: np.ndarray
    tasks: np.ndarray
    actions: List[np.ndarray]  # per agent, (N, C) thresholded 0/1 actions
    attention: np.ndarray  # (N, C) attention vectors of the last gated layer
    preds: np.ndarray


def evaluate(net, args: dict, dataset: str, base_path: str) -> Evaluated:
    """Runs ``net`` (thresholded inference) over the test set of ``dataset``."""
    images, labels, tasks = load_test_set(dataset, base_path)
    actions, attention, preds = collect(net, images)
    return Evaluated(net, args, images, labels, tasks, actions, attention, preds)
