"""`--bn_recal_batches` (patch 0015) end to end: every Mammoth model logs its recalibrated accuracy beside the protocol's,
and the protocol's accuracies, task by task, are the same with and without it."""

import pytest

from conftest import run_mammoth
from dynamos_plugin.glue.mammoth_log import ACCURACY_RE, RAW_RE, parse_log

BASELINE = ['--dataset', 'seq-mnist', '--buffer_size', '50', '--lr', '0.1', '--backbone', 'ungated-resnet',
            '--seed', '0', '--debug_mode', '1']


@pytest.mark.parametrize('model', [['--model', 'er'], ['--model', 'der', '--alpha', '0.3'],
                                   ['--model', 'derpp', '--alpha', '0.3', '--beta', '0.5']])
def test_models_the_plugin_did_not_write_log_both_accuracies(mnist_dir, tmp_path, model):
    proc = run_mammoth([*model, *BASELINE, '--base_path', mnist_dir], tmp_path)
    assert proc.returncode == 0, proc.log[-3000:]
    parsed = parse_log(proc.log)
    assert parsed['n_tasks'] == 5 and len(parsed['per_task_recal']) == len(parsed['per_task_task_il_recal']) == 5
    assert 0 <= parsed['accuracy_recal'] <= 100
    assert proc.log.count('Recalibrated accuracy for') == 5 * proc.log.count('Accuracy for 5 task(s)')


def test_the_protocol_accuracy_of_every_task_is_unchanged_by_the_second_evaluation(mnist_dir, tmp_path):
    runs = {}
    for n in ('0', '20'):
        proc = run_mammoth(['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '50', '--warmup', '2',
                            '--seed', '0', '--debug_mode', '1', '--base_path', mnist_dir, '--bn_recal_batches', n],
                           tmp_path / n)
        assert proc.returncode == 0, proc.log[-3000:]
        runs[n] = proc.log
    assert 'Recalibrated accuracy' not in runs['0'] and 'Recalibrated accuracy' in runs['20']
    # each task's "Accuracy for k task(s)" and raw values: the same numbers, to the last digit
    assert ACCURACY_RE.findall(runs['0']) == ACCURACY_RE.findall(runs['20'])
    assert len(RAW_RE.findall(runs['0'])) >= 5 and RAW_RE.findall(runs['0']) == RAW_RE.findall(runs['20'])
