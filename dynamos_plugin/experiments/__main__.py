"""The command line of the experiment runner: ``python -m dynamos_plugin.experiments`` (what
``./run_experiments.sh`` runs); ``--help`` lists every option."""

import argparse
import json
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import List, Optional

import dynamos_plugin.experiments as package
from dynamos_plugin.experiments.estimate import cell_wall_times, estimate_line
from dynamos_plugin.experiments.execute import allow_starts, stop_active
from dynamos_plugin.experiments.grid import DATASETS, DEFAULT_TABLES, METHODS, TABLES, Run, Settings, \
    default_mammoth_cmd, grid
from dynamos_plugin.experiments.launch import run_grid
from dynamos_plugin.experiments.records import REFERENCE_DIR as REFERENCE, default_results_dir, git_state, load_records, \
    recorded_default_data_path
from dynamos_plugin.experiments.readme import update_readme
from dynamos_plugin.experiments.report import report
from dynamos_plugin.experiments.svhn_timing import SVHN_TEST, SVHN_TRAIN, measure_svhn_epoch
from dynamos_plugin.glue.paths import REPO, default_data_path, repo_relative


#: the README whose generated blocks (dynamos_plugin/experiments/readme.py) the committed report rewrites
README = REPO / 'README.md'


def _add_selection(p: argparse.ArgumentParser) -> None:
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


def _add_actions(p: argparse.ArgumentParser) -> None:
    act = p.add_argument_group('what to do (default: run the selection)')
    act.add_argument('--dry-run', action='store_true', help='print the commands (and done/todo), run nothing')
    act.add_argument('--report', action='store_true',
                     help='build the tables (Markdown, CSV, LaTeX) and plots in --results-dir/report from its records; '
                          'without --results-dir: the committed reference report, results/report/ from '
                          'results/records/; with it (e.g. --results-dir runs/results, your runs): your report, '
                          'each cell beside the committed reference (--reference-dir)')
    act.add_argument('--measure-svhn-epoch', action='store_true',
                     help='time one Seq-SVHN epoch of Dynamos on a synthetic SVHN-sized set (heavy) and project the '
                          'grid (written to --results-dir/benchmarks/svhn_epoch_time.json; default runs/results/)')
    act.add_argument('--svhn-size', type=int, nargs=2, metavar=('TRAIN', 'TEST'), default=(SVHN_TRAIN, SVHN_TEST),
                     help='images of the synthetic SVHN (default: the real %(default)s)')


def _add_running(p: argparse.ArgumentParser) -> None:
    run = p.add_argument_group('running')
    run.add_argument('-j', '--jobs', type=int, default=1, help='runs at a time (local executor; default 1)')
    run.add_argument('--threads', type=int, default=None, help='torch threads per run (default: cores / jobs)')
    run.add_argument('--base_path', '--base-path', dest='base_path', default=None,
                     help='data folder, as Mammoth\'s --base_path (--base-path: the same), recorded as given '
                          '(default: $DYNAMOS_DATA, else <repo>/data, recorded as "data")')
    run.add_argument('--runs-dir', type=Path, default=REPO / 'runs',
                     help='logs, one folder per run (default: runs/, git-ignored)')
    run.add_argument('--results-dir', type=Path, default=None,
                     help='records (records/*.json), report (report/) and the Seq-SVHN timing (benchmarks/). '
                          'Default: <runs-dir>/results, i.e. runs/results/, your own runs (a run with a record there '
                          'is done); for --report alone: results/, the committed reference. Whoever updates the '
                          'committed reference grid passes --results-dir results')
    run.add_argument('--reference-dir', type=Path, default=REFERENCE,
                     help='--report: the results whose numbers each cell of the report is shown beside (default: '
                          'results/, the committed reference; none when it is --results-dir itself)')
    run.add_argument('--extra-args', default='', metavar='ARGS',
                     help='extra arguments for every Mammoth run, one quoted string (e.g. "--debug_mode 1"; a single '
                          'flag needs the = form: --extra-args=--flag); kept in the records')
    run.add_argument('--allow-dirty', action='store_true',
                     help='run even though the working tree has uncommitted changes while the records go into the '
                          'committed results/ (the tables, the studies); refused without it, since such records could '
                          'not be reproduced from their commit. Records always say whether the tree was dirty')
    run.add_argument('--python', default=None, metavar='CMD',
                     help='command that runs Mammoth (default: $DYNAMOS_MAMMOTH_CMD or '
                          '<repo>/.venv/bin/python <repo>/mammoth/main.py)')


def _add_slurm(p: argparse.ArgumentParser) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='run_experiments.sh', description=package.__doc__.split('\n\n')[0].strip(),
                                epilog='Your runs\' records go to runs/results/ (git-ignored); results/ is the '
                                       'committed reference, which a run never counts as yours. Compare with it: '
                                       './run_experiments.sh --report --results-dir runs/results. See the docstring '
                                       'of dynamos_plugin/experiments/__init__.py for the methods and choices.')
    for add in (_add_selection, _add_actions, _add_running, _add_slurm):
        add(p)
    return p


def _selection(a: argparse.Namespace) -> List[Run]:
    tables = a.table or ([t for t, spec in TABLES.items() if spec['dataset'] in a.dataset] if a.dataset
                         else list(DEFAULT_TABLES))
    runs = grid(tables, a.dataset, a.method, a.buffer, a.seed)
    if a.seeds_first:
        runs.sort(key=lambda run: run.seed)  # stable: cells keep their table, method, buffer order
    return runs


def _settings(a: argparse.Namespace, mammoth_cmd: List[str]) -> Settings:
    """The data folder is recorded as given (the default as ``data``) and handed to Mammoth absolute."""
    if a.executor == 'slurm':
        threads = a.threads or a.slurm_cpus
    else:
        threads = a.threads or max(1, (os.cpu_count() or 1) // max(1, a.jobs))
    given, data_dir = ((a.base_path, a.base_path) if a.base_path is not None
                       else (recorded_default_data_path(), default_data_path()))
    return Settings(base_path=given, data_dir=os.path.abspath(data_dir), runs_dir=a.runs_dir.resolve(),
                    results_dir=_results_dir(a), mammoth_cmd=mammoth_cmd, threads=threads,
                    extra_args=shlex.split(a.extra_args))


def _results_dir(a: argparse.Namespace) -> Path:
    """``--results-dir``, else the user's own folder, ``<runs-dir>/results``."""
    return (a.results_dir or default_results_dir(a.runs_dir)).resolve()


def _where(settings: Settings) -> str:
    """Where this invocation's records go, and how to build their report."""
    shown = repo_relative(settings.results_dir)
    return (f'records: {shown}/records/ (a run with a record there is done); their report: '
            f'./run_experiments.sh --report --results-dir {shlex.quote(shown)}')


def _dry_run(runs: List[Run], settings: Settings, jobs: int = 1) -> int:
    for run in runs:
        state = 'done' if settings.record_path(run).exists() else 'todo'
        print(f'[{state}] {shlex.join(settings.command(run))}')
    todo = [r for r in runs if not settings.record_path(r).exists()]
    print(f'{len(runs)} runs, {len(runs) - len(todo)} done, {len(todo)} to run (dry run: nothing was run)')
    print(estimate_line(todo, cell_wall_times(load_records(REFERENCE)), jobs))
    print(_where(settings))
    return 0


def _run(a: argparse.Namespace, runs: List[Run], settings: Settings) -> int:
    """Runs the selection; a SIGTERM stops it as Ctrl-C does (exit status 130)."""
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
        allow_starts()
    print(_where(settings), flush=True)
    return 1 if failures else 0


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    mammoth_cmd = shlex.split(a.python) if a.python else default_mammoth_cmd()
    if a.report:  # without --results-dir: the committed reference report
        results_dir = (a.results_dir or REFERENCE).resolve()
        reference = a.reference_dir.resolve() if a.reference_dir else None
        for path in report(results_dir, None if reference == results_dir else reference):
            print(f'wrote {repo_relative(path)}')
        if results_dir == REFERENCE.resolve() and update_readme(README, results_dir):  # its generated blocks
            print(f'wrote {repo_relative(README)}')
        return 0
    if a.measure_svhn_epoch:
        print(json.dumps(measure_svhn_epoch(_results_dir(a), *a.svhn_size, threads=os.cpu_count() or 1,
                                            mammoth_cmd=mammoth_cmd), indent=1))
        return 0
    runs = _selection(a)
    if not runs:
        print('no run matches the selection', file=sys.stderr)
        return 2
    settings = _settings(a, mammoth_cmd)
    if a.dry_run:
        return _dry_run(runs, settings, a.jobs)
    refusal = _dirty_refusal(settings.results_dir, a.allow_dirty)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    return _run(a, runs, settings)


def _dirty_refusal(results_dir: Path, allow_dirty: bool) -> Optional[str]:
    """Why records must not be written into ``results_dir`` now (None when they may): records that land in the
    committed ``results/`` must come from a committed, clean tree."""
    if allow_dirty or not results_dir.resolve().is_relative_to((REPO / 'results').resolve()):
        return None
    state = git_state(REPO)
    if not state['dirty']:
        return None
    return (f'refusing to run: the working tree has uncommitted changes, and the records would go into '
            f'{repo_relative(results_dir)}/, which is committed; commit first (or pass --allow-dirty: the records '
            f'then say "dirty": true)')


def _interrupt(signum, frame) -> None:
    """SIGTERM handler: behave as Ctrl-C (stop this runner's Mammoth processes; the next invocation redoes them)."""
    raise KeyboardInterrupt


def entry(argv=None) -> int:
    """:func:`main` for the command line: a closed output pipe (``./run_experiments.sh --dry-run | head``) ends it
    quietly, as it ends other command-line tools (exit status 141, SIGPIPE's), after stopping its runs."""
    try:
        status = main(argv)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        stop_active()  # a run of this runner, if any, is stopped as by Ctrl-C: the next invocation redoes it
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail again
        return 141


if __name__ == '__main__':
    sys.exit(entry())
