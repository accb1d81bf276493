"""A small, learnable MNIST in the standard IDX format, for tests that run Mammoth end to end."""

from pathlib import Path

import numpy as np

FILES = {
    (True, 'images'): 'train-images-idx3-ubyte',
    (True, 'labels'): 'train-labels-idx1-ubyte',
    (False, 'images'): 't10k-images-idx3-ubyte',
    (False, 'labels'): 't10k-labels-idx1-ubyte',
}


def _write_idx(path: Path, array: np.ndarray) -> None:
    """IDX: magic 0x00000803 (3-d uint8) or 0x00000801 (1-d uint8), big-endian sizes, then the bytes."""
    header = np.array([0x800 + array.ndim, *array.shape], dtype='>i4').tobytes()
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def digit_images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """28x28 images whose class is a bright 8x8 block at one of ten places, with jitter and noise: easy to learn."""
    images = rng.integers(0, 50, size=(len(labels), 28, 28))
    for i, label in enumerate(labels):
        row, col = divmod(int(label), 5)
        r = 2 + 12 * row + int(rng.integers(0, 3))
        c = 1 + 5 * col + int(rng.integers(0, 2))
        images[i, r:r + 8, c:c + 5] = 255
    return images.astype(np.uint8)


def write_mnist_idx(root, n_train: int = 500, n_test: int = 200, seed: int = 0) -> Path:
    """Writes ``root/MNIST/raw/`` with the four standard IDX files; every class appears equally often."""
    rng = np.random.default_rng(seed)
    raw = Path(root) / 'MNIST' / 'raw'
    raw.mkdir(parents=True, exist_ok=True)
    for train, n in ((True, n_train), (False, n_test)):
        labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
        _write_idx(raw / FILES[train, 'images'], digit_images(labels, rng))
        _write_idx(raw / FILES[train, 'labels'], labels)
    return raw
