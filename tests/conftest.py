"""Shared fixtures: paths, Mammoth on sys.path with the plugin registered, generated MNIST, subprocess runs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dynamos_plugin.mammoth_glue import MAMMOTH, REPO, parse_log

PYTHON = sys.executable
PINNED_COMMIT = 'e75a491c69fd729edeb01431afb753d9157d9a81'

def parse_accuracy(text: str):
    """The last Mammoth accuracy line of a log: ``(number of tasks, setting, accuracy)``, or None."""
    parsed = parse_log(text)
    return None if parsed is None else (parsed['n_tasks'], parsed['setting'], parsed['accuracy'])


def run_mammoth(args, tmp_path, timeout=600):
    """Runs ``mammoth/main.py ARGS`` in a subprocess from the repository root; returns the CompletedProcess."""
    env = dict(os.environ, MAMMOTH_TEST='1', PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2')
    cmd = [PYTHON, str(MAMMOTH / 'main.py'), *map(str, args),
           '--results_path', str(tmp_path / 'results'), '--non_verbose', '1']
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    proc.log = proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope='session')
def mammoth_imported():
    """Mammoth importable by its top-level names (as main.py does), with the plugins registered.

    Mammoth finds its own modules and configuration files relative to the working directory
    (importing its `models` package chdirs into mammoth/), so in-process tests run from there.
    """
    cwd = os.getcwd()
    if str(MAMMOTH) not in sys.path:
        sys.path.insert(0, str(MAMMOTH))
    os.chdir(MAMMOTH)
    from utils import setup_logging
    from utils.plugins import load_plugins
    # Mammoth's logging setup removes the root logger's handlers the first time it runs (once per
    # process): run it now, so that it never removes a test's `caplog` handler mid-test
    setup_logging()
    yield load_plugins()
    os.chdir(cwd)


@pytest.fixture(scope='session')
def mnist_dir(tmp_path_factory):
    """A small generated MNIST in the standard layout ``<dir>/MNIST/raw/``: 500 train and 200 test images."""
    from idx_data import write_mnist_idx
    root = tmp_path_factory.mktemp('mnist')
    write_mnist_idx(root, n_train=500, n_test=200, seed=0)
    return root


@pytest.fixture(scope='session')
def checkpoint(mnist_dir, tmp_path_factory):
    """A Dynamos checkpoint that `mammoth/main.py --savecheck last` saved after a short run on the generated MNIST
    (shared by the analysis and the BatchNorm-check tests).

    One thread: on this 2-core machine, with other training runs under way, two OpenMP threads per
    process make the run about ten times slower. `--debug_mode 1` stops each task after a few steps.
    """
    tmp = tmp_path_factory.mktemp('analysis')
    env = dict(os.environ, MAMMOTH_TEST='1', PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    cmd = [sys.executable, str(REPO / 'mammoth' / 'main.py'), '--model', 'dynamos', '--warmup', '2',
           '--dataset', 'seq-mnist', '--buffer_size', '50', '--seed', '0', '--base_path', str(mnist_dir),
           '--debug_mode', '1', '--num_workers', '0', '--savecheck', 'last', '--checkpoint_path', str(tmp / 'ckpt'),
           '--ckpt_name', 'run', '--results_path', str(tmp / 'results'), '--non_verbose', '1']
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-2000:]
    saved = list((tmp / 'ckpt').glob('run_*_last.pt'))  # Mammoth appends model, dataset, buffer, time to the name
    assert len(saved) == 1, list((tmp / 'ckpt').iterdir())
    return saved[0]


def build_model(cmd):
    """Parses a Mammoth command line and builds model and dataset in-process, as `mammoth/main.py` does
    (needs the `mammoth_imported` fixture); returns ``(model, dataset, args)``."""
    import main
    args = main.parse_args([str(c) for c in cmd])
    model, dataset, args = main.initialize(args)
    model.net.to(model.device)
    return model, dataset, args
