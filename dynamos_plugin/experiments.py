"""
Reproduce the paper's Tables 1 and 2, side by side with Mammoth's ER, DER and DER++.

Every run is one ``mammoth/main.py`` process; its log goes to ``runs/`` and, when it finishes
with an accuracy line, a parsed record (final and per-task accuracies, wall time, arguments,
seed, commits, hardware) goes to ``results/records/``. A run with a record is never redone,
so an interrupted grid resumes where it stopped. ``--report`` builds ``results/`` from the
records alone.

Usage (through ``./run_experiments.sh``)::

    ./run_experiments.sh --table 2 -j 2            # Table 2 (Seq-MNIST), two runs at a time
    ./run_experiments.sh --table 1 --method dynamos --buffer 500 --seed 0
    ./run_experiments.sh --dry-run                  # list the commands of the whole grid
    ./run_experiments.sh --report                   # tables and plots from the records
    ./run_experiments.sh --table 2 --executor slurm --slurm-partition gpu   # one Slurm job per run
    ./run_experiments.sh --measure-svhn-epoch       # time one Seq-SVHN epoch, project the grid

Methods (one place: :data:`METHODS`). All share the reduced ResNet-18 (``gated-resnet`` for
Dynamos, its un-gated twin ``ungated-resnet`` otherwise) and Dynamos' batch sizes and epochs:

- ``dynamos``: ``--model dynamos`` and nothing else (Table 5 is its default configuration);
- ``msa``: the Table 1 baseline, Eq. 8 (``--model msa``, same default mechanism);
- ``sgd``: no buffer, lr 0.07 as Dynamos;
- ``er``, ``der``, ``derpp``: Mammoth's models with the learning rate and loss weights
  Mammoth published for that dataset and buffer size (``mammoth/utils/best_args.py``). Where
  Mammoth published none (Seq-MNIST 1000 and 2000, MNIST-360 100), the settings of the
  nearest published buffer size are used (Seq-MNIST 500, MNIST-360 200). Mammoth's published
  batch and replay sizes are replaced by Dynamos' (10/10 Seq-MNIST, 16/16 MNIST-360 and
  Seq-SVHN) so that every method sees the same stream and the same replay batch.
"""

import argparse
import concurrent.futures
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parent.parent
MAMMOTH = REPO / 'mammoth'

# ---------------------------------------------------------------------------------------------
# The grid
# ---------------------------------------------------------------------------------------------

# Dynamos' batch size, replay batch size and epochs per dataset (Table 5)
BATCHES = {'seq-mnist': (10, 10, 1), 'mnist-360': (16, 16, 1), 'seq-svhn32': (16, 16, 70)}

# Mammoth's published settings (mammoth/utils/best_args.py) for the buffer sizes it lists;
# the paper's other sizes take the nearest listed one (see the module docstring).
MAMMOTH_BEST = {
    ('seq-mnist', 'er'): {500: {'lr': 0.1}},
    ('seq-mnist', 'der'): {500: {'lr': 0.03, 'alpha': 1.0}},
    ('seq-mnist', 'derpp'): {500: {'lr': 0.03, 'alpha': 1.0, 'beta': 0.5}},
    ('mnist-360', 'er'): {200: {'lr': 0.2}, 500: {'lr': 0.2}},
    ('mnist-360', 'der'): {200: {'lr': 0.1, 'alpha': 0.5}, 500: {'lr': 0.2, 'alpha': 0.5}},
    ('mnist-360', 'derpp'): {200: {'lr': 0.2, 'alpha': 0.5, 'beta': 1.0}, 500: {'lr': 0.2, 'alpha': 0.5, 'beta': 1.0}},
}
# Seq-SVHN (32x32) has no published Mammoth setting: Seq-CIFAR-10's (same size and shape), buffer 500
MAMMOTH_BEST.update({
    ('seq-svhn32', 'er'): {500: {'lr': 0.1}},
    ('seq-svhn32', 'der'): {500: {'lr': 0.03, 'alpha': 0.3}},
    ('seq-svhn32', 'derpp'): {500: {'lr': 0.03, 'alpha': 0.1, 'beta': 0.5}},
})

METHODS = ('dynamos', 'msa', 'sgd', 'er', 'der', 'derpp')

TABLES = {
    '2': {'dataset': 'seq-mnist', 'buffers': (500, 1000, 2000),
          'seeds': {'dynamos': 3, 'er': 3, 'der': 3, 'derpp': 3, 'sgd': 3}},
    '1': {'dataset': 'mnist-360', 'buffers': (100, 200, 500),
          'seeds': {'dynamos': 5, 'msa': 5, 'sgd': 5, 'er': 3, 'der': 3, 'derpp': 3}},
    'svhn': {'dataset': 'seq-svhn32', 'buffers': (500, 1000, 2000),
             'seeds': {'dynamos': 3, 'er': 3, 'der': 3, 'derpp': 3, 'sgd': 3}},
}

# the paper's numbers (dynamos-spec.md): Table 2 means of 3 seeds, Table 1 mean +- std of 5
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


@dataclass(frozen=True)
class Run:
    """One cell-seed of a grid: a single `mammoth/main.py` invocation."""
    table: str
    dataset: str
    method: str
    buffer: Optional[int]  # None for SGD
    seed: int

    @property
    def name(self) -> str:
        return f'{self.dataset}__{self.method}__buf{self.buffer or 0}__seed{self.seed}'

    def mammoth_args(self, base_path: str) -> List[str]:
        """The arguments of `mammoth/main.py` for this run (without output paths)."""
        args = ['--model', self.method, '--dataset', self.dataset]
        if self.buffer is not None:
            args += ['--buffer_size', str(self.buffer)]
        batch, minibatch, epochs = BATCHES[self.dataset]
        if self.method in ('er', 'der', 'derpp'):
            published = MAMMOTH_BEST[self.dataset, self.method]
            nearest = min(published, key=lambda b: (abs(b - self.buffer), b))
            args += ['--backbone', 'ungated-resnet', '--batch_size', str(batch), '--minibatch_size', str(minibatch),
                     '--n_epochs', str(epochs)]
            for key, value in published[nearest].items():
                args += [f'--{key}', str(value)]
        elif self.method == 'sgd':
            args += ['--backbone', 'ungated-resnet', '--lr', '0.07', '--batch_size', str(batch), '--n_epochs', str(epochs)]
        return args + ['--seed', str(self.seed), '--base_path', base_path]


def grid(tables=('2', '1'), datasets=None, methods=None, buffers=None, seeds=None) -> List[Run]:
    """The runs of the given tables, filtered."""
    runs = []
    for table in tables:
        spec = TABLES[table]
        for method, n_seeds in spec['seeds'].items():
            cells = [None] if method == 'sgd' else spec['buffers']
            for buffer in cells:
                for seed in range(n_seeds):
                    run = Run(table, spec['dataset'], method, buffer, seed)
                    if datasets and run.dataset not in datasets:
                        continue
                    if methods and run.method not in methods:
                        continue
                    if buffers and run.buffer not in buffers:
                        continue
                    if seeds is not None and run.seed not in seeds:
                        continue
                    runs.append(run)
    return runs


# ---------------------------------------------------------------------------------------------
# Running and recording
# ---------------------------------------------------------------------------------------------

ACCURACY_RE = re.compile(r'Accuracy for (\d+) task\(s\):\s+\[(Class-IL|Domain-IL)\]:\s+([\d.]+) %'
                         r'(?:\s+\[Task-IL\]:\s+([\d.]+) %)?')
RAW_RE = re.compile(r'Raw accuracy values: (?:Class-IL|Domain-IL) \[([^\]]*)\](?: \| Task-IL \[([^\]]*)\])?')


def parse_log(text: str) -> Optional[dict]:
    """The final accuracy of a Mammoth log: setting, mean accuracy, Task-IL, per-task accuracies; None if absent."""
    finals = ACCURACY_RE.findall(text)
    if not finals:
        return None
    n_tasks, setting, accuracy, task_il = finals[-1]
    raws = RAW_RE.findall(text)
    per_task, per_task_til = (raws[-1] if raws else ('', ''))
    floats = lambda s: [float(v) for v in s.replace(',', ' ').split()] if s else []  # noqa: E731
    return {'n_tasks': int(n_tasks), 'setting': setting, 'accuracy': float(accuracy),
            'task_il': float(task_il) if task_il else None,
            'per_task': floats(per_task), 'per_task_task_il': floats(per_task_til)}


def git_commit(path: Path) -> Optional[str]:
    try:
        return subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=path, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None


def hardware() -> dict:
    cpu = platform.processor()
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    return {'cpu': cpu, 'cores': os.cpu_count(), 'torch': torch_version, 'host': platform.node(),
            'python': platform.python_version()}


@dataclass
class Settings:
    base_path: str
    runs_dir: Path
    results_dir: Path
    python: List[str] = field(default_factory=lambda: [sys.executable, str(MAMMOTH / 'main.py')])
    threads: int = 1
    extra_args: List[str] = field(default_factory=list)

    def record_path(self, run: Run) -> Path:
        return self.results_dir / 'records' / f'{run.name}.json'

    def run_dir(self, run: Run) -> Path:
        return self.runs_dir / f'table{run.table}' / run.dataset / run.method / f'buf{run.buffer or 0}' / f'seed{run.seed}'


def execute(run: Run, settings: Settings) -> dict:
    """Runs one grid cell-seed to completion and writes its record; returns the record (status ok or failed)."""
    run_dir = settings.run_dir(run)
    run_dir.mkdir(parents=True, exist_ok=True)
    args = run.mammoth_args(settings.base_path) + list(settings.extra_args)
    cmd = settings.python + args + ['--results_path', str(run_dir / 'mammoth'), '--non_verbose', '1']
    env = dict(os.environ, OMP_NUM_THREADS=str(settings.threads), PYTHONUNBUFFERED='1')
    start = time.time()
    with open(run_dir / 'log.txt', 'w') as log:
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    wall = time.time() - start
    parsed = parse_log((run_dir / 'log.txt').read_text(errors='replace'))
    record = {'run': run.name, 'table': run.table, 'dataset': run.dataset, 'method': run.method,
              'buffer': run.buffer, 'seed': run.seed, 'args': args, 'command': cmd[1:], 'returncode': proc.returncode,
              'wall_s': round(wall, 1), 'started': time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(start)),
              'commit': git_commit(REPO), 'mammoth_commit': git_commit(MAMMOTH), 'hardware': hardware(),
              'threads': settings.threads, 'log': str(run_dir / 'log.txt')}
    if proc.returncode == 0 and parsed is not None:
        record.update(parsed, status='ok')
        write_json(settings.record_path(run), record)
    else:
        record['status'] = 'failed'
        write_json(run_dir / 'failed.json', record)
    return record


def write_json(path: Path, obj) -> None:
    """Writes atomically: a record exists only when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix('.tmp')
    tmp.write_text(json.dumps(obj, indent=1) + '\n')
    tmp.replace(path)


def load_records(results_dir: Path) -> List[dict]:
    return [json.loads(p.read_text()) for p in sorted((results_dir / 'records').glob('*.json'))]


def run_grid(runs: List[Run], settings: Settings, jobs: int = 1, executor: str = 'local', slurm: dict = None) -> int:
    """Runs every run without a record; returns the number of failures. Prints a summary."""
    todo = [r for r in runs if not settings.record_path(r).exists()]
    print(f'{len(runs)} runs in the selection, {len(runs) - len(todo)} already recorded, {len(todo)} to run', flush=True)
    results = []
    if executor == 'slurm':
        import submitit
        ex = submitit.AutoExecutor(folder=str(settings.runs_dir / 'slurm'))
        ex.update_parameters(**(slurm or {}))
        submitted = [(r, ex.submit(execute, r, settings)) for r in todo]
        for run, job in submitted:
            results.append(job.result())
            print(f'[{len(results)}/{len(todo)}] {run.name}: {summary_line(results[-1])}', flush=True)
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(execute, r, settings): r for r in todo}
            for future in concurrent.futures.as_completed(futures):
                results.append(future.result())
                print(f'[{len(results)}/{len(todo)}] {futures[future].name}: {summary_line(results[-1])}', flush=True)
    failed = [r for r in results if r['status'] != 'ok']
    print(f'done: {len(results) - len(failed)} ok, {len(failed)} failed'
          + ''.join(f'\n  failed: {r["run"]} (exit {r["returncode"]}, log {r["log"]})' for r in failed), flush=True)
    return len(failed)


def summary_line(record: dict) -> str:
    if record['status'] != 'ok':
        return f'FAILED (exit {record["returncode"]})'
    return f'{record["setting"]} {record["accuracy"]:.2f} % in {record["wall_s"] / 60:.1f} min'


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def mean_std(values: List[float]):
    n = len(values)
    if n == 0:
        return None, None, 0
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std, n


def cells(records: List[dict]) -> Dict[tuple, dict]:
    """Records grouped by (dataset, method, buffer): accuracies, mean, std, n, mean wall time."""
    grouped: Dict[tuple, list] = {}
    for r in records:
        if r.get('status') == 'ok':
            grouped.setdefault((r['dataset'], r['method'], r['buffer']), []).append(r)
    out = {}
    for key, rs in grouped.items():
        mean, std, n = mean_std([r['accuracy'] for r in rs])
        out[key] = {'mean': mean, 'std': std, 'n': n, 'seeds': sorted(r['seed'] for r in rs),
                    'wall_min': sum(r['wall_s'] for r in rs) / n / 60}
    return out


def fmt_cell(cell: Optional[dict]) -> str:
    if not cell:
        return 'not run'
    return f'{cell["mean"]:.2f} ± {cell["std"]:.2f} (n={cell["n"]})'


def fmt_paper(key) -> str:
    if key not in PAPER:
        return '-'
    mean, std = PAPER[key]
    return f'{mean:.2f}' + (f' ± {std:.2f}' if std is not None else '')


def diff(cell, key) -> str:
    if not cell or key not in PAPER:
        return '-'
    d = cell['mean'] - PAPER[key][0]
    flag = ''
    spread = max(cell['std'] or 0.0, PAPER[key][1] or 0.0)
    if cell['n'] > 1 and spread > 0 and abs(d) > 2 * spread:
        flag = ' (> 2 std)'
    return f'{d:+.2f}{flag}'


def table_markdown(table: str, all_cells: dict, methods) -> str:
    spec = TABLES[table]
    ds = spec['dataset']
    lines = ['| method | buffer | ours (mean ± std, n seeds) | paper | ours - paper | wall time per run |',
             '|---|---|---|---|---|---|']
    for method in methods:
        for buffer in ([None] if method == 'sgd' else spec['buffers']):
            key = (ds, method, buffer)
            cell = all_cells.get(key)
            wall = f'{cell["wall_min"]:.1f} min' if cell else '-'
            lines.append(f'| {method} | {buffer or "-"} | {fmt_cell(cell)} | {fmt_paper(key)} | {diff(cell, key)} | {wall} |')
    return '\n'.join(lines)


def report(results_dir: Path) -> List[Path]:
    """Builds results/table1.md, table2.md, table_svhn.md, comparison.md and plots from the records."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    records = load_records(results_dir)
    all_cells = cells(records)
    hw = next((r['hardware'] for r in records), hardware())
    header = (f'Measured on {hw["cpu"]}, {hw["cores"]} cores, torch {hw["torch"]}, CPU only, '
              f'{records[0]["threads"] if records else 1} thread(s) per run. Built by `./run_experiments.sh --report` '
              f'from {len(records)} run records in `results/records/`.\n')
    written = []
    titles = {'2': ('table2.md', 'Table 2: class-incremental accuracy (%), Seq-MNIST',
                    ('dynamos', 'er', 'der', 'derpp', 'sgd')),
              '1': ('table1.md', 'Table 1: general continual learning, MNIST-360, accuracy (%)',
                    ('dynamos', 'msa', 'sgd', 'er', 'der', 'derpp')),
              'svhn': ('table_svhn.md', 'Table 2: class-incremental accuracy (%), Seq-SVHN (32x32)',
                       ('dynamos', 'er', 'der', 'derpp', 'sgd'))}
    for table, (fname, title, methods) in titles.items():
        text = f'# {title}\n\n{header}\n{table_markdown(table, all_cells, methods)}\n'
        text += ('\nCells differing from the paper by more than two standard deviations (the larger of ours and '
                 "the paper's) are marked `> 2 std`.\n")
        if table == 'svhn':
            text += svhn_note(results_dir)
        path = results_dir / fname
        path.write_text(text)
        written.append(path)

    # side by side: every method per dataset and buffer
    lines = ['# All methods side by side', '', header, '| dataset | buffer | ' + ' | '.join(METHODS) + ' |',
             '|---|---|' + '---|' * len(METHODS)]
    for table in ('2', '1', 'svhn'):
        ds = TABLES[table]['dataset']
        for buffer in TABLES[table]['buffers']:
            row = [fmt_cell(all_cells.get((ds, m, None if m == 'sgd' else buffer))) for m in METHODS]
            lines.append(f'| {ds} | {buffer} | ' + ' | '.join(row) + ' |')
    lines += ['', 'SGD has no buffer: its cell repeats in every row. ER, DER and DER++ use Mammoth\'s published '
              'settings for the nearest published buffer size, with Dynamos\' batch sizes (see '
              '`dynamos_plugin/experiments.py`).']
    (results_dir / 'comparison.md').write_text('\n'.join(lines) + '\n')
    written.append(results_dir / 'comparison.md')

    plots = results_dir / 'plots'
    plots.mkdir(parents=True, exist_ok=True)
    for table in ('2', '1'):
        ds = TABLES[table]['dataset']
        buffers = TABLES[table]['buffers']
        fig, ax = plt.subplots(figsize=(6, 4))
        for method in METHODS:
            if method == 'sgd':
                cell = all_cells.get((ds, method, None))
                if cell:
                    ax.axhline(cell['mean'], color='grey', linestyle=':', label='sgd (no buffer)')
                continue
            xs, ys, es = [], [], []
            for b in buffers:
                cell = all_cells.get((ds, method, b))
                if cell:
                    xs.append(b), ys.append(cell['mean']), es.append(cell['std'])
            if xs:
                ax.errorbar(xs, ys, yerr=es, marker='o', capsize=3, label=method)
        paper = [(b, PAPER[(ds, 'dynamos', b)][0]) for b in buffers if (ds, 'dynamos', b) in PAPER]
        if paper:
            ax.plot(*zip(*paper), 'k--', marker='x', label='dynamos (paper)')
        ax.set_xscale('log')
        ax.minorticks_off()
        ax.set_xticks(buffers)
        ax.set_xticklabels([str(b) for b in buffers])
        ax.set_xlabel('buffer size')
        ax.set_ylabel('Class-IL accuracy (%)' if ds != 'mnist-360' else 'accuracy (%)')
        ax.set_title(f'{ds}: final accuracy vs buffer size (mean ± std over seeds)')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = plots / f'accuracy_vs_buffer_{ds}.png'
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written


def svhn_note(results_dir: Path) -> str:
    path = results_dir / 'svhn_epoch_time.json'
    if not path.exists():
        return '\nSeq-SVHN was not run here: it does not fit on 2 CPU cores (`--measure-svhn-epoch` times one epoch).\n'
    m = json.loads(path.read_text())
    return (f'\nSeq-SVHN was not run here. One epoch of task 1 of Dynamos ({m["steps"]} steps of batch 16, on an '
            f'SVHN-sized synthetic set) took {m["epoch_s"]:.0f} s on this machine; a run (70 epochs x 5 tasks) would '
            f'take about {m["run_h"]:.1f} h and the grid ({m["grid_runs"]} runs) about {m["grid_days"]:.1f} days '
            f'({m.get("conditions", "")}).\n')


def measure_svhn_epoch(results_dir: Path, n_train: int = 73257, n_test: int = 26032, threads: int = 2) -> dict:
    """Times one epoch of task 1 of Dynamos on a synthetic SVHN of the real size and projects the grid."""
    import numpy as np
    import scipy.io
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        (Path(tmp) / 'SVHN').mkdir()
        for split, n in (('train', n_train), ('test', n_test)):
            scipy.io.savemat(Path(tmp) / 'SVHN' / f'{split}_32x32.mat',
                             {'X': rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8),
                              'y': (np.arange(n) % 10 + 1)[:, None]})
        cmd = [sys.executable, str(MAMMOTH / 'main.py'), '--model', 'dynamos', '--dataset', 'seq-svhn32',
               '--buffer_size', '500', '--n_epochs', '1', '--stop_after', '1', '--warmup', '0', '--seed', '0',
               '--base_path', tmp, '--results_path', str(Path(tmp) / 'res'), '--non_verbose', '1']
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        load_before = os.getloadavg()[0]
        start = time.time()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        epoch = time.time() - start
    if proc.returncode != 0:
        raise RuntimeError(f'the Seq-SVHN timing run failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}')
    steps = math.ceil(n_train / 5 / 16)
    grid_runs = len(grid(('svhn',)))
    result = {'epoch_s': epoch, 'steps': steps, 'n_train': n_train, 'threads': threads,
              'run_h': epoch * 70 * 5 / 3600, 'grid_runs': grid_runs,
              'grid_days': epoch * 70 * 5 * grid_runs / 86400, 'hardware': hardware(),
              'conditions': f'load average {load_before:.2f} before and {os.getloadavg()[0]:.2f} after the run',
              'note': 'wall time of one process: startup, one epoch of task 1 with replay, and the task-1 evaluation'}
    write_json(results_dir / 'svhn_epoch_time.json', result)
    return result


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--table', action='append', choices=sorted(TABLES), help='table(s) to run (default: 2 and 1)')
    p.add_argument('--dataset', action='append', help='only these datasets')
    p.add_argument('--method', action='append', choices=METHODS, help='only these methods')
    p.add_argument('--buffer', action='append', type=int, help='only these buffer sizes')
    p.add_argument('--seed', action='append', type=int, help='only these seeds')
    p.add_argument('-j', '--jobs', type=int, default=1, help='runs in parallel (local executor)')
    p.add_argument('--threads', type=int, default=None, help='torch threads per run (default: cores / jobs)')
    p.add_argument('--dry-run', action='store_true', help='list the commands, run nothing')
    p.add_argument('--report', action='store_true', help='build the tables and plots in the results folder from the records')
    p.add_argument('--measure-svhn-epoch', action='store_true', help='time one Seq-SVHN epoch and project the grid')
    p.add_argument('--base-path', default=os.environ.get('DYNAMOS_DATA', str((REPO.parent / 'shared' / 'data').resolve())),
                   help='data folder given to Mammoth as --base_path (default: $DYNAMOS_DATA or ../shared/data)')
    p.add_argument('--runs-dir', type=Path, default=REPO / 'runs', help='logs (default: runs/)')
    p.add_argument('--results-dir', type=Path, default=REPO / 'results', help='records and report (default: results/)')
    p.add_argument('--extra-args', default='', help='extra arguments for every mammoth run (quoted string)')
    p.add_argument('--python', default=None, help='command that runs Mammoth (default: this python + mammoth/main.py)')
    p.add_argument('--executor', choices=('local', 'slurm'), default='local')
    p.add_argument('--slurm-partition'), p.add_argument('--slurm-time', type=int, default=240, help='minutes')
    p.add_argument('--slurm-cpus', type=int, default=2), p.add_argument('--slurm-gpus', type=int, default=0)
    a = p.parse_args(argv)

    if a.report:
        for path in report(a.results_dir):
            print(f'wrote {path}')
        return 0
    if a.measure_svhn_epoch:
        print(json.dumps(measure_svhn_epoch(a.results_dir), indent=1))
        return 0

    runs = grid(tuple(a.table or ('2', '1')), a.dataset, a.method, a.buffer, a.seed)
    threads = a.threads or max(1, (os.cpu_count() or 1) // max(1, a.jobs))
    settings = Settings(base_path=str(Path(a.base_path).resolve()), runs_dir=a.runs_dir.resolve(),
                        results_dir=a.results_dir.resolve(), threads=threads, extra_args=a.extra_args.split())
    if a.python:
        settings.python = a.python.split()
    if a.dry_run:
        for run in runs:
            state = 'done' if settings.record_path(run).exists() else 'todo'
            print(f'[{state}] ' + ' '.join(settings.python + run.mammoth_args(settings.base_path) + settings.extra_args))
        print(f'{len(runs)} runs')
        return 0
    slurm = {'slurm_partition': a.slurm_partition, 'timeout_min': a.slurm_time, 'cpus_per_task': a.slurm_cpus,
             'gpus_per_node': a.slurm_gpus}
    failures = run_grid(runs, settings, a.jobs, a.executor, {k: v for k, v in slurm.items() if v is not None})
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
