"""
The glue between the lab tooling (:mod:`dynamos_plugin.experiments`, :mod:`dynamos_plugin.diagnostics`,
``benchmarks/``, ``tests/``) and Mammoth: where the repository and its Mammoth are, the default data
folder, importing Mammoth's packages by the top-level names its ``main.py`` uses, reading the
accuracy lines of a Mammoth log, and rebuilding a network from a Mammoth checkpoint.

The method's own modules (agent, backbone, losses, buffer, dynamos, msa, stats, argtypes) never
import this: Mammoth imports them through the plugin entry point.
"""

import contextlib
import os
import re
import sys
from pathlib import Path
from typing import Iterator, Optional, Tuple

#: the repository root (this package lives in ``<repo>/dynamos_plugin``; it is installed editable)
REPO = Path(__file__).resolve().parent.parent
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


# ---- Mammoth's log ---------------------------------------------------------------------------

# Mammoth (utils/loggers.py, print_mean_accuracy) prints, after every task:
#   Accuracy for 5 task(s): \t [Class-IL]: 88.61 % \t [Task-IL]: 98.34 %
#   Accuracy for 1 task(s): [Domain-IL]: 88.15 %          (domain-il and general-continual)
#   \tRaw accuracy values: Class-IL [..] | Task-IL [..]   or   Raw accuracy values: Domain-IL [..]
# "Future Accuracy for ..." (--eval_future) and "Joint Accuracy" lines are not final accuracies.
ACCURACY_RE = re.compile(r'(?<!Future )Accuracy for (\d+) task\(s\):\s+\[(Class-IL|Domain-IL)\]:\s+([\d.]+) %'
                         r'(?:\s+\[Task-IL\]:\s+([\d.]+) %)?')
RAW_RE = re.compile(r'Raw accuracy values: (?:Class-IL|Domain-IL) \[([^\]]*)\](?: \| Task-IL \[([^\]]*)\])?')
_NUMBER_RE = re.compile(r'[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?')
# With --bn_recal_batches (patch 0015) each task's accuracy lines are followed by the same two lines for the network
# with its BatchNorm statistics recalibrated: "Recalibrated accuracy for 5 task(s): ..." and
# "\tRecalibrated raw accuracy values: ...".
RECAL_ACCURACY_RE = re.compile(r'Recalibrated accuracy for (\d+) task\(s\):\s+\[(?:Class-IL|Domain-IL)\]:\s+([\d.]+) %'
                               r'(?:\s+\[Task-IL\]:\s+([\d.]+) %)?')
RECAL_RAW_RE = re.compile(r'Recalibrated raw accuracy values: (?:Class-IL|Domain-IL) \[([^\]]*)\]'
                          r'(?: \| Task-IL \[([^\]]*)\])?')
#: what Mammoth logs when a signal stops its training early (it then exits 0)
STOPPED_LINE = 'Training stopped by signal handler'


def parse_log(text: str) -> Optional[dict]:
    """The final accuracy of a Mammoth log; None when it has no accuracy line.

    Returns ``n_tasks``, ``setting`` (Class-IL or Domain-IL), ``accuracy`` (the mean final
    accuracy in that setting), ``task_il`` (None for Domain-IL), ``per_task`` and
    ``per_task_task_il`` (the last "Raw accuracy values" line; lists of floats); for a run that
    evaluated with recalibrated BatchNorm statistics (``--bn_recal_batches``), the same four with
    ``_recal`` (``accuracy_recal``, ...).
    """
    finals = ACCURACY_RE.findall(text)
    if not finals:
        return None
    n_tasks, setting, accuracy, task_il = finals[-1]
    raws = RAW_RE.findall(text)
    per_task, per_task_til = raws[-1] if raws else ('', '')
    numbers = lambda s: [float(v) for v in _NUMBER_RE.findall(s)]  # noqa: E731  (lists or numpy reprs)
    parsed = {'n_tasks': int(n_tasks), 'setting': setting, 'accuracy': float(accuracy),
              'task_il': float(task_il) if task_il else None,
              'per_task': numbers(per_task), 'per_task_task_il': numbers(per_task_til)}
    recal = RECAL_ACCURACY_RE.findall(text)
    if recal and int(recal[-1][0]) == parsed['n_tasks']:  # the recalibrated evaluation of the same last task
        _, recal_accuracy, recal_task_il = recal[-1]
        recal_raws = RECAL_RAW_RE.findall(text)
        recal_per_task, recal_per_task_til = recal_raws[-1] if recal_raws else ('', '')
        parsed.update(accuracy_recal=float(recal_accuracy), task_il_recal=float(recal_task_il) if recal_task_il else None,
                      per_task_recal=numbers(recal_per_task), per_task_task_il_recal=numbers(recal_per_task_til))
    return parsed


# ---- checkpoints -----------------------------------------------------------------------------

def load_checkpoint(path: Path, require_agents: bool = True) -> Tuple[object, dict]:
    """Rebuilds the backbone of a Mammoth checkpoint (``safe`` or ``old_pickle`` format); returns ``(net, args)``,
    the network in eval mode.

    With ``require_agents`` (the Section 6 analysis) a network without agents is refused; without it,
    the un-gated twin (``ungated-resnet``, what the baselines train) is rebuilt too.
    """
    import torch
    with mammoth_on_path():
        from dynamos_plugin.backbone import backbone_from_checkpoint
    try:
        saved = torch.load(path, map_location='cpu', weights_only=False)
    except Exception as e:
        raise ValueError(f'Cannot read the checkpoint {path}: {type(e).__name__}: {e}') from e
    if not isinstance(saved, dict) or 'model' not in saved or 'args' not in saved:
        raise ValueError(f'{path} is not a Mammoth checkpoint (expected the keys `model` and `args`)')
    args = saved['args'] if isinstance(saved['args'], dict) else vars(saved['args'])
    state = {k[len('net.'):]: v for k, v in saved['model'].items() if k.startswith('net.')}
    if require_agents and not any('agent' in k for k in state):
        raise ValueError(f'{path} holds a network without agents (model `{args.get("model")}`, backbone '
                         f'`{args.get("backbone")}`): the analysis needs a Dynamos checkpoint')
    return backbone_from_checkpoint(state, args), args
