"""
Reproduce the paper's Tables 1 and 2, side by side with Mammoth's ER, DER and DER++.

Every run is one ``mammoth/main.py`` process. Its log goes to ``runs/table<T>/<dataset>/<method>/
buf<B>/seed<S>/log.txt``; when it exits 0 with a final accuracy line, a parsed record (final and
per-task accuracies, wall time, arguments, seed, commits, hardware) is written atomically to
``results/records/<dataset>__<method>__buf<B>__seed<S>.json``. A run with a record is never redone;
a run without one (interrupted, failed) is redone from scratch, so an interrupted grid resumes
where it stopped. ``--report`` builds ``results/`` from the records alone.

Usage (through ``./run_experiments.sh``, which runs this module with the repository's venv)::

    ./run_experiments.sh --table 2 -j 2             # Table 2 (Seq-MNIST), two runs at a time
    ./run_experiments.sh --table 1 --method dynamos --buffer 500 --seed 0
    ./run_experiments.sh --dry-run                   # list the commands of the whole grid
    ./run_experiments.sh --report                    # tables and plots from the records
    ./run_experiments.sh --table 2 --executor slurm --slurm-partition gpu --slurm-gpus 1
    ./run_experiments.sh --measure-svhn-epoch        # time one Seq-SVHN epoch, project the grid

Grids (:data:`TABLES`): ``--table 2`` is Seq-MNIST, buffers 500/1000/2000, 3 seeds of Dynamos,
ER, DER, DER++ and SGD; ``--table 1`` is MNIST-360, buffers 100/200/500, 5 seeds of Dynamos, the
Eq. 8 baseline (msa) and SGD (no buffer: one cell), 3 seeds of ER, DER and DER++;
``--table svhn`` is Seq-SVHN (32x32), buffers 500/1000/2000, 3 seeds (supported, not run on CPU).

Methods (one place, as data: :data:`METHODS`, :data:`DATASETS`, :data:`MAMMOTH_BEST`). All use the
reduced ResNet-18 of the paper (``gated-resnet`` for Dynamos, its un-gated twin ``ungated-resnet``
for every other method), Dynamos' batch size, replay batch size and epochs (Table 5):

- ``dynamos``: ``--model dynamos`` and nothing else: Table 5 is its default configuration;
- ``msa``: the Table 1 baseline, Eq. 8 (``--model msa``, same default-configuration mechanism);
- ``sgd``: ``--model sgd``, no buffer, lr 0.07 as Dynamos, Dynamos' batch size and epochs;
- ``er``, ``der``, ``derpp``: Mammoth's models with the learning rate and loss weights (lr,
  alpha, beta) that Mammoth published for the dataset and buffer size in
  ``mammoth/utils/best_args.py``. Choices made here:

  * buffer sizes Mammoth has no setting for take the settings of the **nearest published buffer
    size** (ties: the smaller): Seq-MNIST 1000 and 2000 take those of 500 (published: 200, 500,
    5120), MNIST-360 100 takes those of 200 (published: 200, 500, 1000);
  * Seq-SVHN (32x32) has no published setting; it takes Seq-CIFAR-10's (same image size and
    split into 5 tasks of 2 classes), by the same nearest-buffer rule (500 for 1000 and 2000);
  * Mammoth's published ``batch_size``, ``minibatch_size`` and ``n_epochs`` are **not** used:
    they are replaced by Dynamos' (10/10 Seq-MNIST, 16/16 MNIST-360 and Seq-SVHN; 1 epoch, 70
    for Seq-SVHN) so that every method sees the same stream batches and the same replay batch
    size; only lr, alpha and beta come from Mammoth.

The Mammoth command is ``<repo>/.venv/bin/python <repo>/mammoth/main.py`` (or this Python when
there is no venv); ``--python CMD`` or the environment variable ``DYNAMOS_MAMMOTH_CMD`` replace it
(the tests substitute a tiny script). Each run gets ``OMP_NUM_THREADS`` = cores / jobs (``--threads``).
"""

import argparse
import concurrent.futures
import contextlib
import datetime
import fcntl
import hashlib
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from dynamos_plugin.mammoth_glue import ACCURACY_RE, MAMMOTH, REPO, STOPPED_LINE, default_data_path, parse_log

# =============================================================================================
# The experiments, as data
# =============================================================================================


@dataclass(frozen=True)
class DatasetSpec:
    """Dynamos' stream batch size, replay batch size and epochs for a dataset (Table 5)."""
    batch_size: int
    minibatch_size: int
    n_epochs: int
    accuracy: str  # what Mammoth's final accuracy measures for this dataset (axis labels)


DATASETS: Dict[str, DatasetSpec] = {
    'seq-mnist': DatasetSpec(10, 10, 1, 'Class-IL accuracy (%)'),
    'mnist-360': DatasetSpec(16, 16, 1, 'accuracy (%) (Mammoth: Domain-IL, general continual learning)'),
    'seq-svhn32': DatasetSpec(16, 16, 70, 'Class-IL accuracy (%)'),
}


@dataclass(frozen=True)
class Method:
    """How one method is run: which flags it gets besides ``--model``, ``--dataset`` and the seed.

    ``backbone``/``lr``: fixed flags (None: the model's own default). ``batches``: which of
    Dynamos' batch sizes it is given (``''`` none, ``'stream'`` only ``--batch_size``,
    ``'stream+replay'`` also ``--minibatch_size``). ``epochs``: whether it is given Dynamos'
    ``--n_epochs``. ``published``: whether lr/alpha/beta come from :data:`MAMMOTH_BEST`.
    """
    label: str
    buffer: bool
    backbone: Optional[str] = None
    lr: Optional[float] = None
    batches: str = ''
    epochs: bool = False
    published: bool = False


METHODS: Dict[str, Method] = {
    # Table 5 is the default configuration of the plugin's models: nothing but the buffer size
    'dynamos': Method('Dynamos', buffer=True),
    'msa': Method('multi-scale associations only (Eq. 8)', buffer=True),
    'sgd': Method('SGD (no buffer)', buffer=False, backbone='ungated-resnet', lr=0.07, batches='stream', epochs=True),
    'er': Method('ER', buffer=True, backbone='ungated-resnet', batches='stream+replay', epochs=True, published=True),
    'der': Method('DER', buffer=True, backbone='ungated-resnet', batches='stream+replay', epochs=True, published=True),
    'derpp': Method('DER++', buffer=True, backbone='ungated-resnet', batches='stream+replay', epochs=True,
                    published=True),
}

# Mammoth's published lr / alpha / beta (mammoth/utils/best_args.py), every buffer size it lists.
# Its batch_size / minibatch_size / n_epochs are deliberately left out (Dynamos' are used).
# Seq-SVHN (32x32) takes Seq-CIFAR-10's rows (see the module docstring).
MAMMOTH_BEST_SOURCE = {'seq-mnist': 'seq-mnist', 'mnist-360': 'mnist-360', 'seq-svhn32': 'seq-cifar10'}
MAMMOTH_BEST: Dict[Tuple[str, str], Dict[int, Dict[str, float]]] = {
    ('seq-mnist', 'er'): {200: {'lr': 0.01}, 500: {'lr': 0.1}, 5120: {'lr': 0.1}},
    ('seq-mnist', 'der'): {200: {'lr': 0.03, 'alpha': 0.2}, 500: {'lr': 0.03, 'alpha': 1.0},
                           5120: {'lr': 0.1, 'alpha': 0.5}},
    ('seq-mnist', 'derpp'): {200: {'lr': 0.03, 'alpha': 0.2, 'beta': 1.0}, 500: {'lr': 0.03, 'alpha': 1.0, 'beta': 0.5},
                             5120: {'lr': 0.1, 'alpha': 0.2, 'beta': 0.5}},
    ('mnist-360', 'er'): {200: {'lr': 0.2}, 500: {'lr': 0.2}, 1000: {'lr': 0.2}},
    ('mnist-360', 'der'): {200: {'lr': 0.1, 'alpha': 0.5}, 500: {'lr': 0.2, 'alpha': 0.5},
                           1000: {'lr': 0.1, 'alpha': 0.5}},
    ('mnist-360', 'derpp'): {200: {'lr': 0.2, 'alpha': 0.5, 'beta': 1.0}, 500: {'lr': 0.2, 'alpha': 0.5, 'beta': 1.0},
                             1000: {'lr': 0.2, 'alpha': 0.2, 'beta': 1.0}},
    ('seq-svhn32', 'er'): {200: {'lr': 0.1}, 500: {'lr': 0.1}, 5120: {'lr': 0.1}},
    ('seq-svhn32', 'der'): {200: {'lr': 0.03, 'alpha': 0.3}, 500: {'lr': 0.03, 'alpha': 0.3},
                            5120: {'lr': 0.03, 'alpha': 0.3}},
    ('seq-svhn32', 'derpp'): {200: {'lr': 0.03, 'alpha': 0.1, 'beta': 0.5}, 500: {'lr': 0.03, 'alpha': 0.2, 'beta': 0.5},
                              5120: {'lr': 0.03, 'alpha': 0.1, 'beta': 1.0}},
}

# the grids: dataset, its number of tasks (a record needs the accuracy line after the last one),
# buffer sizes, number of seeds (0 .. n-1) per method; SGD has one cell, no buffer
TABLES = {
    '2': {'dataset': 'seq-mnist', 'tasks': 5, 'buffers': (500, 1000, 2000),
          'seeds': {'dynamos': 3, 'er': 3, 'der': 3, 'derpp': 3, 'sgd': 3}},
    '1': {'dataset': 'mnist-360', 'tasks': 1, 'buffers': (100, 200, 500),
          'seeds': {'dynamos': 5, 'msa': 5, 'sgd': 5, 'er': 3, 'der': 3, 'derpp': 3}},
    'svhn': {'dataset': 'seq-svhn32', 'tasks': 5, 'buffers': (500, 1000, 2000),
             'seeds': {'dynamos': 3, 'er': 3, 'der': 3, 'derpp': 3, 'sgd': 3}},
}
DEFAULT_TABLES = ('2', '1')  # Seq-SVHN does not fit on a CPU: only when asked for

# the paper's numbers (dynamos-spec.md): (mean, std or None). Table 2: means of 3 seeds; Table 1: 5 seeds
PAPER = {
    ('seq-mnist', 'dynamos', 500): (97.19, None), ('seq-mnist', 'dynamos', 1000): (97.51, None),
    ('seq-mnist', 'dynamos', 2000): (97.57, None),
    ('seq-svhn32', 'dynamos', 500): (84.815, None), ('seq-svhn32', 'dynamos', 1000): (87.38, None),
    ('seq-svhn32', 'dynamos', 2000): (88.54, None),
    ('mnist-360', 'dynamos', 100): (64.418, 4.095), ('mnist-360', 'dynamos', 200): (79.638, 2.853),
    ('mnist-360', 'dynamos', 500): (90.519, 0.737),
    ('mnist-360', 'msa', 100): (61.192, 3.072), ('mnist-360', 'msa', 200): (75.364, 1.259),
    ('mnist-360', 'msa', 500): (88.150, 0.888),
    ('mnist-360', 'sgd', None): (18.712, 0.690),
}
# the paper's Table 2 also lists CCGN (not re-run here): shown for context only
PAPER_CCGN = {('seq-mnist', 500): 94.01, ('seq-mnist', 1000): 95.94, ('seq-mnist', 2000): 95.94,
              ('seq-svhn32', 500): 67.45, ('seq-svhn32', 1000): 73.99, ('seq-svhn32', 2000): 81.02}

# the report: file, title and method order per table
REPORT_TABLES = {
    '2': ('table2.md', 'Table 2: class-incremental accuracy (%), Seq-MNIST', ('dynamos', 'er', 'der', 'derpp', 'sgd')),
    '1': ('table1.md', 'Table 1: general continual learning, MNIST-360, accuracy (%)',
          ('dynamos', 'msa', 'sgd', 'er', 'der', 'derpp')),
    'svhn': ('table_svhn.md', 'Table 2: class-incremental accuracy (%), Seq-SVHN (32x32)',
             ('dynamos', 'er', 'der', 'derpp', 'sgd')),
}

# Seq-SVHN's size, for the epoch-time measurement (the real train and test splits)
SVHN_TRAIN, SVHN_TEST = 73257, 26032


# =============================================================================================
# The grid and the commands
# =============================================================================================

def nearest_published(dataset: str, method: str, buffer: int) -> int:
    """The published buffer size whose settings a run takes: the nearest one (ties: the smaller)."""
    return min(MAMMOTH_BEST[dataset, method], key=lambda b: (abs(b - buffer), b))


@dataclass(frozen=True)
class Run:
    """One cell and seed of a grid: a single ``mammoth/main.py`` invocation."""
    table: str
    dataset: str
    method: str
    buffer: Optional[int]  # None for SGD
    seed: int

    @property
    def name(self) -> str:
        return f'{self.dataset}__{self.method}__buf{self.buffer or 0}__seed{self.seed}'

    def mammoth_args(self, base_path: str) -> List[str]:
        """The arguments of ``mammoth/main.py`` for this run (without the output paths)."""
        method, data = METHODS[self.method], DATASETS[self.dataset]
        args = ['--model', self.method, '--dataset', self.dataset]
        if method.buffer:
            args += ['--buffer_size', str(self.buffer)]
        if method.backbone:
            args += ['--backbone', method.backbone]
        if method.lr is not None:
            args += ['--lr', str(method.lr)]
        if method.batches:
            args += ['--batch_size', str(data.batch_size)]
        if method.batches == 'stream+replay':
            args += ['--minibatch_size', str(data.minibatch_size)]
        if method.epochs:
            args += ['--n_epochs', str(data.n_epochs)]
        if method.published:
            for key, value in MAMMOTH_BEST[self.dataset, self.method][
                    nearest_published(self.dataset, self.method, self.buffer)].items():
                args += [f'--{key}', str(value)]
        return args + ['--seed', str(self.seed), '--base_path', base_path]


def grid(tables: Sequence[str] = DEFAULT_TABLES, datasets=None, methods=None, buffers=None, seeds=None) -> List[Run]:
    """The runs of the given tables, in table, method, buffer, seed order, keeping those that pass the filters.

    A filter left None keeps everything. SGD's single cell has no buffer: a buffer filter drops it.
    """
    runs = []
    for table in tables:
        spec = TABLES[table]
        for method, n_seeds in spec['seeds'].items():
            for buffer in (spec['buffers'] if METHODS[method].buffer else (None,)):
                for seed in range(n_seeds):
                    run = Run(table, spec['dataset'], method, buffer, seed)
                    if ((datasets and run.dataset not in datasets) or (methods and run.method not in methods)
                            or (buffers and run.buffer not in buffers) or (seeds is not None and run.seed not in seeds)):
                        continue
                    runs.append(run)
    return runs


def default_mammoth_cmd() -> List[str]:
    """``$DYNAMOS_MAMMOTH_CMD`` if set, else ``<repo>/.venv/bin/python <repo>/mammoth/main.py``."""
    if os.environ.get('DYNAMOS_MAMMOTH_CMD'):
        return shlex.split(os.environ['DYNAMOS_MAMMOTH_CMD'])
    venv_python = REPO / '.venv' / 'bin' / 'python'
    return [str(venv_python) if venv_python.exists() else sys.executable, str(MAMMOTH / 'main.py')]


@dataclass
class Settings:
    """Where a grid's data, logs and records go, and how Mammoth is launched."""
    base_path: str
    runs_dir: Path
    results_dir: Path
    mammoth_cmd: List[str] = field(default_factory=default_mammoth_cmd)
    threads: int = 1
    extra_args: List[str] = field(default_factory=list)

    def record_path(self, run: Run) -> Path:
        return self.results_dir / 'records' / f'{run.name}.json'

    def run_dir(self, run: Run) -> Path:
        return self.runs_dir / f'table{run.table}' / run.dataset / run.method / f'buf{run.buffer or 0}' / f'seed{run.seed}'

    def command(self, run: Run) -> List[str]:
        """The full command line of a run, exactly as it is executed."""
        return (self.mammoth_cmd + run.mammoth_args(self.base_path) + list(self.extra_args)
                + ['--results_path', str(self.run_dir(run) / 'mammoth'), '--non_verbose', '1'])


# =============================================================================================
# Provenance
# =============================================================================================

def _git(path: Path, *args: str) -> Optional[str]:
    """A read-only git command's output (no optional index lock, so it never disturbs a concurrent commit)."""
    env = dict(os.environ, GIT_OPTIONAL_LOCKS='0')
    try:
        return subprocess.run(['git', *args], cwd=path, env=env, capture_output=True, text=True, check=True).stdout
    except (subprocess.CalledProcessError, OSError):
        return None


def git_state(path: Path) -> dict:
    """HEAD of the repository at ``path``, whether tracked files differ from it, and a hash of that difference.

    Mammoth's working tree carries our patches (patches/), so its diff hash identifies the code
    that ran as well as its commit does. A submodule's own uncommitted changes (Mammoth's patches,
    seen from this repository) do not make the outer repository dirty: they have their own hash.
    """
    head = _git(path, 'rev-parse', 'HEAD')
    diff = _git(path, 'diff', 'HEAD', '--ignore-submodules=dirty')
    return {'commit': head.strip() if head else None, 'dirty': bool(diff) if diff is not None else None,
            'diff_sha1': hashlib.sha1(diff.encode()).hexdigest() if diff else None}


def hardware() -> dict:
    """CPU model, cores, GPU (if any), torch and Python versions, host name of this machine."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    torch_version, gpu = None, None
    with contextlib.suppress(ImportError):
        import torch
        torch_version = torch.__version__
        if torch.cuda.is_available():
            gpu = f'{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}'
    return {'cpu': cpu, 'cores': os.cpu_count(), 'gpu': gpu, 'torch': torch_version, 'host': platform.node(),
            'python': platform.python_version()}


# =============================================================================================
# Running and recording
# =============================================================================================

def write_json(path: Path, obj) -> None:
    """Writes atomically (a temporary file in the same folder, then a rename): a record exists only complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(json.dumps(obj, indent=1) + '\n')
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# the Mammoth processes of this runner, to stop them when the runner is interrupted
_ACTIVE: set = set()
_ACTIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


def _tail(path: Path, n: int = 15) -> str:
    with contextlib.suppress(OSError):
        return '\n'.join(path.read_text(errors='replace').splitlines()[-n:])
    return ''


def execute(run: Run, settings: Settings) -> dict:
    """Runs one cell-seed from scratch and, if it succeeded, writes its record. Returns a summary record.

    Status: ``ok`` (record written), ``failed`` (exit code non-zero, or no accuracy line: the
    details go to ``<run dir>/failed.json``; no record, so the next invocation redoes it),
    ``skipped`` (a record appeared meanwhile) or ``busy`` (another runner is running it now: a
    lock file beside the run folder, held by the Mammoth process too, says so).
    """
    run_dir = settings.run_dir(run)
    base = {'run': run.name, 'table': run.table, 'dataset': run.dataset, 'method': run.method, 'buffer': run.buffer,
            'seed': run.seed, 'log': str(run_dir / 'log.txt')}
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(run_dir.parent / f'{run_dir.name}.lock', 'w') as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return dict(base, status='busy')
        except OSError as e:  # a file system without locks (some cluster mounts): run unguarded
            print(f'warning: cannot lock {lock.name} ({e}); running {run.name} without the guard', file=sys.stderr)
        if settings.record_path(run).exists():
            return dict(base, status='skipped')
        if _STOPPING.is_set():
            return dict(base, status='failed', returncode=None, reason='not started: the runner was interrupted')
        return _execute_locked(run, settings, run_dir, base, lock.fileno())


def _execute_locked(run: Run, settings: Settings, run_dir: Path, base: dict, lock_fd: int) -> dict:
    if run_dir.exists():
        shutil.rmtree(run_dir)  # an interrupted or failed attempt: start from scratch
    run_dir.mkdir(parents=True)
    args = run.mammoth_args(settings.base_path)
    cmd = settings.command(run)
    env = dict(os.environ, OMP_NUM_THREADS=str(settings.threads), PYTHONUNBUFFERED='1')
    # the code that runs is the code at launch: a commit made while the run trains must not be credited with it
    repo, mammoth = git_state(REPO), git_state(MAMMOTH)
    start = time.time()
    returncode, reason = None, None
    with open(run_dir / 'log.txt', 'w') as log:
        log.write(f'# {shlex.join(cmd)}\n')
        log.flush()
        try:
            # the Mammoth process inherits the lock: the run stays locked while it lives
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(lock_fd,))
        except OSError as e:
            reason = f'could not start: {e}'
        else:
            with _ACTIVE_LOCK:
                _ACTIVE.add(proc)
            try:
                returncode = proc.wait()
            finally:
                with _ACTIVE_LOCK:
                    _ACTIVE.discard(proc)
    wall = time.time() - start
    text = (run_dir / 'log.txt').read_text(errors='replace')
    parsed = parse_log(text)
    record = dict(base, args=args, extra_args=list(settings.extra_args), command=cmd, returncode=returncode,
                  wall_s=round(wall, 1), started=datetime.datetime.fromtimestamp(start).isoformat(timespec='seconds'),
                  commit=repo['commit'], dirty=repo['dirty'], mammoth_commit=mammoth['commit'],
                  mammoth_dirty=mammoth['dirty'], mammoth_diff_sha1=mammoth['diff_sha1'],
                  hardware=hardware(), threads=settings.threads)
    expected_tasks = TABLES[run.table]['tasks']
    if reason is None and STOPPED_LINE in text:
        # Mammoth stops gracefully on SIGTERM/SIGINT, with exit code 0 and the accuracy of the tasks done so far
        reason = 'stopped by a signal before the end (Mammoth exited 0 after a partial run)'
    elif reason is None and parsed is not None and parsed['n_tasks'] != expected_tasks:
        reason = f'the last accuracy line covers {parsed["n_tasks"]} of the {expected_tasks} tasks of {run.dataset}'
    if returncode == 0 and parsed is not None and reason is None:
        record.update(parsed, status='ok')
        write_json(settings.record_path(run), record)
        return record
    if reason is None:
        reason = f'exit code {returncode}' if returncode != 0 else 'exit code 0 but no accuracy line in the log'
    record.update(status='failed', reason=reason, log_tail=_tail(run_dir / 'log.txt'))
    write_json(run_dir / 'failed.json', record)
    return record


def load_records(results_dir: Path) -> List[dict]:
    """Every readable record of ``results_dir/records``; unreadable files are reported and skipped."""
    records = []
    for path in sorted((results_dir / 'records').glob('*.json')):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as e:
            print(f'warning: skipping unreadable record {path}: {e}', file=sys.stderr)
    return records


def summary_line(record: dict) -> str:
    if record['status'] == 'ok':
        return f'{record["setting"]} {record["accuracy"]:.2f} % in {record["wall_s"] / 60:.1f} min'
    if record['status'] == 'failed':
        return f'FAILED ({record.get("reason")}); log: {record["log"]}'
    return {'busy': 'skipped: another runner is running it', 'skipped': 'skipped: recorded meanwhile'}[record['status']]


def _stop_active(sig=signal.SIGTERM) -> None:
    """Stops the Mammoth processes of this runner (and only those).

    SIGTERM, not SIGINT: a runner started from a non-interactive shell in the background (``nohup
    ... &``, a CI step) passes SIGINT on as *ignored*, and a program that does not install its own
    handler would never see it. Mammoth handles SIGTERM exactly as SIGINT.
    """
    _STOPPING.set()
    with _ACTIVE_LOCK:
        for proc in list(_ACTIVE):
            with contextlib.suppress(OSError):
                proc.send_signal(sig)


def _run_local(todo: List[Run], settings: Settings, jobs: int, report) -> None:
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
    futures = {pool.submit(execute, run, settings): run for run in todo}
    try:
        for future in concurrent.futures.as_completed(futures):
            report(futures[future], future)
    except KeyboardInterrupt:
        _stop_active()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_submitit(todo: List[Run], settings: Settings, params: dict, cluster: Optional[str], report) -> None:
    import submitit
    executor = submitit.AutoExecutor(folder=str(settings.runs_dir / 'submitit' / '%j'), cluster=cluster)
    executor.update_parameters(**params)
    jobs = [(run, executor.submit(execute, run, settings)) for run in todo]
    print(f'submitted {len(jobs)} jobs ({executor.cluster}): '
          + ', '.join(sorted({str(job.job_id).split('_')[0] for _, job in jobs})[:10]), flush=True)
    for run, job in jobs:
        report(run, job)


def run_grid(runs: List[Run], settings: Settings, jobs: int = 1, executor: str = 'local',
             slurm: Optional[dict] = None, cluster: Optional[str] = None) -> int:
    """Runs every run of ``runs`` without a record; prints progress and a summary; returns the number of failures.

    ``executor='local'``: ``jobs`` runs at a time on this machine. ``executor='slurm'``: one job per
    run through submitit's AutoExecutor with the parameters ``slurm`` (``cluster`` None picks Slurm
    when available; ``'debug'`` runs the jobs in this process, for testing the submission path).
    """
    todo = [r for r in runs if not settings.record_path(r).exists()]
    print(f'{len(runs)} runs in the selection, {len(runs) - len(todo)} already recorded, {len(todo)} to run',
          flush=True)
    results: List[dict] = []
    started = time.time()

    def report(run: Run, future) -> None:
        try:
            record = future.result()
        except Exception as e:  # the job itself failed (Slurm timeout, node failure, a bug): record it
            record = {'run': run.name, 'status': 'failed', 'reason': f'{type(e).__name__}: {e}',
                      'log': str(settings.run_dir(run) / 'log.txt')}
            with contextlib.suppress(OSError):
                write_json(settings.run_dir(run) / 'failed.json', record)
        results.append(record)
        print(f'[{len(results)}/{len(todo)}] {run.name}: {summary_line(record)}', flush=True)

    interrupted = False
    try:
        if executor == 'slurm':
            _run_submitit(todo, settings, slurm or {}, cluster, report)
        else:
            _run_local(todo, settings, jobs, report)
    except KeyboardInterrupt:
        interrupted = True
    counts = {s: sum(r['status'] == s for r in results) for s in ('ok', 'failed', 'busy', 'skipped')}
    failed = [r for r in results if r['status'] == 'failed']
    lines = [f'summary: {len(runs)} selected, {len(runs) - len(todo)} already recorded, {counts["ok"]} ok, '
             f'{counts["failed"]} failed, {counts["busy"] + counts["skipped"]} skipped '
             f'(running elsewhere or recorded meanwhile), in {(time.time() - started) / 60:.1f} min']
    lines += [f'  ok      {r["run"]}: {summary_line(r)}' for r in results if r['status'] == 'ok']
    lines += [f'  FAILED  {r["run"]}: {r.get("reason")}; log: {r["log"]}' for r in failed]
    if interrupted:
        lines.append(f'interrupted: {len(todo) - len(results)} runs did not finish; run the same command to resume')
    print('\n'.join(lines), flush=True)
    if interrupted:
        raise KeyboardInterrupt
    return len(failed)


# =============================================================================================
# Report
# =============================================================================================

def mean_std(values: List[float]) -> Tuple[Optional[float], Optional[float], int]:
    """Mean, sample standard deviation (n-1; 0 for one value) and n."""
    n = len(values)
    if n == 0:
        return None, None, 0
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std, n


def cells(records: List[dict]) -> Dict[tuple, dict]:
    """The ok records grouped by (dataset, method, buffer): mean, std, n, seeds, mean wall time, extra args."""
    grouped: Dict[tuple, list] = {}
    for r in records:
        if r.get('status') == 'ok':
            grouped.setdefault((r['dataset'], r['method'], r['buffer']), []).append(r)
    out = {}
    for key, rs in grouped.items():
        mean, std, n = mean_std([r['accuracy'] for r in rs])
        out[key] = {'mean': mean, 'std': std, 'n': n, 'seeds': sorted(r['seed'] for r in rs),
                    'wall_min': sum(r['wall_s'] for r in rs) / n / 60,
                    'extra_args': any(r.get('extra_args') for r in rs)}
    return out


def fmt_cell(cell: Optional[dict]) -> str:
    if not cell:
        return 'not run'
    return f'{cell["mean"]:.2f} ± {cell["std"]:.2f} (n={cell["n"]})' + (' †' if cell['extra_args'] else '')


def fmt_paper(key) -> str:
    if key not in PAPER:
        return '-'
    mean, std = PAPER[key]
    return f'{mean:.2f}' + (f' ± {std:.2f}' if std is not None else '')


def diff(cell: Optional[dict], key) -> str:
    """Ours minus the paper's mean; flagged when more than two standard deviations (the larger of both) apart."""
    if not cell or key not in PAPER:
        return '-'
    d = cell['mean'] - PAPER[key][0]
    spread = max(cell['std'] or 0.0, PAPER[key][1] or 0.0)
    flag = ' (> 2 std)' if cell['n'] > 1 and spread > 0 and abs(d) > 2 * spread else ''
    return f'{d:+.2f}{flag}'


def table_markdown(table: str, all_cells: dict, methods: Iterable[str]) -> str:
    spec = TABLES[table]
    ds = spec['dataset']
    lines = ['| method | buffer | ours (mean ± std, n seeds) | paper | ours - paper | wall time per run (mean) |',
             '|---|---|---|---|---|---|']
    for method in methods:
        for buffer in (spec['buffers'] if METHODS[method].buffer else (None,)):
            key = (ds, method, buffer)
            cell = all_cells.get(key)
            wall = f'{cell["wall_min"]:.1f} min' if cell else '-'
            lines.append(f'| {method} | {buffer or "-"} | {fmt_cell(cell)} | {fmt_paper(key)} | {diff(cell, key)} '
                         f'| {wall} |')
    return '\n'.join(lines)


def hardware_markdown(records: List[dict]) -> str:
    """Where the records were measured: one line per distinct machine, with its number of runs."""
    machines: Dict[tuple, int] = {}
    for r in records:
        hw = r.get('hardware', {})
        key = (hw.get('cpu'), hw.get('cores'), hw.get('gpu'), hw.get('torch'), r.get('threads'))
        machines[key] = machines.get(key, 0) + 1
    if not machines:
        hw = hardware()
        return (f'No records yet. This machine: {hw["cpu"]}, {hw["cores"]} cores, '
                f'{hw["gpu"] or "no GPU"}, torch {hw["torch"]}.')
    return 'Measured on: ' + '; '.join(
        f'{cpu}, {cores} cores, {gpu or "CPU only"}, torch {torch}, {threads} thread(s) per run ({n} runs)'
        for (cpu, cores, gpu, torch, threads), n in sorted(machines.items(), key=lambda kv: -kv[1])) + '.'


def wall_time_markdown(records: List[dict]) -> str:
    """Mean wall time per run of each method and dataset."""
    per: Dict[tuple, List[float]] = {}
    for r in records:
        if r.get('status') == 'ok':
            per.setdefault((r['dataset'], r['method']), []).append(r['wall_s'])
    if not per:
        return ''
    lines = ['| dataset | method | runs | wall time per run (mean) | total |', '|---|---|---|---|---|']
    for (ds, method), walls in sorted(per.items()):
        lines.append(f'| {ds} | {method} | {len(walls)} | {sum(walls) / len(walls) / 60:.1f} min '
                     f'| {sum(walls) / 3600:.2f} h |')
    return '\n'.join(lines)


def report(results_dir: Path) -> List[Path]:
    """Builds table1.md, table2.md, table_svhn.md, comparison.md and plots/ in ``results_dir`` from its records."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    records = load_records(results_dir)
    all_cells = cells(records)
    header = (f'{hardware_markdown(records)} Built by `./run_experiments.sh --report` from '
              f'{sum(r.get("status") == "ok" for r in records)} run records in `{results_dir.name}/records/`.\n')
    notes = ('\nCells of two or more seeds differing from the paper by more than two standard deviations (the larger '
             "of ours and the paper's) are marked `> 2 std`; a single seed has no spread of its own and is not "
             'marked. Cells marked † include runs made with extra Mammoth arguments '
             '(`--extra-args`, e.g. a debug run): see their records.\n')
    if (results_dir / 'diagnostics' / 'README.md').exists():
        notes += ('\nWhy cells differ from the paper, and where the spread between seeds comes from: '
                  '[diagnostics/README.md](diagnostics/README.md).\n')
    written = []
    for table, (fname, title, methods) in REPORT_TABLES.items():
        text = f'# {title}\n\n{header}\n{table_markdown(table, all_cells, methods)}\n{notes}'
        ds = TABLES[table]['dataset']
        ccgn = [f'{b}: {PAPER_CCGN[ds, b]:.2f}' for b in TABLES[table]['buffers'] if (ds, b) in PAPER_CCGN]
        if ccgn:
            text += f'\nFor context, the paper\'s CCGN (not re-run here), by buffer size: {", ".join(ccgn)}.\n'
        if table == 'svhn':
            text += svhn_note(results_dir)
        path = results_dir / fname
        path.write_text(text)
        written.append(path)

    lines = ['# All methods side by side', '', header, '| dataset | buffer | ' + ' | '.join(METHODS) + ' |',
             '|---|---|' + '---|' * len(METHODS)]
    for table in ('2', '1', 'svhn'):
        ds = TABLES[table]['dataset']
        for buffer in TABLES[table]['buffers']:
            row = [fmt_cell(all_cells.get((ds, m, buffer if METHODS[m].buffer else None))) for m in METHODS]
            lines.append(f'| {ds} | {buffer} | ' + ' | '.join(row) + ' |')
    lines += ['', 'Accuracy (%): Class-IL for Seq-MNIST and Seq-SVHN, Mammoth\'s Domain-IL (general continual '
              'learning) for MNIST-360; mean ± std over seeds. SGD has no buffer: its cell repeats in every row. '
              'msa (Eq. 8) is part of Table 1 only. ER, DER and DER++ use Mammoth\'s published lr/alpha/beta for the '
              'nearest published buffer size, with Dynamos\' batch sizes and epochs (see '
              '`dynamos_plugin/experiments.py`).', '', '## Wall time per run', '',
              wall_time_markdown(records) or 'No records yet.']
    (results_dir / 'comparison.md').write_text('\n'.join(lines) + '\n')
    written.append(results_dir / 'comparison.md')

    plots = results_dir / 'plots'
    plots.mkdir(parents=True, exist_ok=True)
    for table in ('2', '1', 'svhn'):
        ds = TABLES[table]['dataset']
        if table == 'svhn' and not any(key[0] == ds for key in all_cells):
            continue  # Seq-SVHN: plotted only once it has records
        path = plots / f'accuracy_vs_buffer_{ds}.png'
        plot_accuracy_vs_buffer(plt, table, all_cells, path)
        written.append(path)
    return written


def plot_accuracy_vs_buffer(plt, table: str, all_cells: dict, path: Path) -> None:
    """One line per method (mean ± std over seeds, error bars), SGD as a horizontal band, the paper dashed."""
    ds, buffers = TABLES[table]['dataset'], TABLES[table]['buffers']
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plotted = False
    for method in METHODS:
        if not METHODS[method].buffer:
            cell = all_cells.get((ds, method, None))
            if cell:
                ax.axhline(cell['mean'], color='grey', linestyle=':', label=f'{method} (no buffer, n={cell["n"]})')
                ax.axhspan(cell['mean'] - cell['std'], cell['mean'] + cell['std'], color='grey', alpha=0.15)
                plotted = True
            continue
        points = [(b, all_cells[ds, method, b]) for b in buffers if (ds, method, b) in all_cells]
        if points:
            ax.errorbar([b for b, _ in points], [c['mean'] for _, c in points], yerr=[c['std'] for _, c in points],
                        marker='o', capsize=3, label=method)
            plotted = True
    for method, style in (('dynamos', 'k--'), ('msa', 'k:')):
        paper = [(b, *PAPER[ds, method, b]) for b in buffers if (ds, method, b) in PAPER]
        if paper:
            ax.errorbar([p[0] for p in paper], [p[1] for p in paper], yerr=[p[2] or 0 for p in paper], fmt=style,
                        marker='x', capsize=3, alpha=0.7, label=f'{method} (paper)')
    for method in (m for m in METHODS if not METHODS[m].buffer and (ds, m, None) in PAPER):
        ax.axhline(PAPER[ds, method, None][0], color='black', linestyle='-.', alpha=0.5, label=f'{method} (paper)')
    if not plotted:
        ax.text(0.98, 0.03, 'no runs recorded yet', transform=ax.transAxes, ha='right', va='bottom', color='grey',
                bbox={'facecolor': 'white', 'edgecolor': 'none', 'alpha': 0.8})
    ax.set_xscale('log')
    ax.minorticks_off()
    ax.set_xticks(buffers)
    ax.set_xticklabels([str(b) for b in buffers])
    ax.set_xlabel('buffer size')
    ax.set_ylabel(DATASETS[ds].accuracy.split(' (Mammoth')[0])
    ax.set_title(f'{ds}: final accuracy vs buffer size (mean ± std over seeds)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='best')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def svhn_note(results_dir: Path) -> str:
    path = results_dir / 'svhn_epoch_time.json'
    if not path.exists():
        return ('\nSeq-SVHN was not run here (`./run_experiments.sh --measure-svhn-epoch` times one epoch and '
                'projects the grid).\n')
    m = json.loads(path.read_text())
    return (f'\nSeq-SVHN was not run here. One epoch of task 1 of Dynamos ({m["steps"]} steps of batch 16 on an '
            f'SVHN-sized synthetic set of {m["n_train"]} training images) took {m["epoch_s"]:.0f} s on this machine; '
            f'a run (70 epochs x 5 tasks) would take about {m["run_h"]:.1f} h and the grid ({m["grid_runs"]} runs) '
            f'about {m["grid_days"]:.1f} days on one such machine ({m.get("conditions", "")}).\n')


# =============================================================================================
# Seq-SVHN: one epoch, timed
# =============================================================================================

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


def measure_svhn_epoch(results_dir: Path, n_train: int = SVHN_TRAIN, n_test: int = SVHN_TEST, threads: int = 2,
                       mammoth_cmd: Optional[List[str]] = None) -> dict:
    """Times one epoch of task 1 of Dynamos (buffer 500) on a synthetic SVHN of the given size; projects the grid.

    The data is random (timing does not depend on it). The run is ``--n_epochs 1 --stop_after 1
    --warmup 0`` (agents and replay on from the first step, like 60 of the 70 epochs). The epoch
    time is taken from Mammoth's log (from "Task 1" to the task's accuracy line, so it includes
    one evaluation of task 1's test set but not the process start-up); the process wall time is
    kept too. Projection: epoch time x 70 epochs x 5 tasks per run, times the runs of the grid.
    Writes ``results_dir/svhn_epoch_time.json``.
    """
    mammoth_cmd = mammoth_cmd or default_mammoth_cmd()
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
    epoch = _task1_seconds(proc.stdout)
    epoch = process_s if epoch is None else epoch
    grid_runs = len(grid(('svhn',)))
    per_run = epoch * DATASETS['seq-svhn32'].n_epochs * 5
    result = {'epoch_s': epoch, 'process_s': process_s, 'steps': math.ceil(n_train / 5 / 16), 'n_train': n_train,
              'n_test': n_test, 'threads': threads, 'run_h': per_run / 3600, 'grid_runs': grid_runs,
              'grid_h': per_run * grid_runs / 3600, 'grid_days': per_run * grid_runs / 86400,
              'hardware': hardware(),
              'conditions': f'load average {load_before:.2f} before and {os.getloadavg()[0]:.2f} after the run',
              'note': 'epoch_s: one epoch of task 1 with agents and replay, plus the task-1 evaluation, from '
                      'Mammoth\'s log; process_s: the whole process. Projection: epoch_s x 70 epochs x 5 tasks x runs.',
              'command': cmd}
    write_json(results_dir / 'svhn_epoch_time.json', result)
    return result


# =============================================================================================
# Command line
# =============================================================================================

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='run_experiments.sh', description=__doc__.split('\n\n')[0],
                                epilog='See the docstring of dynamos_plugin/experiments.py for the methods and choices.')
    sel = p.add_argument_group('selection (repeatable; default: Tables 2 and 1, everything)')
    sel.add_argument('--table', action='append', choices=sorted(TABLES),
                     help='grid(s): 2 = Seq-MNIST, 1 = MNIST-360, svhn = Seq-SVHN (default: 2 and 1, or the '
                          'tables of --dataset)')
    sel.add_argument('--dataset', action='append', choices=sorted(DATASETS), help='only these datasets')
    sel.add_argument('--method', action='append', choices=list(METHODS), help='only these methods')
    sel.add_argument('--buffer', action='append', type=int, help='only these buffer sizes (drops SGD)')
    sel.add_argument('--seed', action='append', type=int, help='only these seeds')
    sel.add_argument('--seeds-first', action='store_true',
                     help='run seed 0 of every selected cell, then seed 1, ... (default: cell by cell), so that a '
                          'partial grid fills every cell once before adding seeds')

    act = p.add_argument_group('what to do (default: run the selection)')
    act.add_argument('--dry-run', action='store_true', help='print the commands (and done/todo), run nothing')
    act.add_argument('--report', action='store_true', help='build the tables and plots in --results-dir from its records')
    act.add_argument('--measure-svhn-epoch', action='store_true',
                     help='time one Seq-SVHN epoch of Dynamos on a synthetic SVHN-sized set (heavy) and project the grid')
    act.add_argument('--svhn-size', type=int, nargs=2, metavar=('TRAIN', 'TEST'), default=(SVHN_TRAIN, SVHN_TEST),
                     help='images of the synthetic SVHN (default: the real %(default)s)')

    run = p.add_argument_group('running')
    run.add_argument('-j', '--jobs', type=int, default=1, help='runs at a time (local executor; default 1)')
    run.add_argument('--threads', type=int, default=None, help='torch threads per run (default: cores / jobs)')
    run.add_argument('--base-path', default=default_data_path(),
                     help='data folder, Mammoth\'s --base_path (default: $DYNAMOS_DATA or ../shared/data)')
    run.add_argument('--runs-dir', type=Path, default=REPO / 'runs', help='logs, one folder per run (default: runs/)')
    run.add_argument('--results-dir', type=Path, default=REPO / 'results',
                     help='records (records/*.json) and report (default: results/)')
    run.add_argument('--extra-args', default='', metavar='ARGS',
                     help='extra arguments for every Mammoth run, one quoted string (e.g. "--debug_mode 1"; a single '
                          'flag needs the = form: --extra-args=--flag); kept in the records')
    run.add_argument('--python', default=None, metavar='CMD',
                     help='command that runs Mammoth (default: $DYNAMOS_MAMMOTH_CMD or '
                          '<repo>/.venv/bin/python <repo>/mammoth/main.py)')

    sl = p.add_argument_group('Slurm (--executor slurm: one job per run through submitit)')
    sl.add_argument('--executor', choices=('local', 'slurm'), default='local')
    sl.add_argument('--slurm-partition')
    sl.add_argument('--slurm-time', type=int, default=240, help='minutes per job (default 240)')
    sl.add_argument('--slurm-cpus', type=int, default=4, help='CPUs per job, also its torch threads (default 4)')
    sl.add_argument('--slurm-gpus', type=int, default=0, help='GPUs per job (default 0)')
    sl.add_argument('--slurm-mem-gb', type=int, default=16, help='memory per job (default 16)')
    sl.add_argument('--slurm-account')
    sl.add_argument('--slurm-qos')
    sl.add_argument('--submitit-cluster', choices=('slurm', 'local', 'debug'), default=None,
                    help='force submitit\'s cluster (default: Slurm if available); "debug" runs the jobs in this '
                         'process, to check the submission path without Slurm')
    return p


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    results_dir, runs_dir = a.results_dir.resolve(), a.runs_dir.resolve()
    mammoth_cmd = shlex.split(a.python) if a.python else default_mammoth_cmd()

    if a.report:
        for path in report(results_dir):
            print(f'wrote {path}')
        return 0
    if a.measure_svhn_epoch:
        print(json.dumps(measure_svhn_epoch(results_dir, *a.svhn_size, threads=os.cpu_count() or 1,
                                            mammoth_cmd=mammoth_cmd), indent=1))
        return 0

    tables = a.table or ([t for t, spec in TABLES.items() if spec['dataset'] in a.dataset] if a.dataset
                         else list(DEFAULT_TABLES))
    runs = grid(tables, a.dataset, a.method, a.buffer, a.seed)
    if a.seeds_first:
        runs.sort(key=lambda run: run.seed)  # stable: cells keep their table, method, buffer order
    if not runs:
        print('no run matches the selection', file=sys.stderr)
        return 2
    if a.executor == 'slurm':
        threads = a.threads or a.slurm_cpus
    else:
        threads = a.threads or max(1, (os.cpu_count() or 1) // max(1, a.jobs))
    settings = Settings(base_path=str(Path(a.base_path).resolve()), runs_dir=runs_dir, results_dir=results_dir,
                        mammoth_cmd=mammoth_cmd, threads=threads, extra_args=shlex.split(a.extra_args))
    if a.dry_run:
        for run in runs:
            state = 'done' if settings.record_path(run).exists() else 'todo'
            print(f'[{state}] {shlex.join(settings.command(run))}')
        n_done = sum(settings.record_path(r).exists() for r in runs)
        print(f'{len(runs)} runs, {n_done} done, {len(runs) - n_done} to run (dry run: nothing was run)')
        return 0

    slurm = {'slurm_partition': a.slurm_partition, 'timeout_min': a.slurm_time, 'cpus_per_task': a.slurm_cpus,
             'gpus_per_node': a.slurm_gpus, 'mem_gb': a.slurm_mem_gb, 'slurm_account': a.slurm_account,
             'slurm_qos': a.slurm_qos, 'name': 'dynamos-grid'}
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM)
    if in_main_thread:  # a terminated runner stops its Mammoth processes, as Ctrl-C does
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        failures = run_grid(runs, settings, a.jobs, a.executor, {k: v for k, v in slurm.items() if v is not None},
                            a.submitit_cluster)
    except KeyboardInterrupt:
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        _STOPPING.clear()
    return 1 if failures else 0


def _interrupt(signum, frame) -> None:
    """SIGTERM handler: behave as Ctrl-C (stop this runner's Mammoth processes; the next invocation redoes them)."""
    raise KeyboardInterrupt


if __name__ == '__main__':
    sys.exit(main())
