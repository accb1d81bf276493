"""agent_trace (dynamos_plugin/diagnostics/agent_trace.py): the plot, the numbers and the table it writes from a
dynamos log, its refusals, and the log's path stored relative to the repository root."""

import json

import pytest

from conftest import TRACE_LOG as LOG
from dynamos_plugin.glue import paths
from dynamos_plugin.diagnostics import agent_trace


def test_main_writes_the_plot_and_the_numbers(tmp_path, capsys):
    log = tmp_path / 'run.log'
    log.write_text(LOG)
    assert agent_trace.main([str(log), '--out', str(tmp_path / 'out'), '--name', 'trace']) == 0
    png, numbers = tmp_path / 'out' / 'trace.png', json.loads((tmp_path / 'out' / 'trace.json').read_text())
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and png.stat().st_size > 10_000
    assert numbers['labels'] == ['run\nfinal 77.50 %']
    (trace,) = numbers['traces']
    assert trace['accuracy'] == 77.5 and [w['last_step'] for w in trace['windows']] == [260, 300]
    # the task line, agents averaged: kept (0.612 + 0.655 + 0.699 + 0.744) / 4 = 0.6775 (0.67749... in binary),
    # thresholded (0.786 + 0.829 + 0.873 + 0.916) / 4 = 0.851, undecided (0.445 + 0.359 + 0.272 + 0.186) / 4 = 0.3155
    # (0.31550...); training accuracy 0.8250 -> 82.5 %
    table = (tmp_path / 'out' / 'trace.md').read_text().splitlines()
    assert table[2] == '| run, final 77.50 % | 77.50 | 1 | 290 | 82.5 | 0.677 | 0.851 | 0.316 |'
    assert len(table) == 3

    assert agent_trace.main([str(log), str(log), '--out', str(tmp_path / 'np'), '--no-plot', '--labels', 'a', 'b']) == 0
    assert sorted(p.name for p in (tmp_path / 'np').iterdir()) == ['agent_trace.json', 'agent_trace.md']
    assert [row.split(' | ')[0] for row in (tmp_path / 'np' / 'agent_trace.md').read_text().splitlines()[2:]] == ['| a', '| b']


def test_main_refuses_a_log_without_statistics_and_mismatched_labels(tmp_path, capsys):
    log = tmp_path / 'er.log'
    log.write_text('Accuracy for 1 task(s): \t [Domain-IL]: 77.50 %\n')
    assert agent_trace.main([str(log), '--out', str(tmp_path)]) == 1
    assert 'no Dynamos statistics lines in' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        agent_trace.main([str(log), '--out', str(tmp_path), '--labels', 'a', 'b'])
    assert '2 labels for 1 logs' in capsys.readouterr().err


def test_agent_trace_stores_the_log_relative_to_the_repository(tmp_path, monkeypatch):
    """The repository root moved to ``tmp_path`` (no file is written into the real repository)."""
    log = tmp_path / 'results' / 'run.log'
    log.parent.mkdir()
    log.write_text('Dynamos task 1: mean keep ratio per agent [0.600 0.650 0.700 0.750] over 10 steps; '
                   'thresholded [0.800 0.850 0.900 0.950]; undecided p [0.500 0.400 0.300 0.200]; '
                   'train accuracy 0.8125; mean losses: ce=0.5000 total=-1.5000; buffer 10/50\n')
    monkeypatch.setattr(paths, 'REPO', tmp_path)
    assert agent_trace.main([str(log), '--out', str(tmp_path / 'out'), '--no-plot']) == 0
    (trace,) = json.loads((tmp_path / 'out' / 'agent_trace.json').read_text())['traces']
    assert trace['log'] == 'results/run.log'


def test_a_run_without_windows_is_plotted_per_task_with_a_tick_per_task(tmp_path, capsys, monkeypatch):
    """A log without `--stats_every` (issue 27): one point per task, ticks at the tasks 1, 2, 3 only (not 1.5), and
    the tool says so instead of "(0 windows)"."""
    import matplotlib.pyplot as plt
    from dynamos_plugin.stats import stat_names, stats_line
    names = stat_names(2)
    log = tmp_path / 'tasks.log'
    log.write_text(''.join(stats_line({**{n: 0.5 for n in names}, 'steps': 10}, 2, 5, 50, task) + '\n'
                           for task in (1, 2, 3)))
    figures = []
    monkeypatch.setattr(plt, 'close', figures.append)  # keep the figure to read its ticks
    assert agent_trace.main([str(log), '--out', str(tmp_path / 'out')]) == 0
    assert '(3 tasks (no --stats_every windows: one point per task))' in capsys.readouterr().out
    for ax in figures[0].axes:
        assert list(ax.get_xticks()) == [1, 2, 3]
