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


def test_the_committed_refactor_check_matches_except_the_drift_probes_own_line():
    """results/benchmarks/refactor-check/: Mammoth's accuracy lines identical before and after issue 25 for all 12 cases;
    only the drift probe's per-class line changed (its source moved into Mammoth's evaluation)."""
    import json
    debug = load()
    folder = REPO / 'results' / 'benchmarks' / 'refactor-check'
    before = json.loads((folder / 'debug-before-0d026e9.json').read_text())
    after = json.loads((folder / 'debug-after-c60e14a.json').read_text())
    assert sorted(before) == sorted(after) and len(before) == 12
    mammoth_lines = lambda case: [line for line in debug.accuracy_lines('\n'.join(case['lines']))  # noqa: E731
                                  if 'Per-class accuracy' not in line and 'class_accuracy' not in line]
    for name in before:
        assert mammoth_lines(before[name]) == mammoth_lines(after[name]) != [], name
