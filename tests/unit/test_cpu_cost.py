import importlib.util

import pytest

from dynamos_plugin.glue.paths import REPO


def load_cpu_cost():
    spec = importlib.util.spec_from_file_location('cpu_cost', REPO / 'benchmarks' / 'cpu_cost.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# the end of a run's log as Mammoth writes it with --non_verbose 1 (patches 0018-0021: each line once, with the
# logger's prefix): the benchmark's first parser looked for lines starting with "Accuracy for" and found none
NON_VERBOSE_END = """[INFO] 06-Dec-26 04:24:41 - dynamos-log {"kind": "anytime", "step": 3387, "task": 1, "seen_accuracy": 66.8}
[INFO] 06-Dec-26 04:25:18 - Accuracy for 1 task(s): [Domain-IL]: 66.48 %
[INFO] 06-Dec-26 04:25:18 - \tRaw accuracy values: Domain-IL [66.47758869981092]


[INFO] 06-Dec-26 04:25:18 - Recalibrated accuracy for 1 task(s): [Domain-IL]: 65.32 %
[INFO] 06-Dec-26 04:25:18 - \tRecalibrated raw accuracy values: Domain-IL [65.32087643198754]
[INFO] 06-Dec-26 04:25:18 - System stats:
"""


def test_the_final_accuracy_is_read_from_a_non_verbose_log():
    cost = load_cpu_cost()
    assert cost.final_accuracy(NON_VERBOSE_END) == {'accuracy': 66.48, 'accuracy_recal': 65.32,
                                                    'raw': [66.47758869981092], 'raw_recal': [65.32087643198754]}
    plain = NON_VERBOSE_END.replace('[INFO] 06-Dec-26 04:25:18 - ', '')  # Mammoth's verbose print of the same
    assert cost.final_accuracy(plain) == cost.final_accuracy(NON_VERBOSE_END)
    with pytest.raises(ValueError, match='no final accuracy'):
        cost.final_accuracy(NON_VERBOSE_END.split('\n', 1)[0])  # stopped before the final evaluation
