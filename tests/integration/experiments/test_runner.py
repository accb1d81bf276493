"""The experiment runner (dynamos_plugin/experiments/, run_experiments.sh): grids, exact commands,
log parser, resuming, failures, locking, the submitit path, the report and the Seq-SVHN timing.

Runs use a fake Mammoth (a tiny script given with --python) except the Seq-SVHN timing test,
which runs the real Mammoth for two steps on a tiny generated SVHN."""

import ast
import fcntl
import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from dynamos_plugin.experiments import __main__ as cli, execute, grid, published as pub, records, report, svhn_timing
from dynamos_plugin import mammoth_glue
from dynamos_plugin.mammoth_glue import REPO, parse_log, repo_relative


# a realistic end of a Seq-MNIST log: every line twice (stderr and the logger), earlier tasks first
CLASS_IL_LOG = textwrap.dedent("""\
    [INFO] 24-Nov-26 00:11:20 - Task 1
    Accuracy for 1 task(s): \t [Class-IL]: 99.81 % \t [Task-IL]: 99.81 %
    [INFO] 24-Nov-26 00:11:28 - Accuracy for 1 task(s): \t [Class-IL]: 99.81 % \t [Task-IL]: 99.81 %
    \tRaw accuracy values: Class-IL [99.81087470449172] | Task-IL [99.81087470449172]
    [INFO] 24-Nov-26 00:11:28 - \tRaw accuracy values: Class-IL [99.81087470449172] | Task-IL [99.81087470449172]
    Accuracy for 5 task(s): \t [Class-IL]: 96.61 % \t [Task-IL]: 99.7 %
    [INFO] 24-Nov-26 00:20:27 - Accuracy for 5 task(s): \t [Class-IL]: 96.61 % \t [Task-IL]: 99.7 %
    \tRaw accuracy values: Class-IL [98.5, 96.25, 94.0, 94.75, 99.5] | Task-IL [99.5, 99.25, 99.75, 100.0, 99.5]
    [INFO] 24-Nov-26 00:20:27 - \tRaw accuracy values: Class-IL [98.5, 96.25, 94.0, 94.75, 99.5] | Task-IL [99.5, 99.25, 99.75, 100.0, 99.5]
    [INFO] 24-Nov-26 00:20:27 - System stats:
    """)

# the end of a real MNIST-360 (general continual learning) log
DOMAIN_IL_LOG = textwrap.dedent("""\
    [INFO] 24-Nov-26 02:52:09 - Task 1
    Accuracy for 1 task(s): [Domain-IL]: 88.15 %
    [INFO] 24-Nov-26 02:52:12 - Accuracy for 1 task(s): [Domain-IL]: 88.15 %
    \tRaw accuracy values: Domain-IL [88.15]
    [INFO] 24-Nov-26 02:52:12 - \tRaw accuracy values: Domain-IL [88.15]
    [INFO] 24-Nov-26 02:52:12 - Logging results and arguments in /tmp/m/general-continual/mnist-360/er/logs.pyd
    """)

# a fake Mammoth: prints a Mammoth-like final accuracy (90 + seed) to stderr, as Mammoth does.
# `--fail` makes seed 1 exit 1, `--no-accuracy` exits 0 without an accuracy line, `--sleep`
# sleeps a minute first. Every call
# appends its seed to calls.txt beside the script.
FAKE = textwrap.dedent("""\
    import sys
    from pathlib import Path
    args = sys.argv[1:]
    seed = int(args[args.index('--seed') + 1])
    with open(Path(__file__).with_name('calls.txt'), 'a') as f:
        f.write(f'{seed}\\n')
    if '--fail' in args and seed == 1:
        print('ValueError: boom', file=sys.stderr)
        sys.exit(1)
    if '--no-accuracy' in args:
        sys.exit(0)
    if '--sleep' in args:
        import time
        time.sleep(60)
    if '--partial' in args:  # what Mammoth does when a signal stops it after task 2 of 5
        print('Accuracy for 2 task(s): \\t [Class-IL]: 99.5 % \\t [Task-IL]: 99.8 %', file=sys.stderr)
        if seed == 1:
            print('[INFO] 25-Nov-26 03:03:23 - Training stopped by signal handler.', file=sys.stderr)
        sys.exit(0)
    print(f'Accuracy for 5 task(s): \\t [Class-IL]: {90 + seed}.0 % \\t [Task-IL]: 99.0 %', file=sys.stderr)
    print(f'\\tRaw accuracy values: Class-IL [{90 + seed}.0, 80.0] | Task-IL [99.0, 98.0]', file=sys.stderr)
    """)


@pytest.fixture
def fake(tmp_path):
    script = tmp_path / 'fake_mammoth.py'
    script.write_text(FAKE)
    return f'{sys.executable} {script}'


def calls(tmp_path):
    path = tmp_path / 'calls.txt'
    return sorted(int(s) for s in path.read_text().split()) if path.exists() else []


def runner(tmp_path, fake, *extra):
    """The runner on Table 2, Dynamos, buffer 500 (3 seeds), everything under tmp_path."""
    return cli.main(['--table', '2', '--method', 'dynamos', '--buffer', '500', '--python', fake,
                    '--base-path', str(tmp_path / 'data'), '--runs-dir', str(tmp_path / 'runs'),
                    '--results-dir', str(tmp_path / 'results'), *extra])


def record_names(tmp_path):
    return sorted(p.name for p in (tmp_path / 'results' / 'records').glob('*.json'))


# ---------------------------------------------------------------------------------------------
# grid and commands
# ---------------------------------------------------------------------------------------------

def test_grid_sizes():
    assert len(grid.grid(('2',))) == 4 * 3 * 3 + 3  # dynamos, er, der, derpp x 3 buffers x 3 seeds + sgd x 3
    assert len(grid.grid(('1',))) == 2 * 3 * 5 + 5 + 3 * 3 * 3  # dynamos, msa x 5 seeds; sgd x 5; er/der/derpp x 3
    assert len(grid.grid(('svhn',))) == 39
    assert len(grid.grid()) == 39 + 62  # the default: Tables 2 and 1
    assert {r.buffer for r in grid.grid(('1',), methods=['dynamos'])} == {100, 200, 500}
    assert {r.seed for r in grid.grid(('1',), methods=['msa'])} == {0, 1, 2, 3, 4}
    assert {r.seed for r in grid.grid(('1',), methods=['er'])} == {0, 1, 2}
    assert [(r.buffer, r.seed) for r in grid.grid(('1',), methods=['sgd'])] == [(None, s) for s in range(5)]
    assert grid.grid(('2',), methods=['dynamos'], buffers=[500], seeds=[1]) == [grid.Run('2', 'seq-mnist', 'dynamos', 500, 1)]
    assert grid.grid(('2',), methods=['sgd'], buffers=[500]) == []  # SGD has no buffer
    assert grid.grid(('2', '1'), datasets=['mnist-360']) == grid.grid(('1',))


def test_exact_command_lines(tmp_path):
    settings = grid.Settings(base_path='/data', runs_dir=tmp_path / 'runs', results_dir=tmp_path / 'results',
                           mammoth_cmd=['PY', 'main.py'])
    out = str(tmp_path / 'runs')
    assert settings.command(grid.Run('2', 'seq-mnist', 'dynamos', 500, 0)) == [
        'PY', 'main.py', '--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '500', '--seed', '0',
        '--base_path', '/data', '--results_path', f'{out}/table2/seq-mnist/dynamos/buf500/seed0/mammoth',
        '--non_verbose', '1']
    # Seq-MNIST 2000 is not published: the settings of 500 (nearest), with Dynamos' batch sizes (not 10/128)
    assert settings.command(grid.Run('2', 'seq-mnist', 'derpp', 2000, 1)) == [
        'PY', 'main.py', '--model', 'derpp', '--dataset', 'seq-mnist', '--buffer_size', '2000',
        '--backbone', 'ungated-resnet', '--batch_size', '10', '--minibatch_size', '10', '--n_epochs', '1',
        '--lr', '0.03', '--alpha', '1.0', '--beta', '0.5', '--seed', '1', '--base_path', '/data',
        '--results_path', f'{out}/table2/seq-mnist/derpp/buf2000/seed1/mammoth', '--non_verbose', '1']
    # MNIST-360 100 takes 200's settings; DER's published minibatch 64 is replaced by Dynamos' 16
    assert grid.Run('1', 'mnist-360', 'der', 100, 2).mammoth_args('/data') == [
        '--model', 'der', '--dataset', 'mnist-360', '--buffer_size', '100', '--backbone', 'ungated-resnet',
        '--batch_size', '16', '--minibatch_size', '16', '--n_epochs', '1', '--lr', '0.1', '--alpha', '0.5',
        '--seed', '2', '--base_path', '/data']
    assert grid.Run('1', 'mnist-360', 'er', 500, 0).mammoth_args('/d') == [
        '--model', 'er', '--dataset', 'mnist-360', '--buffer_size', '500', '--backbone', 'ungated-resnet',
        '--batch_size', '16', '--minibatch_size', '16', '--n_epochs', '1', '--lr', '0.2', '--seed', '0', '--base_path', '/d']
    assert settings.command(grid.Run('1', 'mnist-360', 'sgd', None, 4)) == [
        'PY', 'main.py', '--model', 'sgd', '--dataset', 'mnist-360', '--backbone', 'ungated-resnet', '--lr', '0.07',
        '--batch_size', '16', '--n_epochs', '1', '--seed', '4', '--base_path', '/data',
        '--results_path', f'{out}/table1/mnist-360/sgd/buf0/seed4/mammoth', '--non_verbose', '1']
    assert grid.Run('1', 'mnist-360', 'msa', 100, 3).mammoth_args('/d') == [
        '--model', 'msa', '--dataset', 'mnist-360', '--buffer_size', '100', '--seed', '3', '--base_path', '/d']
    # Seq-SVHN: Seq-CIFAR-10's settings, 70 epochs, batch 16
    assert grid.Run('svhn', 'seq-svhn32', 'derpp', 1000, 0).mammoth_args('/d') == [
        '--model', 'derpp', '--dataset', 'seq-svhn32', '--buffer_size', '1000', '--backbone', 'ungated-resnet',
        '--batch_size', '16', '--minibatch_size', '16', '--n_epochs', '70', '--lr', '0.03', '--alpha', '0.2',
        '--beta', '0.5', '--seed', '0', '--base_path', '/d']
    assert grid.Run('svhn', 'seq-svhn32', 'sgd', None, 0).mammoth_args('/d')[-8:] == [
        '--batch_size', '16', '--n_epochs', '70', '--seed', '0', '--base_path', '/d']


def test_default_mammoth_command(monkeypatch):
    monkeypatch.delenv('DYNAMOS_MAMMOTH_CMD', raising=False)
    assert grid.default_mammoth_cmd() == [str(REPO / '.venv' / 'bin' / 'python'), str(REPO / 'mammoth' / 'main.py')]
    monkeypatch.setenv('DYNAMOS_MAMMOTH_CMD', 'python3 "/a b/fake.py"')
    assert grid.default_mammoth_cmd() == ['python3', '/a b/fake.py']


def test_nearest_published_buffer():
    assert [grid.nearest_published('seq-mnist', 'er', b) for b in (500, 1000, 2000)] == [500, 500, 500]
    assert [grid.nearest_published('mnist-360', 'der', b) for b in (100, 200, 500)] == [200, 200, 500]
    assert grid.nearest_published('seq-svhn32', 'derpp', 350) == 200  # a tie takes the smaller


def test_published_settings_match_mammoth_best_args():
    """MAMMOTH_BEST is Mammoth's best_args.py (lr, alpha, beta), every buffer size, no transcription error."""
    tree = ast.parse((REPO / 'mammoth' / 'utils' / 'best_args.py').read_text())
    best = next(ast.literal_eval(node.value) for node in tree.body
                if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'best_args')
    assert {ds for ds, _ in pub.MAMMOTH_BEST} == set(grid.DATASETS)
    for (dataset, method), rows in pub.MAMMOTH_BEST.items():
        published = best[pub.MAMMOTH_BEST_SOURCE[dataset]][method]
        assert set(rows) == set(published), (dataset, method)
        for buffer, values in rows.items():
            expected = {k: v for k, v in published[buffer].items() if k in ('lr', 'alpha', 'beta')}
            assert values == expected, (dataset, method, buffer)


def test_dry_run_prints_the_commands_and_runs_nothing(tmp_path, fake, capsys):
    assert runner(tmp_path, fake, '--dry-run') == 0
    out = capsys.readouterr().out.splitlines()
    settings = grid.Settings(base_path=str(tmp_path / 'data'), runs_dir=tmp_path / 'runs',
                           results_dir=tmp_path / 'results', mammoth_cmd=shlex.split(fake))
    assert out[:3] == [f'[todo] {shlex.join(settings.command(grid.Run("2", "seq-mnist", "dynamos", 500, s)))}'
                       for s in range(3)]
    assert out[3] == '3 runs, 0 done, 3 to run (dry run: nothing was run)'
    assert calls(tmp_path) == [] and not (tmp_path / 'results').exists() and not (tmp_path / 'runs').exists()


def test_seeds_first_fills_every_cell_before_adding_seeds(tmp_path, capsys):
    args = ['--dry-run', '--table', '2', '--method', 'dynamos', '--method', 'sgd', '--seed', '0', '--seed', '1',
            '--results-dir', str(tmp_path), '--python', 'mammoth']
    assert cli.main(args) == 0
    cell_order = [(line.split('--model ')[1].split()[0], line.split('--seed ')[1].split()[0])
                  for line in capsys.readouterr().out.splitlines()[:-1]]
    assert cell_order == [('dynamos', '0'), ('dynamos', '1')] * 3 + [('sgd', '0'), ('sgd', '1')]
    assert cli.main(args + ['--seeds-first']) == 0
    lines = capsys.readouterr().out.splitlines()[:-1]
    assert [(line.split('--model ')[1].split()[0], line.split('--buffer_size ')[1].split()[0] if '--buffer_size' in line
             else '-', line.split('--seed ')[1].split()[0]) for line in lines] == [
        ('dynamos', '500', '0'), ('dynamos', '1000', '0'), ('dynamos', '2000', '0'), ('sgd', '-', '0'),
        ('dynamos', '500', '1'), ('dynamos', '1000', '1'), ('dynamos', '2000', '1'), ('sgd', '-', '1')]


def test_shell_entry_point_dry_run(tmp_path):
    proc = subprocess.run([str(REPO / 'run_experiments.sh'), '--dry-run', '--table', '1', '--method', 'sgd',
                           '--seed', '0', '--results-dir', str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f'[todo] {REPO}/.venv/bin/python {REPO}/mammoth/main.py --model sgd --dataset mnist-360 ')
    assert lines[1] == '1 runs, 0 done, 1 to run (dry run: nothing was run)'


# ---------------------------------------------------------------------------------------------
# the log parser
# ---------------------------------------------------------------------------------------------

def test_parse_log_class_il():
    assert parse_log(CLASS_IL_LOG) == {
        'n_tasks': 5, 'setting': 'Class-IL', 'accuracy': 96.61, 'task_il': 99.7,
        'per_task': [98.5, 96.25, 94.0, 94.75, 99.5], 'per_task_task_il': [99.5, 99.25, 99.75, 100.0, 99.5]}


def test_parse_log_domain_il():
    assert parse_log(DOMAIN_IL_LOG) == {'n_tasks': 1, 'setting': 'Domain-IL', 'accuracy': 88.15, 'task_il': None,
                                           'per_task': [88.15], 'per_task_task_il': []}


def test_parse_log_ignores_future_accuracy_and_handles_missing_lines():
    log = CLASS_IL_LOG + 'Future Accuracy for 5 task(s): \t [Class-IL]: 10.0 % \t [Task-IL]: 50.0 %\n'
    assert parse_log(log)['accuracy'] == 96.61
    assert parse_log('Traceback (most recent call last):\nValueError: boom\n') is None
    # numpy-style raw values (spaces, no commas) parse too
    assert parse_log('Accuracy for 2 task(s): \t [Class-IL]: 50.0 % \t [Task-IL]: 90.0 %\n'
                        'Raw accuracy values: Class-IL [60.5 39.5] | Task-IL [90. 90.]')['per_task'] == [60.5, 39.5]


# ---------------------------------------------------------------------------------------------
# running: records, resume, failures, locks, submitit
# ---------------------------------------------------------------------------------------------

def test_records_and_resume(tmp_path, fake, capsys):
    assert runner(tmp_path, fake) == 0
    assert record_names(tmp_path) == [f'seq-mnist__dynamos__buf500__seed{s}.json' for s in range(3)]
    rec = json.loads((tmp_path / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed2.json').read_text())
    assert (rec['status'], rec['setting'], rec['accuracy'], rec['task_il']) == ('ok', 'Class-IL', 92.0, 99.0)
    assert (rec['per_task'], rec['per_task_task_il']) == ([92.0, 80.0], [99.0, 98.0])
    assert (rec['dataset'], rec['method'], rec['buffer'], rec['seed'], rec['table']) == ('seq-mnist', 'dynamos', 500, 2, '2')
    assert rec['args'] == ['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '500', '--seed', '2',
                           '--base_path', str(tmp_path / 'data')]
    assert rec['command'][:2] == [repo_relative(p) for p in shlex.split(fake)]
    assert rec['command'][-2:] == ['--non_verbose', '1']
    assert len(rec['commit']) == 40 and len(rec['mammoth_commit']) == 40 and rec['wall_s'] >= 0
    assert rec['hardware']['cores'] == os.cpu_count() and rec['hardware']['host']
    log = tmp_path / 'runs' / 'table2' / 'seq-mnist' / 'dynamos' / 'buf500' / 'seed2' / 'log.txt'
    assert '[Class-IL]: 92.0 %' in log.read_text()
    assert calls(tmp_path) == [0, 1, 2]

    # seed 1 interrupted: no record, a half-written run folder
    (tmp_path / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed1.json').unlink()
    stale = tmp_path / 'runs' / 'table2' / 'seq-mnist' / 'dynamos' / 'buf500' / 'seed1' / 'mammoth' / 'stale.pt'
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text('half a checkpoint')
    capsys.readouterr()
    assert runner(tmp_path, fake) == 0
    out = capsys.readouterr().out
    assert '3 runs in the selection, 2 already recorded, 1 to run' in out
    assert '[1/1] seq-mnist__dynamos__buf500__seed1: Class-IL 91.00 %' in out
    assert calls(tmp_path) == [0, 1, 1, 2]  # only seed 1 ran again
    assert not stale.exists()  # redone from scratch
    assert len(record_names(tmp_path)) == 3

    capsys.readouterr()
    assert runner(tmp_path, fake) == 0  # everything recorded: nothing runs
    assert '3 already recorded, 0 to run' in capsys.readouterr().out
    assert calls(tmp_path) == [0, 1, 1, 2]


def test_records_name_the_commit_at_launch(tmp_path, fake, monkeypatch):
    # a commit made while a run trains (the fake Mammoth has been called) must not be credited with the run
    monkeypatch.setattr(execute, 'git_state', lambda path: {'commit': 'after' if calls(tmp_path) else 'before',
                                                       'dirty': False, 'diff_sha1': None})
    assert runner(tmp_path, fake, '--seed', '0') == 0
    rec = json.loads((tmp_path / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed0.json').read_text())
    assert calls(tmp_path) == [0] and (rec['commit'], rec['mammoth_commit']) == ('before', 'before')


def test_a_partial_run_is_not_recorded(tmp_path, fake, capsys):
    # Mammoth exits 0 when a signal stops it, after logging the accuracy of the tasks done so far
    assert runner(tmp_path, fake, '--seed', '0', '--seed', '1', '--extra-args=--partial') == 1
    assert record_names(tmp_path) == []
    run_dir = tmp_path / 'runs' / 'table2' / 'seq-mnist' / 'dynamos' / 'buf500'
    assert 'covers 2 of the 5 tasks' in json.loads((run_dir / 'seed0' / 'failed.json').read_text())['reason']
    assert 'stopped by a signal' in json.loads((run_dir / 'seed1' / 'failed.json').read_text())['reason']


def test_a_failed_run_does_not_stop_the_others(tmp_path, fake, capsys):
    assert runner(tmp_path, fake, '-j', '2', '--extra-args=--fail') == 1
    assert record_names(tmp_path) == ['seq-mnist__dynamos__buf500__seed0.json', 'seq-mnist__dynamos__buf500__seed2.json']
    out = capsys.readouterr().out
    assert 'summary: 3 selected, 0 already recorded, 2 ok, 1 failed' in out
    assert 'FAILED  seq-mnist__dynamos__buf500__seed1: exit code 1' in out
    failed = json.loads((tmp_path / 'runs' / 'table2' / 'seq-mnist' / 'dynamos' / 'buf500' / 'seed1'
                         / 'failed.json').read_text())
    assert (failed['status'], failed['returncode'], failed['reason']) == ('failed', 1, 'exit code 1')
    assert 'ValueError: boom' in failed['log_tail'] and failed['extra_args'] == ['--fail']
    # the next invocation redoes only the failed run
    assert runner(tmp_path, fake) == 0
    assert calls(tmp_path) == [0, 1, 1, 2] and len(record_names(tmp_path)) == 3


def test_exit_zero_without_accuracy_is_a_failure(tmp_path, fake, capsys):
    assert runner(tmp_path, fake, '--seed', '0', '--extra-args=--no-accuracy') == 1
    assert record_names(tmp_path) == []
    assert 'exit code 0 but no accuracy line in the log' in capsys.readouterr().out


def test_a_run_locked_by_another_runner_is_left_alone(tmp_path, fake):
    settings = grid.Settings(base_path='/d', runs_dir=tmp_path / 'runs', results_dir=tmp_path / 'results',
                           mammoth_cmd=shlex.split(fake))
    run = grid.Run('2', 'seq-mnist', 'dynamos', 500, 0)
    lock_path = settings.run_dir(run).parent / 'seed0.lock'
    lock_path.parent.mkdir(parents=True)
    with open(lock_path, 'w') as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert execute.execute(run, settings)['status'] == 'busy'
    assert calls(tmp_path) == []
    assert execute.execute(run, settings)['status'] == 'ok'


def test_submitit_executor_writes_the_same_records(tmp_path, fake, capsys):
    """The Slurm path through submitit, on its in-process "debug" cluster (no Slurm here)."""
    assert runner(tmp_path, fake, '--seed', '0', '--seed', '2', '--executor', 'slurm', '--submitit-cluster', 'debug',
                  '--slurm-partition', 'gpu', '--slurm-cpus', '3') == 0
    assert record_names(tmp_path) == ['seq-mnist__dynamos__buf500__seed0.json', 'seq-mnist__dynamos__buf500__seed2.json']
    rec = json.loads((tmp_path / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed0.json').read_text())
    assert rec['threads'] == 3 and rec['accuracy'] == 90.0
    assert 'submitted 2 jobs (debug)' in capsys.readouterr().out


def terminate_runner_mid_run(tmp_path, fake, ignore_sigint=False):
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
        deadline = time.time() + 30
        while not calls(tmp_path) and time.time() < deadline:  # the fake Mammoth has started
            time.sleep(0.1)
        assert calls(tmp_path) == [0]
        proc.terminate()
        # generous: after stopping its run the runner still writes failed.json (importing torch for the
        # hardware line), slow on a loaded 2-core machine. A fake left running (e.g. one that ignores the
        # signal it is sent) finishes after its 60 s sleep and leaves a record: the callers' assertions catch it
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    return proc.returncode, out


def test_a_terminated_runner_stops_its_runs_and_the_next_one_redoes_them(tmp_path, fake):
    returncode, out = terminate_runner_mid_run(tmp_path, fake)
    assert returncode == 130, out
    assert 'interrupted: 1 runs did not finish; run the same command to resume' in out
    assert record_names(tmp_path) == []
    assert runner(tmp_path, fake, '--seed', '0') == 0 and calls(tmp_path) == [0, 0]


def test_a_runner_started_with_sigint_ignored_still_stops_its_runs(tmp_path, fake):
    returncode, out = terminate_runner_mid_run(tmp_path, fake, ignore_sigint=True)
    assert returncode == 130, out
    assert record_names(tmp_path) == []


def test_git_state_of_a_repository_with_a_patched_submodule(tmp_path):
    def git(cwd, *args):
        subprocess.run(['git', '-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'protocol.file.allow=always',
                        *args], cwd=cwd, check=True, capture_output=True)
    inner, outer = tmp_path / 'inner', tmp_path / 'outer'
    for repo in (inner, outer):
        repo.mkdir()
        git(repo, 'init', '-q')
        (repo / 'a.txt').write_text('a\n')
        git(repo, 'add', 'a.txt')
        git(repo, 'commit', '-qm', 'a')
    git(outer, 'submodule', 'add', '-q', str(inner), 'sub')
    git(outer, 'commit', '-qm', 'sub')
    (outer / 'sub' / 'a.txt').write_text('patched\n')  # a patch applied inside the submodule
    state = records.git_state(outer)
    assert state['dirty'] is False and state['diff_sha1'] is None and len(state['commit']) == 40
    assert records.git_state(outer / 'sub')['dirty'] is True
    (outer / 'a.txt').write_text('changed\n')
    assert records.git_state(outer)['dirty'] is True


def test_empty_selection_is_an_error(tmp_path, fake):
    assert runner(tmp_path, fake, '--seed', '7') == 2


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------

def synthetic_record(results, dataset, method, buffer, seed, accuracy, wall_s=600.0, **extra):
    records.write_json(results / 'records' / f'{dataset}__{method}__buf{buffer or 0}__seed{seed}.json', {
        'status': 'ok', 'dataset': dataset, 'method': method, 'buffer': buffer, 'seed': seed, 'accuracy': accuracy,
        'setting': 'Class-IL', 'wall_s': wall_s, 'threads': 1, 'extra_args': [],
        'hardware': {'cpu': 'Test CPU', 'cores': 2, 'gpu': None, 'torch': '9.9'}, **extra})


def test_report_from_records(tmp_path):
    results = tmp_path / 'results'
    for seed, acc in enumerate([96.0, 97.0, 98.0]):
        synthetic_record(results, 'seq-mnist', 'dynamos', 500, seed, acc, wall_s=600.0 + 60 * seed)
    for seed, acc in enumerate([78.0, 79.0, 80.0, 81.0, 82.0]):
        synthetic_record(results, 'mnist-360', 'dynamos', 200, seed, acc, wall_s=120.0)
    synthetic_record(results, 'mnist-360', 'sgd', None, 0, 18.0, wall_s=60.0)
    synthetic_record(results, 'seq-mnist', 'er', 1000, 0, 90.0, extra_args=['--debug_mode', '1'])
    records.write_json(results / 'benchmarks' / 'svhn_epoch_time.json', {
        'epoch_s': 1000.0, 'steps': 916, 'n_train': 73257, 'run_h': 97.2, 'grid_runs': 39, 'grid_days': 158.0})
    written = report.report(results)

    table2 = (results / 'report' / 'table2.md').read_text()
    # mean 97, sample std 1, paper 97.19; wall times 10, 11, 12 min
    assert '| dynamos | 500 | 97.00 ± 1.00 (n=3) | 97.19 | -0.19 | 11.0 min |' in table2
    assert '| dynamos | 1000 | not run | 97.51 | - | - |' in table2
    assert '| er | 1000 | 90.00 ± 0.00 (n=1) † | - | - | 10.0 min |' in table2
    assert '| sgd | - | not run | - | - | - |' in table2
    assert 'Test CPU, 2 cores, CPU only, torch 9.9, 1 thread(s) per run (10 runs)' in table2
    assert "CCGN (not re-run here), by buffer size: 500: 94.01, 1000: 95.94, 2000: 95.94" in table2
    table1 = (results / 'report' / 'table1.md').read_text()
    # mean 80, std sqrt(10/4) = 1.58; paper 79.638 +- 2.853
    assert '| dynamos | 200 | 80.00 ± 1.58 (n=5) | 79.64 ± 2.85 | +0.36 | 2.0 min |' in table1
    assert '| sgd | - | 18.00 ± 0.00 (n=1) | 18.71 ± 0.69 | -0.71 | 1.0 min |' in table1
    assert '| msa | 100 | not run | 61.19 ± 3.07 | - | - |' in table1
    assert 'studies/README.md' not in table1  # no studies page in this results folder: no link
    (results / 'studies').mkdir()
    (results / 'studies' / 'README.md').write_text('# Studies\n')
    report.report(results)
    assert '[studies/README.md](../studies/README.md)' in (results / 'report' / 'table1.md').read_text()
    svhn = (results / 'report' / 'table_svhn.md').read_text()
    assert svhn.count('| not run |') == 13 and 'took 1000 s' in svhn and 'about 158.0 days' in svhn
    comparison = (results / 'report' / 'comparison.md').read_text()
    assert '| dataset | buffer | dynamos | msa | sgd | er | der | derpp |' in comparison
    assert ('| seq-mnist | 500 | 97.00 ± 1.00 (n=3) | not run | not run | not run | not run | not run |'
            in comparison)
    assert '| mnist-360 | 100 | not run | not run | 18.00 ± 0.00 (n=1) | not run | not run | not run |' in comparison
    assert '| seq-mnist | dynamos | 3 | 11.0 min | 0.55 h |' in comparison  # wall time per method
    for ds in ('seq-mnist', 'mnist-360'):
        png = results / 'report' / 'plots' / f'accuracy_vs_buffer_{ds}.png'
        assert png in written and png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and png.stat().st_size > 10_000
    assert not (results / 'report' / 'plots' / 'accuracy_vs_buffer_seq-svhn32.png').exists()  # no SVHN records


def test_report_command_without_records(tmp_path, capsys):
    assert cli.main(['--report', '--results-dir', str(tmp_path)]) == 0
    assert (tmp_path / 'report' / 'table1.md').read_text().count('not run') == 3 * 5 + 1
    assert 'wrote' in capsys.readouterr().out and (tmp_path / 'report' / 'plots' / 'accuracy_vs_buffer_mnist-360.png').exists()


def test_report_reproduces_the_committed_report(tmp_path, monkeypatch):
    """The committed report pages are what the report builds from the committed records and the files it reads
    (the studies page, which it links; the Seq-SVHN timing, which it quotes), byte for byte. The plots are not
    compared (nor drawn: the .md pages do not depend on them)."""
    import shutil
    committed = REPO / 'results'
    results = tmp_path / committed.name  # the header names the folder
    shutil.copytree(committed / 'records', results / 'records')
    for read in (report.STUDIES_PAGE, svhn_timing.SVHN_TIMING):
        if (committed / read).exists():
            (results / read).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(committed / read, results / read)
    monkeypatch.setattr(report, 'write_plots', lambda all_cells, folder: [])
    written = report.report(results)
    pages = sorted(p.name for p in (committed / report.REPORT_DIR).glob('*.md'))
    assert pages == ['comparison.md', 'table1.md', 'table2.md', 'table_svhn.md']
    assert sorted(p.name for p in written) == pages
    for name in pages:
        assert (results / report.REPORT_DIR / name).read_text() == (committed / report.REPORT_DIR / name).read_text()
        assert (results / report.REPORT_DIR / name).read_bytes() == (committed / report.REPORT_DIR / name).read_bytes()


def test_two_std_flag():
    cell = {'mean': 90.0, 'std': 0.5, 'n': 3}
    assert report.diff(cell, ('seq-mnist', 'dynamos', 500)) == '-7.19 (> 2 std)'
    assert report.diff({'mean': 80.0, 'std': 1.0, 'n': 5}, ('mnist-360', 'dynamos', 200)) == '+0.36'
    assert report.diff(cell, ('seq-mnist', 'er', 500)) == '-'


# ---------------------------------------------------------------------------------------------
# Seq-SVHN epoch timing
# ---------------------------------------------------------------------------------------------

def test_synthetic_svhn_files(tmp_path):
    import scipy.io
    svhn_timing.write_synthetic_svhn(tmp_path, n_train=30, n_test=20)
    train = scipy.io.loadmat(tmp_path / 'train_32x32.mat')
    assert train['X'].shape == (32, 32, 3, 30) and train['X'].dtype.name == 'uint8'
    assert train['y'].shape == (30, 1) and set(train['y'].ravel()) == set(range(1, 11))
    assert scipy.io.loadmat(tmp_path / 'test_32x32.mat')['X'].shape[-1] == 20


def test_task1_seconds_from_the_log():
    assert svhn_timing._task1_seconds(DOMAIN_IL_LOG) == 3.0
    assert svhn_timing._task1_seconds('no timestamps') is None


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


# ---------------------------------------------------------------------------------------------
# paths in records: relative to the repository root, the data folder as given
# ---------------------------------------------------------------------------------------------

def test_recorded_paths_are_relative_to_the_repository():
    assert repo_relative(REPO / 'runs' / 'log.txt') == 'runs/log.txt'
    assert repo_relative(str(REPO / '.venv' / 'bin' / 'python')) == '.venv/bin/python'
    assert repo_relative('/elsewhere/data') == '/elsewhere/data'  # outside the repository: as it is
    assert repo_relative('python3') == 'python3' and repo_relative('../shared/data') == '../shared/data'
    settings = grid.Settings(base_path='../shared/data', data_dir='/abs/data', runs_dir=REPO / 'runs',
                             results_dir=REPO / 'results', mammoth_cmd=[str(REPO / '.venv' / 'bin' / 'python'),
                                                                        str(REPO / 'mammoth' / 'main.py')])
    run = grid.Run('2', 'seq-mnist', 'dynamos', 500, 0)
    assert settings.recorded_command(run) == [
        '.venv/bin/python', 'mammoth/main.py', '--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '500',
        '--seed', '0', '--base_path', '../shared/data',
        '--results_path', 'runs/table2/seq-mnist/dynamos/buf500/seed0/mammoth', '--non_verbose', '1']
    executed = settings.command(run)  # what the process gets: absolute (Mammoth changes directory)
    assert executed[:2] == settings.mammoth_cmd and executed[executed.index('--base_path') + 1] == '/abs/data'
    assert executed[executed.index('--results_path') + 1] == str(REPO / 'runs' / 'table2' / 'seq-mnist' / 'dynamos'
                                                                 / 'buf500' / 'seed0' / 'mammoth')


def test_a_record_holds_no_absolute_path(tmp_path, monkeypatch):
    """A run under a (fake) repository root: its record names no path of this machine but what the user gave."""
    monkeypatch.setattr(mammoth_glue, 'REPO', tmp_path)
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
    monkeypatch.delenv('DYNAMOS_DATA', raising=False)
    assert records.recorded_default_data_path() == '../shared/data'
    assert cli.main(['--table', '2', '--method', 'dynamos', '--buffer', '500', '--seed', '0', '--python', fake,
                     '--runs-dir', str(tmp_path / 'runs'), '--results-dir', str(tmp_path / 'results')]) == 0
    rec = json.loads((tmp_path / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed0.json').read_text())
    assert rec['args'][-2:] == ['--base_path', '../shared/data']
    assert rec['command'][rec['command'].index('--base_path') + 1] == '../shared/data'
    log = tmp_path / 'runs' / 'table2' / 'seq-mnist' / 'dynamos' / 'buf500' / 'seed0' / 'log.txt'
    executed = shlex.split(log.read_text().splitlines()[0][2:])
    assert executed[executed.index('--base_path') + 1] == str(REPO.parent / 'shared' / 'data')
    monkeypatch.setenv('DYNAMOS_DATA', 'rel/data')
    assert records.recorded_default_data_path() == 'rel/data'
