"""The agents' statistics (dynamos_plugin/stats.py): per step by hand, per window and per task as `observe` keeps
and logs them, `--stats_every`, and `parse_trace` reading them back from a log, of today's format and the older one."""

import pytest
import torch

from conftest import DYNAMOS_SEQ_MNIST as BASE
from conftest import TRACE_LOG as LOG
from conftest import build_model
from dynamos_plugin.stats import parse_trace


def test_agent_statistics_by_hand(mammoth_imported):
    from dynamos_plugin.agent import AgentOutput
    from dynamos_plugin.stats import agent_statistics
    # p = sigmoid(logits) = 0.5, 0.881, 0.119, 0.993; sampled actions keep channels 1 and 4
    first = AgentOutput(torch.zeros(1, 4), torch.tensor([[0.0, 2.0, -2.0, 5.0]]), torch.tensor([[1.0, 0.0, 0.0, 1.0]]))
    # p = 0.269, 0.731 (both undecided); all kept; thresholding keeps one
    second = AgentOutput(torch.zeros(1, 2), torch.tensor([[-1.0, 1.0]]), torch.tensor([[1.0, 1.0]]))
    kept1, kept2, thr1, thr2, und1, und2 = agent_statistics([first, second]).tolist()
    assert (kept1, kept2) == (0.5, 1.0)
    assert (thr1, thr2) == (0.75, 0.5)
    assert (und1, und2) == (0.25, 1.0)
    assert agent_statistics([first, second], threshold=0.9).tolist()[2:4] == [0.25, 0.0]  # --inf_thresh 0.9


def test_statistics_per_window_and_per_task(mammoth_imported, mnist_dir, caplog):
    model, dataset, args = build_model(BASE + ['--buffer_size', '50', '--warmup', '2', '--stats_every', '3',
                                               '--seed', '0', '--base_path', str(mnist_dir)])
    train_loader, _ = dataset.get_data_loaders()
    model.meta_begin_task(dataset)
    model.net.train()
    batches = iter(train_loader)
    # record each step's forward passes with agents: the first is the stream batch's, the one the statistics describe
    passes = []
    hook = model.net.register_forward_hook(
        lambda net, args, kwargs, out: passes.append(out) if kwargs.get('returnt') == 'agents' else None,
        with_kwargs=True)
    by_hand = []  # per step after the warm-up: the statistics recomputed from the recorded stream pass
    with caplog.at_level('INFO'):
        for _ in range(2 + 7):  # 2 warm-up steps (not counted), then windows of 3, 3 and 1 steps
            x, y, x0 = next(batches)[:3]
            passes.clear()
            model.meta_observe(x, y, x0, epoch=0)
            if passes:
                logits, decisions = passes[0]
                step = {'ce': torch.nn.functional.cross_entropy(logits, y).item(),
                        'train_accuracy': (logits.argmax(1) == y).float().mean().item()}
                for i, d in enumerate(decisions, 1):
                    p = torch.sigmoid(d.logits.detach())
                    step[f'keep_agent{i}'] = d.actions.mean().item()
                    step[f'keep_thresholded_agent{i}'] = (p >= 0.5).float().mean().item()
                    step[f'undecided_agent{i}'] = ((p > 0.2) & (p < 0.8)).float().mean().item()
                by_hand.append(step)
        assert [(w['last_step'], w['steps']) for w in model.window_stats] == [(5, 3), (8, 3)]
        model.meta_end_task(dataset)
    hook.remove()
    assert len(by_hand) == 7 and len(by_hand[0]) == 2 + 3 * 4  # no agents in the warm-up
    text = caplog.text
    windows = model.window_stats
    assert [(w['task'], w['last_step'], w['steps']) for w in windows] == [(1, 5, 3), (1, 8, 3), (1, 9, 1)]
    (task,) = model.task_stats
    assert task['steps'] == 7
    # against the recorded forward passes: each window's and the task's means of the steps' statistics by hand
    for kept, steps in zip(windows + [task], (by_hand[0:3], by_hand[3:6], by_hand[6:7], by_hand)):
        for name in by_hand[0]:
            assert kept[name] == pytest.approx(sum(s[name] for s in steps) / len(steps), abs=1e-6), name
    for name in model.stat_names:  # the task's mean is the step-weighted mean of its windows
        assert task[name] == pytest.approx(sum(w[name] * w['steps'] for w in windows) / 7, abs=1e-6)
    assert len(model.stat_names) == 9 + 1 + 3 * 4
    assert text.count('dynamos-log {"kind": "stats", "task": 1, "last_step"') == 3
    assert text.count('dynamos-log {"kind": "stats", "task": 1, "steps": 7') == 1
    # what agent_trace reads back from the log is what the model kept (to the logged precision)
    from dynamos_plugin.stats import parse_trace
    trace = parse_trace(text)
    assert [(w['task'], w['last_step'], w['steps']) for w in trace['windows']] == [(1, 5, 3), (1, 8, 3), (1, 9, 1)]
    for logged, kept in zip(trace['windows'] + trace['tasks'], windows + [task]):
        assert logged['keep_thresholded'] == pytest.approx([kept[f'keep_thresholded_agent{i}'] for i in range(1, 5)],
                                                           abs=5e-4)
        assert logged['train_accuracy'] == pytest.approx(kept['train_accuracy'], abs=5e-5)
        assert logged['losses']['total'] == pytest.approx(kept['total'], abs=5e-5)


def test_stats_every_must_not_be_negative(mammoth_imported, capsys):
    import main
    with pytest.raises(SystemExit):
        main.parse_args(BASE + ['--buffer_size', '500', '--stats_every', '-1'])
    assert '--stats_every' in capsys.readouterr().err


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
