"""
Reading a Mammoth log: the final accuracy lines Mammoth prints after each task (and, with patch 0015, the
recalibrated ones), and the line it prints when a signal stops training. Used by the runner, the diagnostics and
the tests; no import of Mammoth or torch.
"""

import re
from typing import Optional

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
