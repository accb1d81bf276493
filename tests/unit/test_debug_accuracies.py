"""benchmarks/debug_accuracies.py: the accuracy lines it keeps, and a comparison that reads them back unchanged."""

import importlib.util

from dynamos_plugin.glue.paths import REPO


def load():
    spec = importlib.util.spec_from_file_location('debug_accuracies', REPO / 'benchmarks' / 'debug_accuracies.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_accuracy_lines_drop_timestamps_and_are_idempotent(capsys):
    debug = load()
    log = ('Accuracy for 1 task(s): \t [Class-IL]: 65.0 %\n'
           '[INFO] 05-Dec-26 14:05:51 - Accuracy for 1 task(s): \t [Class-IL]: 65.0 %\n'
           '\tRaw accuracy values: Class-IL [65.0]\n'
           '[INFO] 05-Dec-26 14:05:51 - \tRaw accuracy values: Class-IL [65.0]\n'
           'Future Accuracy for 1 task(s): 3.0 %\nloss 0.3\n')
    lines = debug.accuracy_lines(log)
    assert lines == ['Accuracy for 1 task(s): \t [Class-IL]: 65.0 %'] * 2 + ['Raw accuracy values: Class-IL [65.0]'] * 2
    assert debug.accuracy_lines('\n'.join(lines)) == lines
    raw = {'a': {'lines': log.splitlines()}}
    assert debug.compare(raw, {'a': {'lines': lines}}) == 0
    assert debug.compare(raw, {'a': {'lines': lines[:-1]}}) == 1
    assert 'DIFFERS a' in capsys.readouterr().out
