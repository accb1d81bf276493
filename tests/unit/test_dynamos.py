"""The `dynamos` model: configuration, validation, warm-up, training, checkpoints."""

import re

import pytest
import torch

from conftest import build_model, parse_accuracy, run_mammoth

BASE = ['--model', 'dynamos', '--dataset', 'seq-mnist']


def test_user_command_gets_table5(mammoth_imported):
    import main
    args = main.parse_args(BASE + ['--buffer_size', '500'])
    assert args.backbone == 'gated-resnet' and args.model_config == 'best'
    assert (args.lr, args.batch_size, args.minibatch_size, args.n_epochs, args.warmup) == (0.07, 10, 10, 1, 10)
    assert (args.alpha, args.beta, args.policy_alpha, args.policy_penalty, args.reward_weight, args.prototype_loss,
            args.keep_ratio, args.temperature, args.nf) == (0.2, 2.0, 0.2, 500, 0.5, 0.3, 0.7, 0.15, 32)


def test_mnist360_rows_and_explicit_flags_win(mammoth_imported):
    import main
    args = main.parse_args(['--model', 'dynamos', '--dataset', 'mnist-360', '--buffer_size', '200', '--beta', '9'])
    assert (args.batch_size, args.minibatch_size, args.alpha, args.reward_weight) == (16, 16, 0.2, 1.0)
    assert args.beta == 9.0


def test_other_buffer_size_takes_nearest_row_and_says_so(mammoth_imported, caplog):
    import main
    with caplog.at_level('WARNING'):
        args = main.parse_args(BASE + ['--buffer_size', '1200'])
    assert (args.alpha, args.beta, args.reward_weight) == (0.1, 2.5, 0.7)  # the 1000 row
    assert 'nearest buffer size, 1000' in caplog.text


@pytest.mark.parametrize('flag, value, message', [
    ('--keep_ratio', '0', 'keep ratio must be in (0, 1]'),
    ('--keep_ratio', '1.5', 'keep ratio must be in (0, 1]'),
    ('--temperature', '0', 'must be > 0'),
    ('--alpha', '-1', 'must be >= 0'),
    ('--policy_penalty', '-500', 'negated'),
    ('--buffer_size', '0', 'positive integer'),
])
def test_invalid_hyperparameters_fail_at_parse_time(mammoth_imported, capsys, flag, value, message):
    import main
    cmd = BASE + ['--buffer_size', '500'] + ([flag, value] if flag != '--buffer_size' else [])
    if flag == '--buffer_size':
        cmd = BASE + ['--buffer_size', value]
    with pytest.raises(SystemExit) as exc:
        main.parse_args(cmd)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and flag in err


def test_backbone_without_agents_is_refused(mammoth_imported, mnist_dir):
    with pytest.raises(ValueError, match='needs a backbone with agents'):
        build_model(BASE + ['--buffer_size', '50', '--backbone', 'ungated-resnet', '--base_path', str(mnist_dir)])


def test_nan_in_action_probabilities_names_the_step(mammoth_imported, mnist_dir):
    model, dataset, args = build_model(BASE + ['--buffer_size', '50', '--warmup', '0', '--base_path', str(mnist_dir)])
    dataset.get_data_loaders()
    model.meta_begin_task(dataset)
    x = torch.full((4, 1, 28, 28), float('nan'))
    with pytest.raises(FloatingPointError, match=r'NaN in the action probabilities at task 1, iteration 0'):
        model.meta_observe(x, torch.zeros(4, dtype=torch.long), x, epoch=0)


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
    assert text.count('Dynamos task 1, steps up to') == 3 and 'Dynamos task 1: mean keep ratio' in text
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


KEEP_RE = re.compile(r'Dynamos task (\d): mean keep ratio per agent \[([\d. ]+)\] over (\d+) steps')


def test_end_to_end_agents_train_and_checkpoint_round_trip(mnist_dir, tmp_path):
    common = BASE + ['--buffer_size', '50', '--warmup', '4', '--seed', '1', '--base_path', mnist_dir]
    proc = run_mammoth(common + ['--savecheck', 'last', '--checkpoint_path', tmp_path / 'ckpt', '--ckpt_name', 'run'],
                       tmp_path)
    assert proc.returncode == 0, proc.log[-3000:]
    n_tasks, setting, accuracy = parse_accuracy(proc.log)
    assert (n_tasks, setting) == (5, 'Class-IL')
    # ten steps of ten images a task are too few to learn anything (plain SGD too): the evaluation predicts one
    # class (Class-IL 10 % with seeds 0, 1, 2, 4; 19.5 % with seed 3), so no bound above chance holds. What must hold is
    # the accuracy's structure: one evaluation after each task, each task scored on all of its test images
    # (a multiple of 1 / its count), Task-IL never below Class-IL, and the printed means are their means
    import numpy as np
    from dynamos_plugin.mammoth_glue import ACCURACY_RE, parse_log
    assert sorted({int(n) for n, *_ in ACCURACY_RE.findall(proc.log)}) == [1, 2, 3, 4, 5]
    final = parse_log(proc.log)
    per_task, per_task_til = final['per_task'], final['per_task_task_il']
    test_labels = np.fromfile(mnist_dir / 'MNIST' / 'raw' / 't10k-labels-idx1-ubyte', dtype=np.uint8, offset=8)
    counts = np.bincount(test_labels // 2, minlength=5)  # test images per task (two classes each)
    assert len(per_task) == len(per_task_til) == 5 and counts.sum() == 200
    for acc, acc_til, n in zip(per_task, per_task_til, counts):
        assert acc * n / 100 == pytest.approx(round(acc * n / 100), abs=1e-6)
        assert acc_til * n / 100 == pytest.approx(round(acc_til * n / 100), abs=1e-6)
        assert acc <= acc_til
    assert accuracy == pytest.approx(np.mean(per_task), abs=0.005)
    assert final['task_il'] == pytest.approx(np.mean(per_task_til), abs=0.005)
    tasks = {int(t): (list(map(float, keeps.split())), int(steps)) for t, keeps, steps in KEEP_RE.findall(proc.log)}
    assert sorted(tasks) == [1, 2, 3, 4, 5]
    assert tasks[1][1] == tasks[2][1] - 4  # the warm-up ended 4 steps into task 1
    assert all(len(keeps) == 4 and all(0 < k < 1 for k in keeps) for keeps, _ in tasks.values())
    # the agents learn: from ~0.5 (p = sigmoid(v / tau) near 0.5 at initialisation) towards the keep ratio 0.7
    assert sum(tasks[5][0]) / 4 > sum(tasks[1][0]) / 4 + 0.05
    for term in ('policy=', 'prototype=', 'consistency_v=', 'thresholded [', 'undecided p [', 'train accuracy '):
        assert term in proc.log

    ckpt = next((tmp_path / 'ckpt').glob('run_*_last.pt'))  # Mammoth appends model, dataset, time and id
    reloaded = run_mammoth(common + ['--loadcheck', ckpt, '--inference_only', '1'], tmp_path)
    assert reloaded.returncode == 0, reloaded.log[-3000:]
    assert parse_accuracy(reloaded.log) == (n_tasks, setting, accuracy)
    assert parse_log(reloaded.log) == final  # every task's Class-IL and Task-IL accuracy, too
