"""agent_trace: reading the agents' statistics back from a dynamos log, and plotting them."""

import json

import pytest

from dynamos_plugin.diagnostics import agent_trace
from dynamos_plugin.stats import parse_trace

LOG = """\
[INFO] 25-Nov-26 01:00:00 - Dynamos task 1, steps up to 260: mean keep ratio per agent [0.600 0.650 0.700 0.750] \
over 250 steps; thresholded [0.800 0.850 0.900 0.950]; undecided p [0.500 0.400 0.300 0.200]; train accuracy 0.8125; \
mean losses: ce=0.5000 policy=-3.0000 prototype=0.3000 buf_ce=0.4000 buf_policy=-2.0000 buf_prototype=0.1000 \
consistency_z=2.0000 consistency_v=0.0800 total=-1.5000; buffer 100/500
[INFO] 25-Nov-26 01:01:00 - Dynamos task 1, steps up to 300: mean keep ratio per agent [0.690 0.690 0.690 0.690] \
over 40 steps; thresholded [0.700 0.700 0.700 0.700]; undecided p [0.100 0.100 0.100 0.100]; train accuracy 0.9000; \
mean losses: ce=0.2000 policy=-1.0000 prototype=0.2000 buf_ce=0.3000 buf_policy=-1.0000 buf_prototype=0.1000 \
consistency_z=1.0000 consistency_v=0.0500 total=-0.5000; buffer 150/500
[INFO] 25-Nov-26 01:01:00 - Dynamos task 1: mean keep ratio per agent [0.612 0.655 0.699 0.744] over 290 steps; \
thresholded [0.786 0.829 0.873 0.916]; undecided p [0.445 0.359 0.272 0.186]; train accuracy 0.8250; \
mean losses: ce=0.4586 policy=-2.7241 prototype=0.2862 buf_ce=0.3862 buf_policy=-1.8621 buf_prototype=0.1000 \
consistency_z=1.8621 consistency_v=0.0759 total=-1.3621; buffer 150/500
Accuracy for 1 task(s): \t [Domain-IL]: 77.50 %
"""


def test_parse_trace_reads_windows_and_tasks():
    trace = parse_trace(LOG)
    first, second = trace['windows']
    assert (first['task'], first['last_step'], first['steps'], second['last_step'], second['steps']) == (1, 260, 250, 300, 40)
    assert first['keep'] == [0.6, 0.65, 0.7, 0.75] and first['keep_thresholded'] == [0.8, 0.85, 0.9, 0.95]
    assert first['undecided'] == [0.5, 0.4, 0.3, 0.2] and first['train_accuracy'] == 0.8125
    assert first['losses']['policy'] == -3.0 and first['losses']['consistency_v'] == 0.08 and first['buffer'] == 100
    (task,) = trace['tasks']
    assert (task['task'], task['steps'], task['buffer'], task['undecided'][3]) == (1, 290, 150, 0.186)
    assert 'last_step' not in task


def test_a_line_of_an_older_log_without_the_agent_statistics_is_not_read():
    old = ('Dynamos task 1: mean keep ratio per agent [0.691 0.688 0.683 0.670] over 3377 steps; '
           'mean losses: ce=0.3999 total=-2.0444; buffer 100/100')
    assert parse_trace(old) == {'windows': [], 'tasks': []}


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
