"""The experiment runner (dynamos_plugin/experiments/, run_experiments.sh) driving a fake Mammoth (a tiny script
given with --python, tests/integration/experiments/conftest.py): records, where they go, resuming, failures and
their reasons, locks, the submitit path, signals, the shell entry point."""

import fcntl
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time

from dynamos_plugin.glue import paths
from dynamos_plugin.experiments import __main__ as cli, execute, grid
from dynamos_plugin.glue.paths import REPO, repo_relative

from conftest import hang_guard

from .conftest import FAKE

RUN_DIR = ('runs', 'table2', 'seq-mnist', 'dynamos', 'buf500')


# ---------------------------------------------------------------------------------------------
# the command line: dry run, the shell entry point, a closed pipe
# ---------------------------------------------------------------------------------------------

def test_dry_run_prints_the_commands_and_runs_nothing(tmp_path, fake, runner, calls, capsys):
    assert runner('--dry-run') == 0
    out = capsys.readouterr().out.splitlines()
    settings = grid.Settings(base_path=str(tmp_path / 'data'), runs_dir=tmp_path / 'runs',
                             results_dir=tmp_path / 'results', mammoth_cmd=shlex.split(fake))
    assert out[:3] == [f'[todo] {shlex.join(settings.command(grid.Run("2", "seq-mnist", "dynamos", 500, s)))}'
                       for s in range(3)]
    assert out[3] == '3 runs, 0 done, 3 to run (dry run: nothing was run)'
    # Seq-MNIST Dynamos at buffer 500: about 460 s a run in the committed records, three runs: 0.4 h
    assert out[4].startswith('estimated: 0.4 h of run time for 3 of the 3 runs to do (the committed wall times')
    assert out[5].startswith(f'records: {tmp_path}/results/records/ ')
    assert calls() == [] and not (tmp_path / 'results').exists() and not (tmp_path / 'runs').exists()


def test_shell_entry_point_dry_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != 'DYNAMOS_DATA'}
    proc = subprocess.run([str(REPO / 'run_experiments.sh'), '--dry-run', '--table', '1', '--method', 'sgd',
                           '--seed', '0', '--runs-dir', str(tmp_path)], capture_output=True, text=True, timeout=hang_guard(60),
                          env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f'[todo] {REPO}/.venv/bin/python {REPO}/mammoth/main.py --model sgd --dataset mnist-360 ')
    assert f' --base_path {REPO}/data ' in lines[0]  # the README's data folder
    assert lines[1] == '1 runs, 0 done, 1 to run (dry run: nothing was run)'
    assert lines[2].startswith('estimated: 0.0 h of run time for 1 of the 1 runs to do')  # SGD: about 150 s
    assert lines[3].startswith(f'records: {tmp_path}/results/records/ ')


def test_a_closed_pipe_ends_a_dry_run_quietly(tmp_path):
    """`./run_experiments.sh --dry-run | head`: the reader is gone before the runner writes; no traceback."""
    proc = subprocess.Popen([str(REPO / 'run_experiments.sh'), '--dry-run', '--runs-dir', str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # as `head` does once it has its lines
    _, err = proc.communicate(timeout=hang_guard(60))
    assert proc.returncode == 141 and err == '', err


# ---------------------------------------------------------------------------------------------
# records: where they go, resume
# ---------------------------------------------------------------------------------------------

def test_records_and_resume(tmp_path, fake, runner, calls, record_names, lock_files, capsys):
    assert runner() == 0
    assert record_names() == [f'seq-mnist__dynamos__buf500__seed{s}.json' for s in range(3)]
    rec = json.loads((tmp_path / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed2.json').read_text())
    assert (rec['status'], rec['setting'], rec['accuracy'], rec['task_il']) == ('ok', 'Class-IL', 92.0, 99.0)
    assert (rec['per_task'], rec['per_task_task_il']) == ([92.0, 80.0], [99.0, 98.0])
    assert (rec['dataset'], rec['method'], rec['buffer'], rec['seed'], rec['table']) == (
        'seq-mnist', 'dynamos', 500, 2, '2')
    assert rec['args'] == ['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '500', '--seed', '2',
                           '--base_path', str(tmp_path / 'data')]
    assert rec['command'][:2] == [repo_relative(p) for p in shlex.split(fake)]
    assert rec['command'][-2:] == ['--non_verbose', '1']
    assert len(rec['commit']) == 40 and len(rec['mammoth_commit']) == 40 and rec['wall_s'] >= 0
    assert rec['hardware']['cores'] == os.cpu_count() and rec['hardware']['host']
    log = tmp_path.joinpath(*RUN_DIR, 'seed2', 'log.txt')
    assert '[Class-IL]: 92.0 %' in log.read_text()
    assert calls() == [0, 1, 2]
    assert lock_files() == []  # every run removed its lock file when it was over
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (f'records: {tmp_path}/results/records/ (a run with a record there is done); their '
                                    f'report: ./run_experiments.sh --report --results-dir {tmp_path}/results')

    # seed 1 interrupted: no record, a half-written run folder
    (tmp_path / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed1.json').unlink()
    stale = tmp_path.joinpath(*RUN_DIR, 'seed1', 'mammoth', 'stale.pt')
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text('half a checkpoint')
    assert runner() == 0
    out = capsys.readouterr().out
    assert '3 runs in the selection, 2 already recorded, 1 to run' in out
    assert '[1/1] seq-mnist__dynamos__buf500__seed1: Class-IL 91.00 %' in out
    assert calls() == [0, 1, 1, 2]  # only seed 1 ran again
    assert not stale.exists()  # redone from scratch
    assert len(record_names()) == 3

    assert runner() == 0  # everything recorded: nothing runs
    assert '3 already recorded, 0 to run' in capsys.readouterr().out
    assert calls() == [0, 1, 1, 2] and lock_files() == []


def test_runs_go_to_the_users_folder_by_default(tmp_path, fake, calls, capsys):
    """Without --results-dir, records go to <runs-dir>/results, the user's own: the committed records of
    results/ are neither counted as done nor added to."""
    committed = sorted((REPO / 'results' / 'records').iterdir())
    assert (REPO / 'results' / 'records' / 'seq-mnist__er__buf500__seed0.json') in committed
    assert cli.main(['--table', '2', '--method', 'er', '--buffer', '500', '--seed', '0', '--python', fake,
                     '--base-path', str(tmp_path / 'data'), '--runs-dir', str(tmp_path / 'runs')]) == 0
    assert calls() == [0]  # run, although the committed results hold this run's record
    users = tmp_path / 'runs' / 'results' / 'records'
    assert [p.name for p in users.iterdir()] == ['seq-mnist__er__buf500__seed0.json']
    assert sorted((REPO / 'results' / 'records').iterdir()) == committed
    assert capsys.readouterr().out.splitlines()[-1].startswith(f'records: {tmp_path}/runs/results/records/ ')


def test_records_name_the_commit_at_launch(tmp_path, runner, calls, monkeypatch):
    # a commit made while a run trains (the fake Mammoth has been called) must not be credited with the run
    monkeypatch.setattr(execute, 'git_state', lambda path: {'commit': 'after' if calls() else 'before',
                                                            'dirty': False, 'diff_sha1': None})
    assert runner('--seed', '0') == 0
    rec = json.loads((tmp_path / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed0.json').read_text())
    assert calls() == [0] and (rec['commit'], rec['mammoth_commit']) == ('before', 'before')


# ---------------------------------------------------------------------------------------------
# failures: not recorded, redone, their reason on the console
# ---------------------------------------------------------------------------------------------

def test_a_partial_run_is_not_recorded(tmp_path, runner, record_names):
    # Mammoth exits 0 when a signal stops it, after logging the accuracy of the tasks done so far
    assert runner('--seed', '0', '--seed', '1', '--extra-args=--partial') == 1
    assert record_names() == []
    run_dir = tmp_path.joinpath(*RUN_DIR)
    assert 'covers 2 of the 5 tasks' in json.loads((run_dir / 'seed0' / 'failed.json').read_text())['reason']
    assert 'stopped by a signal' in json.loads((run_dir / 'seed1' / 'failed.json').read_text())['reason']


def test_a_failed_run_does_not_stop_the_others(tmp_path, runner, calls, record_names, lock_files, capsys):
    assert runner('-j', '2', '--extra-args=--fail') == 1
    assert record_names() == ['seq-mnist__dynamos__buf500__seed0.json', 'seq-mnist__dynamos__buf500__seed2.json']
    out = capsys.readouterr().out
    assert 'summary: 3 selected, 0 already recorded, 2 ok, 1 failed' in out
    # the reason on the console: Mammoth's error line, not the hint after it
    log = repo_relative(tmp_path.joinpath(*RUN_DIR, 'seed1', 'log.txt'))
    assert f'seq-mnist__dynamos__buf500__seed1: FAILED (exit code 1): ValueError: boom; log: {log}\n' in out
    assert 'FAILED  seq-mnist__dynamos__buf500__seed1: exit code 1: ValueError: boom; log: ' in out
    failed = json.loads(tmp_path.joinpath(*RUN_DIR, 'seed1', 'failed.json').read_text())
    assert (failed['status'], failed['returncode'], failed['reason']) == ('failed', 1, 'exit code 1')
    assert failed['error'] == 'ValueError: boom'
    assert 'ValueError: boom' in failed['log_tail'] and failed['extra_args'] == ['--fail']
    assert lock_files() == []  # a failed run's lock file goes too
    # the next invocation redoes only the failed run
    assert runner() == 0
    assert calls() == [0, 1, 1, 2] and len(record_names()) == 3


def test_an_argument_error_is_shown(runner, capsys):
    assert runner('--seed', '0', '--extra-args=--bad-argument') == 1
    assert ("FAILED (exit code 2): main.py: error: argument --buffer_size: 'abc' is not a valid int; log: "
            in capsys.readouterr().out)


def test_exit_zero_without_accuracy_is_a_failure(runner, record_names, capsys):
    assert runner('--seed', '0', '--extra-args=--no-accuracy') == 1
    assert record_names() == []
    out = capsys.readouterr().out
    assert 'FAILED (exit code 0 but no accuracy line in the log); log: ' in out


def test_empty_selection_is_an_error(runner):
    assert runner('--seed', '7') == 2


# ---------------------------------------------------------------------------------------------
# locks, submitit, signals
# ---------------------------------------------------------------------------------------------

def test_a_run_locked_by_another_runner_is_left_alone(tmp_path, fake, calls):
    settings = grid.Settings(base_path='/d', runs_dir=tmp_path / 'runs', results_dir=tmp_path / 'results',
                             mammoth_cmd=shlex.split(fake))
    run = grid.Run('2', 'seq-mnist', 'dynamos', 500, 0)
    lock_path = settings.run_dir(run).parent / 'seed0.lock'
    lock_path.parent.mkdir(parents=True)
    with open(lock_path, 'w') as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert execute.execute(run, settings)['status'] == 'busy'
        assert lock_path.exists()  # the holder's file: left to it
    assert calls() == []
    assert execute.execute(run, settings)['status'] == 'ok'
    assert not lock_path.exists()  # its run over, the runner that held it removed it


def test_the_mammoth_process_holds_the_lock_while_it_runs(tmp_path, fake, calls):
    """The lock is the runner's and its Mammoth process's: another runner is kept out while the run trains."""
    settings = grid.Settings(base_path='/d', runs_dir=tmp_path / 'runs', results_dir=tmp_path / 'results',
                             mammoth_cmd=shlex.split(fake), extra_args=['--sleep'])
    run = grid.Run('2', 'seq-mnist', 'dynamos', 500, 0)
    first = threading.Thread(target=execute.execute, args=(run, settings))
    first.start()
    try:
        deadline = time.time() + 300  # a bound, not a wait: a loaded machine starts the fake slowly
        while not calls() and time.time() < deadline:
            time.sleep(0.1)
        assert calls() == [0]
        assert execute.execute(run, settings)['status'] == 'busy'
        assert (settings.run_dir(run).parent / 'seed0.lock').exists()
    finally:
        execute.stop_active()
        first.join(timeout=hang_guard(120))
        execute.allow_starts()
    assert not (settings.run_dir(run).parent / 'seed0.lock').exists() and calls() == [0]


def test_submitit_executor_writes_the_same_records(tmp_path, runner, record_names, lock_files, capsys):
    """The Slurm path through submitit, on its in-process "debug" cluster (no Slurm here)."""
    assert runner('--seed', '0', '--seed', '2', '--executor', 'slurm', '--submitit-cluster', 'debug',
                  '--slurm-partition', 'gpu', '--slurm-cpus', '3') == 0
    assert record_names() == ['seq-mnist__dynamos__buf500__seed0.json', 'seq-mnist__dynamos__buf500__seed2.json']
    rec = json.loads((tmp_path / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed0.json').read_text())
    assert rec['threads'] == 3 and rec['accuracy'] == 90.0
    assert 'submitted 2 jobs (debug)' in capsys.readouterr().out
    assert lock_files() == []


def terminate_runner_mid_run(tmp_path, fake, calls, ignore_sigint=False):
    """Starts the runner on one run whose fake Mammoth sleeps a minute, sends the runner SIGTERM once the fake
    has started, and returns the runner's exit status and output. ``ignore_sigint``: start it as
    ``nohup ... &`` from a script does, with SIGINT ignored (inherited by every child)."""
    cmd = [sys.executable, '-m', 'dynamos_plugin.experiments', '--table', '2', '--method', 'dynamos', '--buffer', '500',
           '--seed', '0', '--python', fake, '--runs-dir', str(tmp_path / 'runs'),
           '--results-dir', str(tmp_path / 'results'), '--extra-args=--sleep']
    preexec = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=preexec)
    try:
        deadline = time.time() + 300  # a bound, not a wait: a loaded machine starts the fake slowly
        while not calls() and time.time() < deadline:  # the fake Mammoth has started
            time.sleep(0.1)
        assert calls() == [0]
        proc.terminate()
        # generous: after stopping its run the runner still writes failed.json (importing torch for the
        # hardware line), slow on a loaded 2-core machine. A fake left running (e.g. one that ignores the
        # signal it is sent) finishes after its 60 s sleep and leaves a record: the callers' assertions catch it
        out, _ = proc.communicate(timeout=hang_guard(120))
    finally:
        proc.kill()
    return proc.returncode, out


def test_a_terminated_runner_stops_its_runs_and_the_next_one_redoes_them(tmp_path, fake, runner, calls, record_names,
                                                                         lock_files):
    returncode, out = terminate_runner_mid_run(tmp_path, fake, calls)
    assert returncode == 130, out
    assert 'interrupted: 1 runs did not finish; run the same command to resume' in out
    assert record_names() == [] and lock_files() == []
    assert runner('--seed', '0') == 0 and calls() == [0, 0]


def test_a_runner_started_with_sigint_ignored_still_stops_its_runs(tmp_path, fake, calls, record_names):
    returncode, out = terminate_runner_mid_run(tmp_path, fake, calls, ignore_sigint=True)
    assert returncode == 130, out
    assert record_names() == []


# ---------------------------------------------------------------------------------------------
# paths in records: relative to the repository root, the data folder as given
# ---------------------------------------------------------------------------------------------

def test_a_record_holds_no_absolute_path(tmp_path, monkeypatch):
    """A run under a (fake) repository root: its record names no path of this machine but what the user gave."""
    monkeypatch.setattr(paths, 'REPO', tmp_path)
    (tmp_path / 'fake_mammoth.py').write_text(FAKE)
    assert cli.main(['--table', '2', '--method', 'dynamos', '--buffer', '500', '--seed', '0', '--base-path', 'my/data',
                     '--python', f'{sys.executable} {tmp_path / "fake_mammoth.py"}', '--runs-dir', str(tmp_path / 'runs'),
                     '--results-dir', str(tmp_path / 'results')]) == 0
    rec = json.loads((tmp_path / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed0.json').read_text())
    run_dir = 'runs/table2/seq-mnist/dynamos/buf500/seed0'
    assert rec['log'] == f'{run_dir}/log.txt'
    assert rec['args'][-2:] == ['--base_path', 'my/data']  # the data folder exactly as given
    assert rec['command'] == [sys.executable, 'fake_mammoth.py', *rec['args'], '--results_path', f'{run_dir}/mammoth',
                              '--non_verbose', '1']
    strings = [rec['log'], *rec['args'], *rec['command'][1:]]  # command[0]: the interpreter the user gave (--python)
    assert not [s for s in strings if s.startswith('/') or s.startswith(str(tmp_path))]
    # the process itself was handed absolute paths
    executed = shlex.split((tmp_path / run_dir / 'log.txt').read_text().splitlines()[0][2:])
    assert executed[executed.index('--base_path') + 1] == os.path.abspath('my/data')
    assert executed[executed.index('--results_path') + 1] == str(tmp_path / run_dir / 'mammoth')


def test_the_default_data_folder_is_recorded_as_given(tmp_path, fake, monkeypatch):
    """The default data folder, <repo>/data (the README's), is recorded as `data` and handed to Mammoth absolute."""
    monkeypatch.delenv('DYNAMOS_DATA', raising=False)
    assert cli.main(['--table', '2', '--method', 'dynamos', '--buffer', '500', '--seed', '0', '--python', fake,
                     '--runs-dir', str(tmp_path / 'runs'), '--results-dir', str(tmp_path / 'results')]) == 0
    rec = json.loads((tmp_path / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed0.json').read_text())
    assert rec['args'][-2:] == ['--base_path', 'data']
    assert rec['command'][rec['command'].index('--base_path') + 1] == 'data'
    executed = shlex.split(tmp_path.joinpath(*RUN_DIR, 'seed0', 'log.txt').read_text().splitlines()[0][2:])
    assert executed[executed.index('--base_path') + 1] == str(REPO / 'data')
