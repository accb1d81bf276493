"""Seq-SVHN, not run on a CPU: one epoch of Dynamos timed on a synthetic SVHN-sized set, and the grid
projected from it (``<results>/benchmarks/svhn_epoch_time.json``, which the report quotes)."""

import datetime
import math
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

from dynamos_plugin.experiments.grid import DATASETS, default_mammoth_cmd, grid
from dynamos_plugin.experiments.records import hardware, write_json
from dynamos_plugin.glue.paths import REPO, repo_relative
from dynamos_plugin.glue.mammoth_log import ACCURACY_RE, parse_log

#: where the measurement goes, under the results folder (the report reads it there)
SVHN_TIMING = Path('benchmarks') / 'svhn_epoch_time.json'
# Seq-SVHN's size, for the epoch-time measurement (the real train and test splits)
SVHN_TRAIN, SVHN_TEST = 73257, 26032

_LOG_TIME_RE = re.compile(r'\[INFO\] (\d{2}-\w{3}-\d{2} \d{2}:\d{2}:\d{2}) - (.*)')


def _task1_seconds(log: str) -> Optional[float]:
    """Seconds from Mammoth's "Task 1" log line to its first accuracy line (training and evaluation of task 1)."""
    start = end = None
    for stamp, message in _LOG_TIME_RE.findall(log):
        when = datetime.datetime.strptime(stamp, '%d-%b-%y %H:%M:%S')
        if start is None and message.strip() == 'Task 1':
            start = when
        elif start is not None and ACCURACY_RE.search(message):
            end = when
            break
    return (end - start).total_seconds() if start and end else None


def write_synthetic_svhn(folder: Path, n_train: int, n_test: int, seed: int = 0) -> None:
    """``folder/train_32x32.mat`` and ``test_32x32.mat`` in SVHN's format: X (32, 32, 3, N) uint8, y (N, 1) in 1..10."""
    import numpy as np
    import scipy.io
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (('train', n_train), ('test', n_test)):
        scipy.io.savemat(folder / f'{split}_32x32.mat',
                         {'X': rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8),
                          'y': (np.arange(n) % 10 + 1).astype(np.uint8)[:, None]})


def _timed_epoch(mammoth_cmd: List[str], n_train: int, n_test: int, threads: int) -> dict:
    """Runs the one-epoch Mammoth process on a fresh synthetic SVHN; its output, wall time, load and command."""
    with tempfile.TemporaryDirectory(prefix='svhn_epoch_') as tmp:
        write_synthetic_svhn(Path(tmp) / 'SVHN', n_train, n_test)
        cmd = mammoth_cmd + ['--model', 'dynamos', '--dataset', 'seq-svhn32', '--buffer_size', '500',
                             '--n_epochs', '1', '--stop_after', '1', '--warmup', '0', '--seed', '0', '--base_path', tmp,
                             '--results_path', str(Path(tmp) / 'results'), '--non_verbose', '1']
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONUNBUFFERED='1')
        load_before = os.getloadavg()[0]
        start = time.time()
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        process_s = time.time() - start
    if proc.returncode != 0 or parse_log(proc.stdout) is None:
        raise RuntimeError(f'the Seq-SVHN timing run failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}')
    return {'log': proc.stdout, 'process_s': process_s, 'command': [repo_relative(part) for part in cmd],
            'conditions': f'load average {load_before:.2f} before and {os.getloadavg()[0]:.2f} after the run'}


def measure_svhn_epoch(results_dir: Path, n_train: int = SVHN_TRAIN, n_test: int = SVHN_TEST, threads: int = 2,
                       mammoth_cmd: Optional[List[str]] = None) -> dict:
    """Times one epoch of task 1 of Dynamos (buffer 500) on a synthetic SVHN of the given size; projects the grid.

    The data is random (timing does not depend on it). The run is ``--n_epochs 1 --stop_after 1
    --warmup 0`` (agents and replay on from the first step, like 60 of the 70 epochs). The epoch
    time is taken from Mammoth's log (from "Task 1" to the task's accuracy line, so it includes
    one evaluation of task 1's test set but not the process start-up); the process wall time is
    kept too. Projection: epoch time x 70 epochs x 5 tasks per run, times the runs of the grid.
    Writes ``results_dir/benchmarks/svhn_epoch_time.json``.
    """
    timed = _timed_epoch(mammoth_cmd or default_mammoth_cmd(), n_train, n_test, threads)
    epoch = _task1_seconds(timed['log'])
    epoch = timed['process_s'] if epoch is None else epoch
    grid_runs = len(grid(('svhn',)))
    per_run = epoch * DATASETS['seq-svhn32'].n_epochs * 5
    result = {'epoch_s': epoch, 'process_s': timed['process_s'], 'steps': math.ceil(n_train / 5 / 16),
              'n_train': n_train, 'n_test': n_test, 'threads': threads, 'run_h': per_run / 3600,
              'grid_runs': grid_runs, 'grid_h': per_run * grid_runs / 3600, 'grid_days': per_run * grid_runs / 86400,
              'hardware': hardware(), 'conditions': timed['conditions'],
              'note': 'epoch_s: one epoch of task 1 with agents and replay, plus the task-1 evaluation, from '
                      'Mammoth\'s log; process_s: the whole process. Projection: epoch_s x 70 epochs x 5 tasks x runs.',
              'command': timed['command']}
    write_json(results_dir / SVHN_TIMING, result)
    return result
