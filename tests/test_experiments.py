"""The experiment runner: the grid, the log parser, resuming, failures and the report."""

import json
import sys
import textwrap

import pytest

from dynamos_plugin import experiments as ex

LOG = textwrap.dedent("""\
    [INFO] 24-Nov-26 00:11:28 - Accuracy for 1 task(s): \t [Class-IL]: 99.81 % \t [Task-IL]: 99.81 %
    Accuracy for 5 task(s): \t [Class-IL]: 96.61 % \t [Task-IL]: 99.7 %
    [INFO] 24-Nov-26 00:20:27 - \tRaw accuracy values: Class-IL [98.5, 96.25, 94.0, 94.75, 99.5] | Task-IL [99.5, 99.25, 99.75, 100.0, 99.5]
    """)


def test_grid_sizes():
    assert len(ex.grid(('2',))) == 3 * 3 * 4 + 3  # dynamos, er, der, derpp x 3 buffers x 3 seeds + sgd x 3
    assert len(ex.grid(('1',))) == 3 * 5 * 2 + 5 + 3 * 3 * 3  # dynamos, msa x 5 seeds, sgd x 5, er/der/derpp x 3
    assert {r.buffer for r in ex.grid(('1',), methods=['dynamos'])} == {100, 200, 500}
    assert len(ex.grid(('2',), methods=['dynamos'], buffers=[500], seeds=[1])) == 1


def test_commands():
    dyn = ex.Run('2', 'seq-mnist', 'dynamos', 500, 0)
    assert dyn.mammoth_args('/d') == ['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '500',
                                      '--seed', '0', '--base_path', '/d']
    derpp = ex.Run('2', 'seq-mnist', 'derpp', 2000, 1).mammoth_args('/d')
    assert derpp == ['--model', 'derpp', '--dataset', 'seq-mnist', '--buffer_size', '2000', '--backbone', 'ungated-resnet',
                     '--batch_size', '10', '--minibatch_size', '10', '--n_epochs', '1',
                     '--lr', '0.03', '--alpha', '1.0', '--beta', '0.5', '--seed', '1', '--base_path', '/d']
    er = ex.Run('1', 'mnist-360', 'er', 100, 0).mammoth_args('/d')  # nearest published: 200
    assert er[er.index('--lr') + 1] == '0.2' and er[er.index('--batch_size') + 1] == '16'
    sgd = ex.Run('1', 'mnist-360', 'sgd', None, 4).mammoth_args('/d')
    assert '--buffer_size' not in sgd and sgd[sgd.index('--lr') + 1] == '0.07'


def test_parse_log_class_il_and_domain_il():
    parsed = ex.parse_log(LOG)
    assert parsed == {'n_tasks': 5, 'setting': 'Class-IL', 'accuracy': 96.61, 'task_il': 99.7,
                      'per_task': [98.5, 96.25, 94.0, 94.75, 99.5], 'per_task_task_il': [99.5, 99.25, 99.75, 100.0, 99.5]}
    domain = ex.parse_log('Accuracy for 1 task(s): [Domain-IL]: 88.15 %\n\tRaw accuracy values: Domain-IL [88.15]\n')
    assert (domain['setting'], domain['accuracy'], domain['task_il'], domain['per_task']) == ('Domain-IL', 88.15, None, [88.15])
    assert ex.parse_log('Traceback ...') is None


FAKE = textwrap.dedent("""\
    import sys
    args = sys.argv[1:]
    seed = int(args[args.index('--seed') + 1])
    if '--fail' in args and seed == 1:
        print('ValueError: boom', file=sys.stderr)
        sys.exit(1)
    print(f'Accuracy for 5 task(s): \\t [Class-IL]: {90 + seed}.0 % \\t [Task-IL]: 99.0 %')
    print(f'\\tRaw accuracy values: Class-IL [{90 + seed}.0] | Task-IL [99.0]')
    """)


@pytest.fixture
def fake(tmp_path):
    script = tmp_path / 'fake_mammoth.py'
    script.write_text(FAKE)
    return f'{sys.executable} {script}'


def runner(tmp_path, fake, *extra):
    return ex.main(['--table', '2', '--method', 'dynamos', '--buffer', '500', '--python', fake, '--base-path', str(tmp_path),
                    '--runs-dir', str(tmp_path / 'runs'), '--results-dir', str(tmp_path / 'results'), *extra])


def test_resume_skips_finished_and_redoes_missing(tmp_path, fake, capsys):
    assert runner(tmp_path, fake) == 0
    records = sorted((tmp_path / 'results' / 'records').glob('*.json'))
    assert [r.name for r in records] == [f'seq-mnist__dynamos__buf500__seed{s}.json' for s in range(3)]
    rec = json.loads(records[2].read_text())
    assert (rec['status'], rec['accuracy'], rec['seed'], rec['per_task']) == ('ok', 92.0, 2, [92.0])
    assert rec['args'][:2] == ['--model', 'dynamos'] and rec['wall_s'] >= 0 and rec['commit']
    records[1].unlink()  # as if seed 1 had been interrupted
    capsys.readouterr()
    assert runner(tmp_path, fake) == 0
    out = capsys.readouterr().out
    assert '3 runs in the selection, 2 already recorded, 1 to run' in out
    assert 'seed1' in out and 'seed0' not in out.split('already recorded')[1]


def test_a_failed_run_does_not_stop_the_others(tmp_path, fake, capsys):
    assert runner(tmp_path, fake, '-j', '2', '--extra-args=--fail') == 1
    names = sorted(p.name for p in (tmp_path / 'results' / 'records').glob('*.json'))
    assert names == ['seq-mnist__dynamos__buf500__seed0.json', 'seq-mnist__dynamos__buf500__seed2.json']
    assert 'done: 2 ok, 1 failed' in capsys.readouterr().out
    assert (tmp_path / 'runs' / 'table2' / 'seq-mnist' / 'dynamos' / 'buf500' / 'seed1' / 'failed.json').exists()


def test_dry_run_runs_nothing(tmp_path, fake, capsys):
    assert runner(tmp_path, fake, '--dry-run') == 0
    out = capsys.readouterr().out
    assert out.count('[todo]') == 3 and '--buffer_size 500' in out
    assert not (tmp_path / 'results').exists()


def test_report_from_records(tmp_path):
    results = tmp_path / 'results'
    for seed, acc in enumerate([96.0, 97.0, 98.0]):
        ex.write_json(results / 'records' / f'r{seed}.json', {
            'status': 'ok', 'dataset': 'seq-mnist', 'method': 'dynamos', 'buffer': 500, 'seed': seed, 'accuracy': acc,
            'wall_s': 600.0, 'threads': 1, 'hardware': {'cpu': 'cpu', 'cores': 2, 'torch': 'x'}})
    ex.write_json(results / 'records' / 'sgd.json', {
        'status': 'ok', 'dataset': 'mnist-360', 'method': 'sgd', 'buffer': None, 'seed': 0, 'accuracy': 18.0,
        'wall_s': 60.0, 'threads': 1, 'hardware': {'cpu': 'cpu', 'cores': 2, 'torch': 'x'}})
    written = ex.report(results)
    table2 = (results / 'table2.md').read_text()
    # mean 97, sample std 1, paper 97.19
    assert '| dynamos | 500 | 97.00 ± 1.00 (n=3) | 97.19 | -0.19 | 10.0 min |' in table2
    assert '| er | 500 | not run |' in table2
    assert '| sgd | - | 18.00 ± 0.00 (n=1) | 18.71 ± 0.69 | -0.71 | 1.0 min |' in (results / 'table1.md').read_text()
    assert 'not run' in (results / 'table_svhn.md').read_text()
    for png in ('accuracy_vs_buffer_seq-mnist.png', 'accuracy_vs_buffer_mnist-360.png'):
        assert (results / 'plots' / png).stat().st_size > 1000
    assert results / 'comparison.md' in written


def test_two_std_flag():
    cell = {'mean': 90.0, 'std': 0.5, 'n': 3}
    assert ex.diff(cell, ('seq-mnist', 'dynamos', 500)) == '-7.19 (> 2 std)'
