"""What runs log for programs (dynamos_plugin/runlog.py): one JSON line per record after a fixed prefix, read back by
kind, in the order logged, with the older formats of the committed logs read into the same dictionaries."""

import pytest

from dynamos_plugin import runlog
from dynamos_plugin.glue.paths import REPO
from dynamos_plugin.stats import parse_trace
from dynamos_plugin.variants.drift import parse_drift


def test_a_line_reads_back_as_written():
    line = runlog.format_line('stats', {'task': 2, 'steps': 5, 'losses': {'total': -1.5}})
    assert line == 'dynamos-log {"kind": "stats", "task": 2, "steps": 5, "losses": {"total": -1.5}}'
    text = f'[INFO] 05-Dec-26 10:00:00 - {line}\nAccuracy for 1 task(s): [Domain-IL]: 50.0 %\n'
    assert runlog.read(text, 'stats') == [{'task': 2, 'steps': 5, 'losses': {'total': -1.5}}]
    assert runlog.read(text, 'mask_drift') == []


def test_kinds_are_kept_apart_and_in_the_order_logged_old_and_new():
    text = '\n'.join([
        'Mask drift: {"step": 100, "classes": {}}',  # an older line first
        runlog.format_line('class_accuracy', {'accuracy': {'0': 1.0}}),
        runlog.format_line('mask_drift', {'step': 200, 'classes': {}}),
        'Mask drift: {"step": 300, "classes": {}}',
    ])
    assert [r['step'] for r in runlog.read(text, 'mask_drift')] == [100, 200, 300]
    assert runlog.read(text, 'class_accuracy') == [{'accuracy': {'0': 1.0}}]


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind of log line 'drift'"):
        runlog.format_line('drift', {})
    with pytest.raises(ValueError, match='unknown kind'):
        runlog.read('', 'drift')


def test_a_committed_log_of_the_older_format_still_reads():
    """An agents-study run (made before this format): its task line, drift snapshots and per-class accuracy."""
    study = (REPO / 'results/studies/mnist360-agents/faithful/logs/mnist-360__dynamos__buf500__seed0.log').read_text()
    snapshots, accuracy = parse_drift(study)
    assert len(snapshots) == 32 and [s['step'] for s in snapshots[:2]] == [200, 300]
    assert sorted(accuracy) == list(range(9)) and all(0 <= a <= 100 for a in accuracy.values())
    (task,) = parse_trace(study)['tasks']
    assert task['steps'] == 3377 and task['keep'] == [0.687, 0.684, 0.683, 0.675] and task['buffer_size'] == 500
