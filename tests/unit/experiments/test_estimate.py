"""The dry run's time estimate (issue 27): the committed wall times of each run's cell, summed."""

import os

from dynamos_plugin.experiments import __main__ as cli
from dynamos_plugin.experiments.estimate import cell_wall_times, estimate, estimate_line
from dynamos_plugin.experiments.grid import Run


def record(method, buffer, wall_s, status='ok'):
    return {'dataset': 'seq-mnist', 'method': method, 'buffer': buffer, 'wall_s': wall_s, 'status': status}


RECORDS = [record('dynamos', 500, 3600.0), record('dynamos', 500, 7200.0), record('sgd', None, 3600.0),
           record('dynamos', 500, 99999.0, status='failed')]


def test_cell_means_of_finished_records():
    assert cell_wall_times(RECORDS) == {('seq-mnist', 'dynamos', 500): 5400.0, ('seq-mnist', 'sgd', 0): 3600.0}


def test_estimate_sums_the_cells_and_counts_runs_without_a_time():
    runs = [Run('2', 'seq-mnist', 'dynamos', 500, 0), Run('2', 'seq-mnist', 'dynamos', 500, 1),
            Run('2', 'seq-mnist', 'sgd', None, 0), Run('2', 'seq-mnist', 'er', 500, 0)]
    times = cell_wall_times(RECORDS)
    assert estimate(runs, times) == (5400.0 * 2 + 3600.0, 1)  # 14400 s = 4.0 h; ER has no committed time
    line = estimate_line(runs, times, jobs=2)
    assert line.startswith('estimated: 4.0 h of run time for 3 of the 4 runs to do')
    assert 'about 2.0 h from start to end with -j 2' in line
    assert line.endswith('; 1 run(s) in cells with no committed wall time are not counted')


def test_the_dry_run_prints_the_estimate(capsys, tmp_path):
    assert cli.main(['--table', '2', '--method', 'dynamos', '--buffer', '500', '--dry-run', '-j', '2',
                     '--runs-dir', str(tmp_path / 'runs'), '--base_path', 'my/data']) == 0
    out = capsys.readouterr().out
    runs = [Run('2', 'seq-mnist', 'dynamos', 500, seed) for seed in range(5)]
    expected = estimate_line(runs, cell_wall_times(cli.load_records(cli.REFERENCE)), jobs=2)
    assert expected in out.splitlines()
    assert f'--base_path {os.path.abspath("my/data")} ' in out  # the runner's --base_path, as Mammoth's
