"""
Where things are, for the lab tooling (:mod:`dynamos_plugin.experiments`, :mod:`dynamos_plugin.diagnostics`,
``benchmarks/``, ``tests/``): the repository and its Mammoth, the default data folder, paths as committed
results hold them (relative to the repository), and Mammoth importable by the top-level names its ``main.py`` uses.

The method's own modules (agent, backbone, losses, buffer, dynamos, msa, stats, argtypes) never import
:mod:`dynamos_plugin.glue`: Mammoth imports them through the plugin entry point.
"""

import contextlib
import os
import sys
from pathlib import Path
from typing import Iterator

#: the repository root (this module lives in ``<repo>/dynamos_plugin/glue``; it is installed editable)
REPO = Path(__file__).resolve().parents[2]
#: the Mammoth submodule, with ``patches/`` applied by ``setup.sh``
MAMMOTH = REPO / 'mammoth'


#: the data folder the README's examples use (``--base_path "$PWD/data"``; git-ignored)
DEFAULT_DATA = REPO / 'data'


def default_data_path() -> str:
    """The data folder (Mammoth's ``--base_path``) the lab tools use unless told otherwise:
    ``$DYNAMOS_DATA``, else ``<repo>/data`` (:data:`DEFAULT_DATA`, the folder of the README's examples)."""
    return os.environ.get('DYNAMOS_DATA') or str(DEFAULT_DATA)


def repo_relative(path, resolve: bool = False) -> str:
    """``path`` as committed results hold it: relative to the repository root (``/`` separators) when it
    lies inside the repository, unchanged otherwise (a path elsewhere, a word such as ``python3``).

    An absolute path is normalised first (``runs/../results`` is ``results``); a relative one is left as
    given (a data folder as the user typed it), unless ``resolve``: then it is taken relative to the
    working directory, as the command that was given it did.
    """
    text = str(path)
    if os.path.isabs(text):
        absolute = os.path.normpath(text)
    elif resolve:
        absolute = str(Path(text).resolve())
    else:
        return text
    with contextlib.suppress(ValueError):
        return Path(absolute).relative_to(REPO).as_posix()
    return text


@contextlib.contextmanager
def mammoth_on_path() -> Iterator[None]:
    """Mammoth importable by its top-level names (``models``, ``backbone``, ``datasets``, ``utils``), as
    ``main.py`` has it; importing some of them chdirs into ``mammoth/``: the working directory is restored."""
    if str(MAMMOTH) not in sys.path:
        sys.path.insert(0, str(MAMMOTH))
    cwd = os.getcwd()
    try:
        yield
    finally:
        os.chdir(cwd)
