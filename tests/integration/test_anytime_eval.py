"""`--eval_every` (patch 0030) end to end: a run with the evaluation along the stream ends with the same accuracies, task
by task and to the last digit (protocol and recalibrated BatchNorm), as the same run without it, for Dynamos, the
Eq. 8 baseline and DER++; and it logs its points in the plugin's format."""

import pytest

from conftest import run_mammoth
from dynamos_plugin import runlog
from dynamos_plugin.glue.mammoth_log import ACCURACY_RE, RAW_RE, RECAL_RAW_RE

COMMON = ['--dataset', 'seq-mnist', '--buffer_size', '50', '--seed', '0', '--debug_mode', '1']
MODELS = {
    'dynamos': ['--model', 'dynamos', '--warmup', '2'],
    'msa': ['--model', 'msa'],
    'derpp': ['--model', 'derpp', '--backbone', 'ungated-resnet', '--lr', '0.03', '--alpha', '1.0', '--beta', '0.5',
              '--batch_size', '10', '--minibatch_size', '10'],
}


@pytest.mark.parametrize('model', list(MODELS))
def test_final_accuracies_are_identical_with_and_without_the_evaluation(mnist_dir, tmp_path, model):
    logs = {}
    for every in ('0', '3'):
        proc = run_mammoth([*MODELS[model], *COMMON, '--base_path', mnist_dir, '--eval_every', every,
                            '--eval_subset', '50'], tmp_path / every)
        assert proc.returncode == 0, proc.log[-3000:]
        logs[every] = proc.log
    assert runlog.read(logs['0'], 'anytime') == []
    points = runlog.read(logs['3'], 'anytime')
    # debug mode trains a handful of steps per task: a point every 3 steps, and one after each task's last step unless
    # that step was just evaluated
    assert sorted({p['task'] for p in points}) == [1, 2, 3, 4, 5]
    assert all(p['step'] % 3 == 0 or p['end_of_task'] for p in points)
    assert [p['step'] for p in points] == sorted({p['step'] for p in points})  # increasing, no step twice
    assert points[-1]['seen'] == list(range(10)) and sum(points[-1]['class_total'].values()) == 50
    for pattern in (ACCURACY_RE, RAW_RE, RECAL_RAW_RE):  # every task's accuracies, to the last printed digit
        assert pattern.findall(logs['0']) and pattern.findall(logs['0']) == pattern.findall(logs['3'])
