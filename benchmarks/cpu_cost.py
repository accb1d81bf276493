"""
CPU time (user + system, of the child process) of two things the README quotes, measured here so that its numbers
come from a committed file (``results/benchmarks/cpu_cost.json``, read by the README's generated blocks):

- ``startup``: what a command costs before any training: ``mammoth/main.py --help``, an argument error
  (``--lr abc``), and ``import torch, torchvision`` alone (the floor), each the median of ``--repeats`` runs;
- ``anytime``: one MNIST-360 Dynamos run (buffer 500, seed 0) with the evaluation along the stream
  (``--eval_every 100 --eval_subset 1000``, patch 0030) and without it, both started at once; the relative extra
  CPU time is the evaluation's cost, and both runs must end at the same accuracy (the option leaves training
  unchanged).

Each command runs at one thread (``OMP_NUM_THREADS=1``). CPU time moves with the machine's load less than wall time,
but it does move (on this project's 2-core machine ``import torch, torchvision`` took 3.3 CPU s idle and 5.3 at a load
average of 6): the file keeps the load average at the start, and the evaluation's cost is measured as a ratio of two
runs that share the same load.

    .venv/bin/python benchmarks/cpu_cost.py [startup] [anytime] [--base_path DIR] [--repeats 3]

Each part rewrites its own entry of ``results/benchmarks/cpu_cost.json`` (the other is kept).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import shutil
import time
from pathlib import Path

from dynamos_plugin.experiments.records import git_state, hardware
from dynamos_plugin.glue.mammoth_log import parse_log
from dynamos_plugin.glue.paths import MAMMOTH, REPO, default_data_path

OUT = REPO / 'results' / 'benchmarks' / 'cpu_cost.json'
ENV = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
LOGS = REPO / 'runs' / 'cpu-cost'   # git-ignored: each anytime run's log and results, kept for a look afterwards


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished children so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def startup(repeats: int) -> dict:
    cmds = {'help': [sys.executable, str(MAMMOTH / 'main.py'), '--help'],
            'argument_error': [sys.executable, str(MAMMOTH / 'main.py'), '--model', 'dynamos', '--dataset', 'seq-mnist',
                               '--buffer_size', '500', '--lr', 'abc'],
            'import_torch': [sys.executable, '-c', 'import torch, torchvision']}
    times = {name: [] for name in cmds}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            before = children_cpu()
            subprocess.run(cmd, cwd=REPO, env=ENV, capture_output=True)
            times[name].append(round(children_cpu() - before, 2))
    return {'cpu_s': times, 'median_cpu_s': {k: statistics.median(v) for k, v in times.items()}, 'repeats': repeats,
            'commands': {k: ' '.join(['python', *(str(Path(c).relative_to(REPO)) if c.startswith(str(REPO)) else c
                                                  for c in v[1:])]) for k, v in cmds.items()}}


def final_accuracy(text: str) -> dict:
    """The final accuracy of a run's log (the runner's parser: plain or ``[INFO] ... -`` prefixed lines), with its
    raw value, so that two runs are compared to the last digit; a log without one raises."""
    parsed = parse_log(text)
    if parsed is None:
        raise ValueError('no final accuracy in the log')
    return {'accuracy': parsed['accuracy'], 'accuracy_recal': parsed.get('accuracy_recal'),
            'raw': parsed['per_task'], 'raw_recal': parsed.get('per_task_recal')}


def anytime(base_path: str) -> dict:
    runs = {'with': ['--eval_every', '100', '--eval_subset', '1000'], 'without': []}
    procs, rusage = {}, {}
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    for name, extra in runs.items():
        cmd = [sys.executable, str(MAMMOTH / 'main.py'), '--model', 'dynamos', '--dataset', 'mnist-360',
               '--buffer_size', '500', '--seed', '0', '--base_path', base_path, '--non_verbose', '1',
               '--results_path', str(LOGS / name), *extra]
        log = open(LOGS / f'{name}.log', 'w')
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=ENV, cwd=REPO), log)
    started = time.time()
    pending = {p.pid: name for name, (p, _) in procs.items()}
    while pending:
        pid, status, usage = os.wait4(-1, 0)
        if pid in pending:
            rusage[pending.pop(pid)] = (os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime,
                                        time.time() - started)
    result = {}
    for name, (_, log) in procs.items():
        log.close()
        code, cpu, wall = rusage[name]
        try:
            if code != 0:
                raise ValueError(f'exit {code}')
            final = final_accuracy((LOGS / f'{name}.log').read_text())
        except ValueError as e:
            raise RuntimeError(f'the run {name} the evaluation along the stream did not finish ({e}); its log: '
                               f'{LOGS / f"{name}.log"}') from None
        result[name] = {'cpu_s': round(cpu, 1), 'wall_s': round(wall, 1), **final}
    result['extra_cpu'] = round(result['with']['cpu_s'] / result['without']['cpu_s'] - 1, 4)
    result['setting'] = ('MNIST-360, dynamos, buffer 500, seed 0, one thread; with: --eval_every 100 --eval_subset 1000; '
                         'both runs started at once')
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('parts', nargs='*', choices=['startup', 'anytime'], default=['startup', 'anytime'])
    p.add_argument('--base_path', default=None, help='data folder (MNIST in DIR/MNIST/raw/); default $DYNAMOS_DATA, '
                                                     'else <repo>/data')
    p.add_argument('--repeats', type=int, default=3)
    a = p.parse_args(argv)
    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    state = git_state(REPO)
    common = {'commit': state['commit'], 'dirty': state['dirty'], 'date': time.strftime('%Y-%m-%d %H:%M'),
              'load_average_at_start': round(os.getloadavg()[0], 2), 'cpu': hardware().get('cpu')}
    if 'startup' in a.parts:
        results['startup'] = {**common, **startup(a.repeats)}
    if 'anytime' in a.parts:
        results['anytime'] = {**common, **anytime(str(Path(a.base_path or default_data_path()).resolve()))}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1) + '\n')
    print(json.dumps(results, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
