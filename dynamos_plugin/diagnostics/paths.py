"""How the diagnostics store the path of a checkpoint or log they read: relative to the repository root."""

from pathlib import Path
from typing import Union

from dynamos_plugin.mammoth_glue import REPO


def repo_relative(path: Union[str, Path]) -> str:
    """``path`` as the diagnostics write it into their results: relative to the repository root, with ``/``
    separators, when it lies inside the repository (``results/x.log`` given from the root and the same file
    given by its absolute path both read ``results/x.log``); a path outside it is returned as given.

    A relative ``path`` is taken relative to the working directory, as the command that was given it did."""
    try:
        return Path(path).resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(path)
