"""A researcher's first hour (issue 14), as a user runs Mammoth: what it prints when it starts (and the one error
line for a damaged data file), and logging to W&B offline (the in-process checks: tests/unit/test_startup.py)."""

import os
import re
import subprocess
import sys

import pytest

from conftest import DYNAMOS_SEQ_MNIST as DYNAMOS
from conftest import MAMMOTH, REPO, hang_guard
from idx_data import write_mnist_idx


def run_main(args, tmp_path, env=None, timeout=300):
    """`mammoth/main.py ARGS` as a user runs it (not in Mammoth's test mode); returns the CompletedProcess."""
    env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in ('MAMMOTH_TEST', 'LOG_LEVEL')}
    env.update(PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    cmd = [sys.executable, str(MAMMOTH / 'main.py'), *map(str, args), '--results_path', str(tmp_path / 'results'),
           '--num_workers', '0', '--non_verbose', '1']
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=hang_guard(timeout))
    proc.log = proc.stdout + proc.stderr
    return proc


# 1. start-up noise

def test_startup_prints_a_handful_of_lines_before_the_configuration(tmp_path):
    """Before the configuration box: no skipped-module list, FutureWarning, stray print, `[ERROR]` or backbone
    warning (Dynamos sets its backbone). A truncated data file then stops the run right after the box, naming it."""
    raw = write_mnist_idx(tmp_path / 'data', n_train=100, n_test=50)
    images = raw / 'train-images-idx3-ubyte'
    images.write_bytes(images.read_bytes()[:5000])
    proc = run_main(DYNAMOS + ['--buffer_size', '500', '--base_path', tmp_path / 'data'], tmp_path, timeout=120)
    lines = proc.log.splitlines()
    box = next(i for i, line in enumerate(lines) if 'CONFIGURATION' in line)
    before = '\n'.join(lines[:box])
    assert box <= 5, before
    for noise in ('[ERROR]', 'Warning:', 'FutureWarning', "['self', 'args']", 'Skipping', 'No backbone specified',
                  'python-dotenv', 'Default configuration file not found'):
        assert noise not in before, before
    assert len(re.findall(r'Skipped \d+ optional Mammoth modules', before)) <= 1, before
    # the damaged file is named, as corrupt or truncated, in the one error line at the end
    assert proc.returncode == 1
    assert f'ValueError: The MNIST file {images} is corrupt or truncated' in lines[-2], proc.log[-2000:]
    assert 'Traceback' not in proc.log


# 2. a whole run: each line once, no warning a user cannot act on (issue 27, patch 0018)

def console_lines(log: str):
    """A run's console lines without progress bars, the configuration box's empty rows and blank lines, and
    without the logging prefix (``[INFO] date time - ``), as a user reads them."""
    lines = [line for line in log.replace('\r', '\n').splitlines()
             if line.strip() and line.strip() != '║' and not re.search(r'\d+/\d+ \[', line)]
    return [re.sub(r'^\[(INFO|WARNING|ERROR|DEBUG)\] \S+ \S+ - ', '', line).strip() for line in lines]


def test_a_baseline_run_prints_each_line_once_and_no_warning(mnist_dir, tmp_path):
    """ER in debug mode with `--savecheck last`, verbose, on the CPU: every line once (the accuracies, the
    dataloader's workers), no warning but debug mode's (no `No GPU available`, no `No default configuration found
    in er.yaml`, no `is not parsable`), and the checkpoint line names the last task (5, 1-based) and the `.pt`."""
    env = {k: v for k, v in os.environ.items() if k not in ('MAMMOTH_TEST', 'LOG_LEVEL')}
    env.update(PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    cmd = [sys.executable, str(MAMMOTH / 'main.py'), '--model', 'er', '--dataset', 'seq-mnist', '--buffer_size', '50',
           '--backbone', 'ungated-resnet', '--lr', '0.1', '--debug_mode', '1', '--base_path', str(mnist_dir),
           '--results_path', str(tmp_path / 'results'), '--savecheck', 'last', '--checkpoint_path', str(tmp_path / 'ck'),
           '--bn_recal_batches', '0']
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.log[-3000:] if hasattr(proc, 'log') else proc.stderr[-3000:]
    lines = console_lines(proc.stdout + proc.stderr)
    repeated = sorted({line for line in lines if lines.count(line) > 1})
    assert repeated == [], repeated
    warnings = [line for line in (proc.stdout + proc.stderr).splitlines() if 'WARNING' in line or 'Warning' in line]
    assert len(warnings) == 1 and 'Debug mode enabled' in warnings[0], warnings
    assert sum(line.startswith('Accuracy for ') for line in lines) == 5
    saved = [line for line in lines if line.startswith('Checkpoint after task')]
    assert len(saved) == 1 and saved[0].startswith('Checkpoint after task 5 saved at ') and saved[0].endswith('_last.pt')
    assert os.path.isfile(saved[0].split(' saved at ')[1])


def test_without_base_path_the_data_folder_is_dynamos_data(mnist_dir, tmp_path):
    """No `--base_path`: Mammoth reads `$DYNAMOS_DATA` (the plugin's default, patch 0019), not `mammoth/data`."""
    proc = run_main(DYNAMOS + ['--buffer_size', '50', '--debug_mode', '1', '--stop_after', '1'], tmp_path,
                    env={'DYNAMOS_DATA': str(mnist_dir)})
    assert proc.returncode == 0, proc.log[-3000:]
    assert f'base_path: {mnist_dir}/' in proc.log


def test_help_and_argument_errors_import_no_scikit_learn(tmp_path):
    """`--help` and an argument error build Mammoth's whole parser (every model module is imported: that is how
    Mammoth finds its models), but not scikit-learn (patch 0021, about 1.5 s of CPU). The CPU bound is generous:
    measured 5.2-5.9 s per command on this project's loaded 2-core machine (6.1-7.6 s before patch 0021)."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for args in (['--help'], DYNAMOS + ['--buffer_size', '500', '--lr', 'abc']):
        proc = subprocess.run([sys.executable, '-X', 'importtime', str(MAMMOTH / 'main.py'), *args], cwd=REPO,
                              env=dict(os.environ, OMP_NUM_THREADS='1'), capture_output=True, text=True, timeout=300)
        assert proc.returncode == (0 if args == ['--help'] else 2), proc.stderr[-2000:]
        imported = [line.split('|')[-1].strip() for line in proc.stderr.splitlines() if line.startswith('import time:')]
        assert 'torch' in imported and not [m for m in imported if m.startswith('sklearn')]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 2 * 20.0, cpu  # two commands, each well under 20 s of CPU


# 8. W&B (the optional extra `.[wandb]`)

def test_wandb_logs_offline(mnist_dir, tmp_path):
    pytest.importorskip('wandb')
    proc = run_main(DYNAMOS + ['--buffer_size', '50', '--base_path', mnist_dir, '--debug_mode', '1', '--stop_after', '1',
                               '--wandb_project', 'x', '--wandb_entity', 'y'], tmp_path,
                    env={'WANDB_MODE': 'offline', 'WANDB_DIR': str(tmp_path), 'WANDB_SILENT': 'true'})
    assert proc.returncode == 0, proc.log[-3000:]
    assert 'Logging to wandb: y/x' in proc.log
    assert list((tmp_path / 'wandb').glob('offline-run-*/run-*.wandb')), proc.log[-2000:]
