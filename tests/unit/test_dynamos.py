"""The `dynamos` model (dynamos_plugin/dynamos.py) in-process: its configuration (Table 5) and validation, and how
`observe` wires the paper's pieces together, against hand-computed values.

The pure losses are pinned in test_losses.py; the wiring tests pin what a one-line slip would change: the
weights of Eq. 7, which samples the reward's lambda and the prototype loss see, that the warm-up never calls
an agent, and what the buffer stores.
"""

import copy
import inspect
import logging
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from conftest import DYNAMOS_SEQ_MNIST as BASE, record_outputs
from conftest import build_model, constants, fill_buffer, stream_batch, task_batches


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


def test_every_plugin_model_keeps_get_parser_static_like_mammoths_base(mammoth_imported):
    """Mammoth declares ``ContinualModel.get_parser`` a staticmethod; a subclass that drops the decorator still
    works when Mammoth calls it on the class, but breaks a user who calls it on a model instance."""
    import argparse
    from models import get_model_class
    for name in ('dynamos', 'dynamos-variants', 'msa'):
        cls = get_model_class(argparse.Namespace(model=name))
        assert isinstance(inspect.getattr_static(cls, 'get_parser'), staticmethod), name
        instance = cls.__new__(cls)  # no network needed: the parser is the class's
        assert '--buffer_size' in instance.get_parser(argparse.ArgumentParser()).format_help()


def test_nan_in_action_probabilities_names_the_step(mammoth_imported, mnist_dir):
    model, dataset, args = build_model(BASE + ['--buffer_size', '50', '--warmup', '0', '--base_path', str(mnist_dir)])
    dataset.get_data_loaders()
    model.meta_begin_task(dataset)
    x = torch.full((4, 1, 28, 28), float('nan'))
    with pytest.raises(FloatingPointError, match=r'NaN in the action probabilities at task 1, iteration 0'):
        model.meta_observe(x, torch.zeros(4, dtype=torch.long), x, epoch=0)


# ---- Eq. 7 as observe assembles it -------------------------------------------------------------

def test_observe_assembles_eq7_with_every_weight_in_its_place(mammoth_imported, mnist_dir, monkeypatch):
    import dynamos_plugin.dynamos as dynamos
    gamma, beta, alpha, alpha_p, w_p = 0.3, 2.0, 0.7, 0.11, 0.013
    model, dataset, _ = build_model(['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '50',
                                     '--warmup', '0', '--seed', '0', '--base_path', mnist_dir,
                                     '--reward_weight', gamma, '--beta', beta, '--alpha', alpha,
                                     '--policy_alpha', alpha_p, '--prototype_loss', w_p])
    x, y, x0 = stream_batch(dataset)
    model.meta_begin_task(dataset)
    model.net.train()
    fill_buffer(model, n_attention=4 * 64)
    # each term a distinct constant; the stream's call comes first, then the buffer's
    ce, pol, proto = constants(1.0, 3.0), constants(5.0, 7.0), constants(11.0, 13.0)
    cons = constants(17.0, 19.0)  # logits (Z), then attention vectors (V)
    monkeypatch.setattr(model, 'loss', ce)
    monkeypatch.setattr(dynamos, 'policy_loss', pol)
    monkeypatch.setattr(dynamos, 'prototype_loss', proto)
    monkeypatch.setattr(dynamos, 'consistency_loss', cons)

    total = model.meta_observe(x, y, x0, epoch=0)

    # L = CE(B) + gamma L_R(B) + beta [CE(M) + gamma L_R(M)] + alpha MSE(Z) + alpha_P MSE(V) + w_P [L_P(B) + L_P(M)]
    expected = 1.0 + gamma * 5.0 + beta * (3.0 + gamma * 7.0) + alpha * 17.0 + alpha_p * 19.0 + w_p * (11.0 + 13.0)
    assert total == pytest.approx(expected, rel=1e-6)
    assert (len(ce.calls), len(pol.calls), len(proto.calls), len(cons.calls)) == (2, 2, 2, 2)
    # the consistency terms compare the buffer batch's current logits / attention with the stored ones
    (z_now, z_stored), (v_now, v_stored) = cons.calls
    assert z_now.shape == z_stored.shape == (10, 10) and v_now.shape == v_stored.shape == (10, 256)
    stored = {tuple(row.tolist()) for row in model.buffer.logits}
    assert all(tuple(row.tolist()) in stored for row in z_stored)
    # the per-task statistics keep each term under its own name
    model.meta_end_task(dataset)
    (stats,) = model.task_stats
    assert [stats[k] for k in ('ce', 'policy', 'prototype', 'buf_ce', 'buf_policy', 'buf_prototype',
                               'consistency_z', 'consistency_v')] == [1.0, 5.0, 11.0, 3.0, 7.0, 13.0, 17.0, 19.0]
    assert stats['total'] == pytest.approx(expected, rel=1e-6)


def test_observe_without_a_buffer_is_the_stream_terms_alone(mammoth_imported, mnist_dir, monkeypatch):
    import dynamos_plugin.dynamos as dynamos
    model, dataset, _ = build_model(['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '50',
                                     '--warmup', '0', '--seed', '0', '--base_path', mnist_dir,
                                     '--reward_weight', 0.3, '--prototype_loss', 0.013])
    x, y, x0 = stream_batch(dataset)
    model.meta_begin_task(dataset)
    model.net.train()
    monkeypatch.setattr(model, 'loss', constants(1.0))
    monkeypatch.setattr(dynamos, 'policy_loss', constants(5.0))
    monkeypatch.setattr(dynamos, 'prototype_loss', constants(11.0))
    monkeypatch.setattr(dynamos, 'consistency_loss', constants())  # never called
    assert model.meta_observe(x, y, x0, epoch=0) == pytest.approx(1.0 + 0.3 * 5.0 + 0.013 * 11.0, rel=1e-6)


# ---- the per-batch terms: lambda on the wrong samples, the prototype loss on the right ones -----

def test_batch_terms_by_hand(mammoth_imported):
    from dynamos_plugin.agent import AgentOutput
    from dynamos_plugin.dynamos import Dynamos
    kr, lam = 0.5, 10.0
    model = SimpleNamespace(args=SimpleNamespace(keep_ratio=kr, policy_penalty=lam), loss=F.cross_entropy)
    model.gate_loss = lambda decisions, correct: Dynamos.gate_loss(model, decisions, correct)
    labels = torch.tensor([0, 0, 1, 1])
    logits = torch.tensor([[2.0, 0.0], [1.0, 0.0], [0.0, 3.0], [4.0, 0.0]])  # the last one is wrong
    # two agents of two channels; attention vectors chosen so that the distances are easy to add up
    a1 = torch.tensor([[1.0, 1.0], [1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])  # keeps 1, 1/2, 0, 1
    a2 = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])  # keeps 1/2, 0, 1, 1/2
    z1 = torch.tensor([[0.0, 1.0], [-1.0, 2.0], [0.5, 0.0], [3.0, -3.0]])  # probability-layer logits
    z2 = torch.tensor([[1.0, -1.0], [0.0, 0.0], [2.0, 1.0], [-2.0, 0.5]])
    v = torch.tensor([[0.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0], [0.0, 2.0, 2.0, 0.0], [10.0, 10.0, 10.0, 10.0]])
    decisions = [AgentOutput(v[:, :2], z1, a1), AgentOutput(v[:, 2:], z2, a2)]

    ce, policy, prototype, attention, correct, kept = Dynamos.batch_terms(model, logits, labels, decisions)

    assert correct.tolist() == [True, True, True, False]
    assert torch.equal(attention, v) and kept is decisions
    log_softmax = [[x - math.log(sum(math.exp(u) for u in row)) for x in row] for row in logits.tolist()]
    assert ce.item() == pytest.approx(-sum(log_softmax[i][y] for i, y in enumerate(labels.tolist())) / 4)
    # Eq. 3: -(kr - m)^2 for the right samples, -lambda (kr - m)^2 for the wrong one (the last)
    means = [[1.0, 0.5], [0.5, 0.0], [0.0, 1.0], [1.0, 0.5]]
    scale = [1.0, 1.0, 1.0, lam]
    rewards = [[-scale[i] * (kr - m) ** 2 for m in row] for i, row in enumerate(means)]
    assert rewards[3] == [-2.5, 0.0]

    def log_pi(z, a):  # Eq. 1: sum_i log(p_i^a_i (1 - p_i)^(1 - a_i)), p = sigmoid(z)
        p = [1 / (1 + math.exp(-u)) for u in z]
        return sum(math.log(q if act else 1 - q) for q, act in zip(p, a))
    log_probs = [[log_pi(z1[i].tolist(), a1[i].tolist()), log_pi(z2[i].tolist(), a2[i].tolist())] for i in range(4)]
    # Eq. 4: the mean over samples and agents of -R log pi
    expected_policy = -sum(rewards[i][l] * log_probs[i][l] for i in range(4) for l in range(2)) / 8
    assert policy.item() == pytest.approx(expected_policy, rel=1e-5)
    # Eq. 5 over the correct samples 0, 1, 2 only: same class (0, 1): d = 4/4 = 1;
    # different classes (0, 2): 8/4 = 2, (1, 2): 12/4 = 3; sample 3 (wrong, far away) is left out
    assert prototype.item() == pytest.approx((1 + 1) / (1 + 2 + 3))


# ---- the warm-up: ungated, agents untouched, only at the start of task 1 --------------------------

class AgentCalls:
    """Counts the calls of every agent of a network (forward hooks)."""

    def __init__(self, net):
        self.count = 0
        for agent in net.agents:
            agent.register_forward_hook(self._hook)

    def _hook(self, module, inputs, output):
        self.count += 1


def agent_bn_state(model):
    return [t.clone() for a in model.net.agents for t in (a.bn.running_mean, a.bn.running_var, a.bn.num_batches_tracked)]


def warmup_step_is_ungated(model, x, y, x0, epoch):
    """One step that must be a warm-up step: no agent call, the agents' BatchNorm untouched, the output that
    of the network without agents, no buffer write."""
    calls, bn_before = AgentCalls(model.net), agent_bn_state(model)
    before = copy.deepcopy(model.net)
    outputs = record_outputs(model)
    model.meta_observe(x, y, x0, epoch=epoch)
    del model.net.forward
    assert calls.count == 0
    assert all(torch.equal(a, b) for a, b in zip(bn_before, agent_bn_state(model)))
    (out,) = outputs
    assert torch.allclose(out, before(x, use_agents=False), atol=1e-5)
    assert model.buffer.num_seen_examples == 0


def test_warmup_in_iterations_calls_no_agent_and_only_in_task_1(mammoth_imported, mnist_dir):
    model, dataset, _ = build_model(['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '50',
                                     '--warmup', '2', '--seed', '0', '--base_path', mnist_dir])
    assert model.warmup_unit == 'iterations'
    batches = task_batches(model, dataset)
    for _ in range(2):
        warmup_step_is_ungated(model, *next(batches), epoch=0)
    calls = AgentCalls(model.net)
    x, y, x0 = next(batches)
    model.meta_observe(x, y, x0, epoch=0)  # the third step: the agents act, the buffer counts the batch
    assert calls.count == 4 and model.buffer.num_seen_examples == len(y)
    model.meta_end_task(dataset)
    train_loader, _ = dataset.get_data_loaders()
    model.meta_begin_task(dataset)
    x, y, x0 = next(iter(train_loader))[:3]
    replay = 0 if model.buffer.is_empty() else 4
    model.meta_observe(x, y, x0, epoch=0)  # task 2 starts gated (the stream pass, then the replay pass)
    assert calls.count == 8 + replay


def test_warmup_in_epochs_calls_no_agent_and_only_in_task_1(mammoth_imported, mnist_dir):
    model, dataset, _ = build_model(['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '50',
                                     '--n_epochs', '3', '--warmup', '2', '--seed', '0', '--base_path', mnist_dir])
    assert model.warmup_unit == 'epochs'
    batches = task_batches(model, dataset)
    for epoch in (0, 0, 1):  # two steps of epoch 0 and one of epoch 1: all warm-up
        warmup_step_is_ungated(model, *next(batches), epoch=epoch)
    calls = AgentCalls(model.net)
    x, y, x0 = next(batches)
    model.meta_observe(x, y, x0, epoch=2)
    assert calls.count == 4
    model.meta_end_task(dataset)
    train_loader, _ = dataset.get_data_loaders()
    model.meta_begin_task(dataset)
    x, y, x0 = next(iter(train_loader))[:3]
    replay = 0 if model.buffer.is_empty() else 4
    model.meta_observe(x, y, x0, epoch=0)  # epoch 0 of task 2 is not a warm-up epoch
    assert calls.count == 8 + replay


# ---- what one observe writes into the buffer ------------------------------------------------------

def test_observe_writes_raw_inputs_labels_and_that_pass_logits_and_attention_of_correct_samples(
        mammoth_imported, mnist_dir):
    model, dataset, _ = build_model(['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '50',
                                     '--warmup', '0', '--seed', '0', '--base_path', mnist_dir])
    x_raw, _, _ = stream_batch(dataset)
    x_raw = x_raw[:8]
    x_aug = x_raw.flip(-1) + 0.1  # a non-identity augmentation: what the network sees differs from the raw input
    model.meta_begin_task(dataset)
    model.net.train()
    # a dry run with the same random state gives the predictions; label half of the samples right, half wrong
    torch.manual_seed(7)
    dry, _ = copy.deepcopy(model.net)(x_aug, returnt='agents')
    predicted = dry.argmax(dim=1)
    wrong = torch.arange(8) % 2 == 1
    labels = torch.where(wrong, (predicted + 1) % 10, predicted)
    outputs = record_outputs(model)
    torch.manual_seed(7)
    model.meta_observe(x_aug, labels, x_raw, epoch=0)
    (logits, decisions), = outputs
    assert torch.equal(logits.argmax(dim=1) == labels, ~wrong)  # the dry run predicted this very pass

    buf = model.buffer
    assert buf.num_seen_examples == 8
    # the buffer is not full: sample i drew slot i; only the correct ones (even i) were written
    assert buf.written_slots().tolist() == [0, 2, 4, 6]
    assert buf.labels[:8].tolist() == [labels[0], -1, labels[2], -1, labels[4], -1, labels[6], -1]
    assert torch.equal(buf.examples[[0, 2, 4, 6]], x_raw[[0, 2, 4, 6]])  # the raw inputs, not the augmented ones
    assert torch.equal(buf.logits[[0, 2, 4, 6]], logits.detach()[[0, 2, 4, 6]])
    attention = torch.cat([d.attention for d in decisions], dim=1).detach()
    assert torch.equal(buf.attentions[[0, 2, 4, 6]], attention[[0, 2, 4, 6]])
    assert not buf.logits.requires_grad and not buf.attentions.requires_grad


# ---- the warm-up's length, the statistics' windows, the flags (each kills a surviving mutant) -------------

def dynamos(mnist_dir, *flags):
    return build_model(BASE + ['--buffer_size', '50', '--seed', '0', '--base_path', str(mnist_dir), *flags])


def test_debug_mode_halves_a_warmup_that_would_fill_its_short_task(mammoth_imported, mnist_dir):
    n = dynamos(mnist_dir)[0].get_debug_iters()  # 5 steps a task in Mammoth's debug mode
    lengths = {flags: dynamos(mnist_dir, *flags)[0].warmup_length for flags in [
        ('--debug_mode', '1', '--warmup', '10'), ('--debug_mode', '1', '--warmup', str(n)),
        ('--debug_mode', '1', '--warmup', str(n - 1)), ('--debug_mode', '1', '--warmup', '10', '--n_epochs', '2'),
        ('--warmup', '10')]}
    assert list(lengths.values()) == [n // 2, n // 2, n - 1, 10, 10]


def test_warmup_ends_after_its_length_in_either_unit(mammoth_imported, mnist_dir):
    model = dynamos(mnist_dir, '--warmup', '1')[0]
    model._task_iteration = 0
    assert model.in_warmup(0)  # a warm-up of one iteration is one step long
    model._task_iteration = 1
    assert not model.in_warmup(0)
    model = dynamos(mnist_dir, '--warmup', '2', '--n_epochs', '4')[0]
    assert [model.in_warmup(epoch) for epoch in (None, 0, 1, 2, 3)] == [True, True, True, False, False]
    model = dynamos(mnist_dir, '--warmup', '1', '--n_epochs', '4')[0]
    assert [model.in_warmup(epoch) for epoch in (None, 0, 1)] == [True, True, False]
    assert dynamos(mnist_dir)[0].args.stats_every == 0  # per task only, unless asked


def test_window_and_task_statistics_name_their_task_and_skip_empty_windows(mammoth_imported, mnist_dir, caplog):
    model, dataset, _ = dynamos(mnist_dir, '--warmup', '0')
    x, y, x0 = stream_batch(dataset)
    model.meta_begin_task(dataset)
    model.net.train()
    model.meta_end_task(dataset)  # a task without a single step logs nothing
    assert model.task_stats == [] and model.window_stats == []
    model._current_task = 1  # task 2
    model.meta_begin_task(dataset)
    model.meta_observe(x, y, x0, epoch=0)
    model.meta_end_task(dataset)
    assert len(model.task_stats) == 1 and model.task_stats[0]['steps'] == 1
    assert model.window_stats == []  # no --stats_every: no windows, not even the last, shorter one
    # a window of 1000 steps ends at its 1000th step (counts compared by value: 1000 is not a cached small int)
    model._current_task = 1  # task 2 (an odd index: current_task + 1 is not current_task | 1)
    model.args.stats_every = 1000
    model._window_mean.count = 999
    with caplog.at_level(logging.INFO):
        model.meta_observe(x, y, x0, epoch=0)
    assert [(s['task'], s['steps']) for s in model.window_stats] == [(2, 1000)]
    from dynamos_plugin.stats import parse_trace
    assert [w['task'] for w in parse_trace(caplog.text)['windows']] == [2]  # the log line names the task too
    model._current_task = 3
    x_nan = torch.full((4, 1, 28, 28), float('nan'))
    with pytest.raises(FloatingPointError, match=r'NaN in the action probabilities at task 4,'):
        model.meta_observe(x_nan, torch.zeros(4, dtype=torch.long), x_nan, epoch=0)


def test_table5_hyperparameters_are_required_without_a_configuration(mammoth_imported):
    import argparse
    from dynamos_plugin.dynamos import Dynamos
    parser = Dynamos.get_parser(argparse.ArgumentParser())
    required = {a.dest for a in parser._actions if a.required}
    defaults = {a.dest: a.default for a in parser._actions}
    assert (defaults['warmup'], defaults['stats_every']) == (10, 0)  # the authors' 10 warm-up iterations
    assert {'keep_ratio', 'policy_penalty', 'reward_weight', 'prototype_loss', 'alpha', 'policy_alpha',
            'beta'} <= required


def test_warmup_counts_iterations_when_mammoth_gives_no_epoch_count(mammoth_imported, mnist_dir):
    from dynamos_plugin.dynamos import Dynamos
    model, dataset, args = dynamos(mnist_dir)
    args.n_epochs = None  # e.g. a dataset fitted by iterations
    Dynamos.__init__(model, model.net, model.loss, args, model.transform, dataset=dataset)
    assert model.warmup_unit == 'iterations'
