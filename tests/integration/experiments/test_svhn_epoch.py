"""The Seq-SVHN timing: the real Mammoth and Dynamos, in a subprocess, on a tiny generated SVHN."""

import json

import pytest

from dynamos_plugin.experiments import svhn_timing


def test_measure_svhn_epoch_on_a_tiny_set(tmp_path):
    """The real Mammoth and Dynamos, 2 steps of task 1 on a generated 100-image SVHN."""
    result = svhn_timing.measure_svhn_epoch(tmp_path, n_train=100, n_test=50, threads=1)
    saved = json.loads((tmp_path / 'benchmarks' / 'svhn_epoch_time.json').read_text())
    assert saved['epoch_s'] == result['epoch_s'] and saved['process_s'] == result['process_s']
    # from Mammoth's log, whose time stamps are whole seconds (not the process time, the fallback), and shorter
    # than the process: it leaves out the start-up (importing torch and Mammoth alone takes seconds)
    assert result['epoch_s'] == int(result['epoch_s']) and 0 <= result['epoch_s'] < result['process_s']
    assert (saved['steps'], saved['n_train'], saved['grid_runs']) == (2, 100, 39)
    assert saved['run_h'] == pytest.approx(saved['epoch_s'] * 70 * 5 / 3600)
    assert saved['grid_days'] == pytest.approx(saved['epoch_s'] * 70 * 5 * 39 / 86400)
    assert '--stop_after' in saved['command'] and '--n_epochs' in saved['command']
