"""The grids, the methods' settings and the exact Mammoth command of every run; the command line's selection and
its dry run (in-process: a dry run starts nothing)."""

import ast

from dynamos_plugin.experiments import __main__ as cli, grid, published as pub
from dynamos_plugin.glue.paths import REPO


def test_grid_sizes():
    # dynamos, msa, static, er, der, derpp x 3 buffers x 5 seeds + sgd x 5
    assert len(grid.grid(('2',))) == 6 * 3 * 5 + 5
    # dynamos, msa, static x 3 buffers x 5 seeds; sgd x 5; er/der/derpp x 3 buffers x 3 seeds
    assert len(grid.grid(('1',))) == 3 * 3 * 5 + 5 + 3 * 3 * 3
    assert len(grid.grid(('svhn',))) == 39
    assert len(grid.grid()) == 95 + 77  # the default: Tables 2 and 1
    assert {r.buffer for r in grid.grid(('1',), methods=['dynamos'])} == {100, 200, 500}
    assert {r.seed for r in grid.grid(('1',), methods=['msa'])} == {0, 1, 2, 3, 4}
    assert {r.seed for r in grid.grid(('1',), methods=['er'])} == {0, 1, 2}
    assert [(r.buffer, r.seed) for r in grid.grid(('1',), methods=['sgd'])] == [(None, s) for s in range(5)]
    assert grid.grid(('2',), methods=['dynamos'], buffers=[500], seeds=[1]) == [grid.Run('2', 'seq-mnist', 'dynamos', 500, 1)]
    assert grid.grid(('2',), methods=['sgd'], buffers=[500]) == []  # SGD has no buffer
    assert grid.grid(('2', '1'), datasets=['mnist-360']) == grid.grid(('1',))
    # the study's variants are no table's method: only when named, with Dynamos' seeds of the table
    assert not any(r.method == 'dynamos-variants' for r in grid.grid(('2', '1', 'svhn')))
    assert grid.grid(('1',), methods=['dynamos-variants'], buffers=[500]) == [
        grid.Run('1', 'mnist-360', 'dynamos-variants', 500, s) for s in range(5)]
    assert grid.Run('1', 'mnist-360', 'dynamos-variants', 500, 0).mammoth_args('d')[:6] == [
        '--model', 'dynamos-variants', '--dataset', 'mnist-360', '--buffer_size', '500']


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
    # the static-sparsity control: msa (Eq. 8, Table 5's settings) on the gated backbone with fixed masks
    assert grid.Run('1', 'mnist-360', 'static', 500, 0).mammoth_args('/data') == [
        '--model', 'msa', '--dataset', 'mnist-360', '--buffer_size', '500', '--backbone', 'gated-resnet',
        '--gate', 'static', '--seed', '0', '--base_path', '/data']
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


def test_recorded_command_is_relative_to_the_repository():
    settings = grid.Settings(base_path='data', data_dir='/abs/data', runs_dir=REPO / 'runs',
                             results_dir=REPO / 'runs' / 'results',
                             mammoth_cmd=[str(REPO / '.venv' / 'bin' / 'python'), str(REPO / 'mammoth' / 'main.py')])
    run = grid.Run('2', 'seq-mnist', 'dynamos', 500, 0)
    assert settings.recorded_command(run) == [
        '.venv/bin/python', 'mammoth/main.py', '--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '500',
        '--seed', '0', '--base_path', 'data',
        '--results_path', 'runs/table2/seq-mnist/dynamos/buf500/seed0/mammoth', '--non_verbose', '1']
    executed = settings.command(run)  # what the process gets: absolute (Mammoth changes directory)
    assert executed[:2] == settings.mammoth_cmd and executed[executed.index('--base_path') + 1] == '/abs/data'
    assert executed[executed.index('--results_path') + 1] == str(REPO / 'runs' / 'table2' / 'seq-mnist' / 'dynamos'
                                                                 / 'buf500' / 'seed0' / 'mammoth')
    assert settings.record_path(run) == REPO / 'runs' / 'results' / 'records' / 'seq-mnist__dynamos__buf500__seed0.json'


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


def test_seeds_first_fills_every_cell_before_adding_seeds(tmp_path, capsys):
    args = ['--dry-run', '--table', '2', '--method', 'dynamos', '--method', 'sgd', '--seed', '0', '--seed', '1',
            '--results-dir', str(tmp_path), '--python', 'mammoth']
    assert cli.main(args) == 0
    cell_order = [(line.split('--model ')[1].split()[0], line.split('--seed ')[1].split()[0])
                  for line in capsys.readouterr().out.splitlines() if line.startswith('[todo]')]
    assert cell_order == [('dynamos', '0'), ('dynamos', '1')] * 3 + [('sgd', '0'), ('sgd', '1')]
    assert cli.main(args + ['--seeds-first']) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith('[todo]')]
    assert [(line.split('--model ')[1].split()[0], line.split('--buffer_size ')[1].split()[0] if '--buffer_size' in line
             else '-', line.split('--seed ')[1].split()[0]) for line in lines] == [
        ('dynamos', '500', '0'), ('dynamos', '1000', '0'), ('dynamos', '2000', '0'), ('sgd', '-', '0'),
        ('dynamos', '500', '1'), ('dynamos', '1000', '1'), ('dynamos', '2000', '1'), ('sgd', '-', '1')]


def test_a_dry_run_names_the_users_records_folder(tmp_path, capsys):
    """Runs go to the user's own folder, <runs-dir>/results (runs/results by default), never to the committed
    results/: a fresh clone's committed records do not make its grid done."""
    base = ['--dry-run', '--table', '2', '--method', 'er', '--seed', '0', '--buffer', '500', '--python', 'mammoth']
    assert cli.main(base) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(('[todo] mammoth --model er ', '[done] '))  # done: a record in this clone's runs/results
    assert out[-1] == ('records: runs/results/records/ (a run with a record there is done); their report: '
                       './run_experiments.sh --report --results-dir runs/results')
    assert cli.main(base + ['--runs-dir', str(tmp_path / 'my runs')]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith('[todo] ') and out[1] == '1 runs, 0 done, 1 to run (dry run: nothing was run)'
    assert out[-1].startswith(f'records: {tmp_path}/my runs/results/records/ ') and out[-1].endswith(
        f"--report --results-dir '{tmp_path}/my runs/results'")
    assert cli.main(base + ['--results-dir', str(REPO / 'results')]) == 0  # the committed reference, explicitly
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith('[done] ') and out[-1].startswith('records: results/records/ ')
    assert not (tmp_path / 'my runs').exists()
