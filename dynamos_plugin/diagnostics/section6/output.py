"""The analysis' output folder: figures as PNG, the numbers behind them as standard JSON, and the list of both."""

import json
from pathlib import Path
from typing import List

import numpy as np


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def finite(obj):
    """The object with every NaN or infinite float replaced by None, so that the JSON is standard."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


class Output:
    """The output folder, and the names of the files written to it (in order)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files: List[str] = []
        folder.mkdir(parents=True, exist_ok=True)

    def save(self, fig, name: str) -> None:
        """Lays a figure out (``tight_layout``), writes it as ``name`` (PNG, 130 dpi) and closes it."""
        fig.tight_layout()
        fig.savefig(self.folder / name, dpi=130)
        pyplot().close(fig)
        self.files.append(name)

    def dump(self, obj, name: str) -> None:
        """Writes ``obj`` as standard JSON (NaN and infinities as null)."""
        write_json(obj, self.folder / name)
        self.files.append(name)


def write_json(obj, path: Path) -> None:
    path.write_text(json.dumps(finite(obj), indent=1, allow_nan=False) + '\n')


def heatmap(ax, data, ylabels, title, xlabel, xticks=None, vmax=1.0, cmap='viridis', cbar_label='activation rate'):
    """``data`` as an image with a colour bar, one labelled row per entry of ``ylabels``."""
    im = ax.imshow(data, aspect='auto', cmap=cmap, vmin=0, vmax=vmax, interpolation='nearest')
    ax.set_yticks(range(len(ylabels)))
    ax.set_yticklabels(ylabels)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if xticks is not None:
        ax.set_xticks(*xticks)
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.04)
    cbar.set_label(cbar_label)
    return im
