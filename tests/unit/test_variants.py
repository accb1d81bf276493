"""`dynamos-variants` (dynamos_plugin/variants/): the research variants and probes of the GCL study (issue 16),
against hand-computed values: the straight-through gate and its keep-rate loss, the agents' own learning rate,
frozen agents, routing distillation and the mask-drift measurement. With none of their flags the model trains
exactly as `dynamos`, which knows none of them.
"""

import math

import pytest
import torch

from conftest import DYNAMOS_SEQ_MNIST as BASE
from conftest import build_model, constants, fill_buffer, stream_batch


VARIANTS = ['--model', 'dynamos-variants', *BASE[2:]]


def dynamos(mnist_dir, *flags):
    return build_model(VARIANTS + ['--buffer_size', '50', '--seed', '0', '--base_path', str(mnist_dir), '--warmup', '0',
                               *map(str, flags)])


# ---- the keep-rate loss and the straight-through gate ----------------------------------------------

def test_keep_rate_loss_by_hand():
    from dynamos_plugin.variants.losses import keep_rate_loss
    means = torch.tensor([[0.5, 1.0], [0.7, 0.0], [0.9, 0.5]])  # (B=3, L=2): batch means 0.7 and 0.5
    assert keep_rate_loss(means, 0.7).item() == pytest.approx(0.0 ** 2 + 0.2 ** 2)
    assert keep_rate_loss(means, 0.4).item() == pytest.approx(0.3 ** 2 + 0.1 ** 2)
    means.requires_grad_(True)
    keep_rate_loss(means, 0.4).backward()  # d/dm_bl = 2 (mean_l - kr) / B
    assert torch.allclose(means.grad, torch.tensor([[2 * 0.3 / 3, 2 * 0.1 / 3]] * 3), atol=1e-7)


def test_straight_through_actions_are_the_threshold_with_the_gradient_of_p():
    from dynamos_plugin.agent import Agent
    torch.manual_seed(0)
    agent = Agent(4, 6)
    x = torch.randn(3, 4, 5, 5)
    state = torch.get_rng_state()
    out = agent(x, sample=False, threshold=0.5, straight_through=True)
    assert torch.equal(torch.get_rng_state(), state)  # no draw
    p = torch.sigmoid(out.logits)
    assert torch.equal(out.actions.detach(), (p >= 0.5).float())
    weights = torch.randn(3, 6)
    # d(sum w a)/d logits = w p (1 - p): the gradient of p, passed straight through the threshold
    (grad,) = torch.autograd.grad((weights * out.actions).sum(), out.logits, retain_graph=True)
    assert torch.allclose(grad, weights * p * (1 - p), atol=1e-6)
    # the paper's thresholded actions carry no gradient
    plain = agent(x, sample=False, threshold=0.5)
    assert not plain.actions.requires_grad and torch.equal(plain.actions, out.actions.detach())


def test_straight_through_training_masks_are_the_test_masks_and_draw_nothing(mammoth_imported, mnist_dir):
    model, dataset, _ = dynamos(mnist_dir, '--gate_estimator', 'straight_through')
    assert model.net.train_gate == 'straight_through' and model.args.keep_rate_weight == 10.0
    x, _, _ = stream_batch(dataset)
    model.net.train()
    state = torch.get_rng_state()
    _, decisions = model.net(x, returnt='agents')
    assert torch.equal(torch.get_rng_state(), state)
    for d in decisions:
        assert torch.equal(d.actions.detach(), (torch.sigmoid(d.logits) >= 0.5).float())
    # the paper's model samples while training
    paper = dynamos(mnist_dir)[0]
    assert paper.net.train_gate == 'sample' and not paper.straight_through


def test_straight_through_observe_weighs_the_keep_rate_loss_in_place_of_the_policy_loss(
        mammoth_imported, mnist_dir, monkeypatch):
    import dynamos_plugin.dynamos as module
    import dynamos_plugin.variants.model as variants
    gamma, beta, alpha, alpha_p, w_p, k = 0.3, 2.0, 0.7, 0.11, 0.013, 4.0
    model, dataset, _ = dynamos(mnist_dir, '--gate_estimator', 'straight_through', '--keep_rate_weight', k,
                                '--reward_weight', gamma, '--beta', beta, '--alpha', alpha,
                                '--policy_alpha', alpha_p, '--prototype_loss', w_p)
    x, y, x0 = stream_batch(dataset)
    model.meta_begin_task(dataset)
    model.net.train()
    fill_buffer(model, n_attention=4 * 64)
    monkeypatch.setattr(model, 'loss', constants(1.0, 3.0))
    rate = constants(5.0, 7.0)
    monkeypatch.setattr(variants, 'keep_rate_loss', rate)
    monkeypatch.setattr(module, 'policy_loss', constants())  # never called
    monkeypatch.setattr(module, 'prototype_loss', constants(11.0, 13.0))
    monkeypatch.setattr(module, 'consistency_loss', constants(17.0, 19.0))
    total = model.meta_observe(x, y, x0, epoch=0)
    assert total == pytest.approx(1.0 + k * 5.0 + beta * (3.0 + k * 7.0) + alpha * 17.0 + alpha_p * 19.0
                                  + w_p * (11.0 + 13.0), rel=1e-6)
    (means, kr), _ = rate.calls
    assert means.shape == (10, 4) and kr == 0.7 and means.requires_grad  # straight-through: it trains the agents


# ---- the agents' learning rate ----------------------------------------------------------------------

def test_agent_lr_puts_exactly_the_agents_parameters_in_a_group_of_their_own(mammoth_imported, mnist_dir):
    model = dynamos(mnist_dir, '--agent_lr', 0.005, '--lr', 0.07)[0]
    backbone, agents = model.opt.param_groups
    assert (backbone['lr'], agents['lr']) == (0.07, 0.005)
    agent_params = {id(p) for a in model.net.agents for p in a.parameters()}
    assert {id(p) for p in agents['params']} == agent_params
    assert {id(p) for p in backbone['params']}.isdisjoint(agent_params)
    assert len(backbone['params']) + len(agents['params']) == len(list(model.net.parameters()))
    (group,) = dynamos(mnist_dir, '--lr', 0.07)[0].opt.param_groups  # the paper: one learning rate
    assert group['lr'] == 0.07


def test_agent_lr_scales_the_agents_sgd_step(mammoth_imported, mnist_dir):
    steps = {}
    for lr in (0.07, 0.007):
        model, dataset, _ = dynamos(mnist_dir, '--agent_lr', lr, '--lr', 0.07, '--optim_mom', 0, '--optim_wd', 0)
        x, y, x0 = stream_batch(dataset)
        model.meta_begin_task(dataset)
        model.net.train()
        weight = model.net.agents[0].fc2.weight
        before, conv = weight.detach().clone(), model.net.conv1.weight.detach().clone()
        torch.manual_seed(1)
        model.meta_observe(x, y, x0, epoch=0)
        steps[lr] = (weight.detach() - before, model.net.conv1.weight.detach() - conv)
    # (the difference of two weights near 0.1 keeps about 3 digits of a step of 1e-5)
    assert torch.allclose(steps[0.007][0] * 10, steps[0.07][0], rtol=2e-2, atol=2e-7)
    assert steps[0.07][0].abs().sum() > 0
    assert torch.allclose(steps[0.007][1], steps[0.07][1])  # the network's own step is the same


# ---- frozen agents ------------------------------------------------------------------------------------

def test_frozen_agents_neither_learn_nor_update_their_statistics(mammoth_imported, mnist_dir, monkeypatch):
    import dynamos_plugin.dynamos as module
    model, dataset, _ = dynamos(mnist_dir, '--freeze_agents_after', 2, '--alpha', 0.5, '--beta', 2.0)
    x, y, x0 = stream_batch(dataset)
    model.meta_begin_task(dataset)
    model.net.train()
    agent_state = lambda: {k: v.clone() for a in model.net.agents for k, v in a.state_dict().items()}  # noqa: E731
    for _ in range(2):  # steps 1 and 2: the agents learn
        before = agent_state()
        assert not model.agents_frozen()
        model.meta_observe(x, y, x0, epoch=0)
        assert any(not torch.equal(before[k], v) for k, v in agent_state().items())
    assert model.agents_frozen()
    model.net.train()  # as Mammoth does at every epoch
    before = agent_state()
    fill_buffer(model, n_attention=4 * 64)
    monkeypatch.setattr(model, 'loss', constants(1.0, 3.0))
    monkeypatch.setattr(module, 'consistency_loss', constants(17.0, 19.0))
    total = model.meta_observe(x, y, x0, epoch=0)
    assert total == pytest.approx(1.0 + 2.0 * 3.0 + 0.5 * 17.0)  # CE(B) + beta CE(M) + alpha MSE(Z), no agent term
    after = agent_state()
    assert all(torch.equal(before[k], v) for k, v in after.items())  # weights and running statistics
    assert all(not a.training for a in model.net.agents) and model.net.training


def test_frozen_agents_still_gate_the_network(mammoth_imported, mnist_dir):
    model, dataset, _ = dynamos(mnist_dir, '--freeze_agents_after', 1)
    x, y, x0 = stream_batch(dataset)
    model.meta_begin_task(dataset)
    model.net.train()
    model.meta_observe(x, y, x0, epoch=0)
    conv = model.net.conv1.weight.detach().clone()
    model.meta_observe(x, y, x0, epoch=0)
    assert not torch.equal(conv, model.net.conv1.weight.detach())  # the network keeps learning
    assert model.task_stats == [] and model._task_mean.count == 2
    keep = model._task_mean.mean()[model.stat_names.index('keep_agent1')]
    assert 0 < keep < 1  # sampled masks, not all ones


# ---- mask drift ------------------------------------------------------------------------------------------

def test_mask_flips_and_drift_by_class_by_hand():
    from dynamos_plugin.variants.drift import drift_by_class, mask_flips
    old_x = torch.tensor([[0., 1.], [2., 3.], [4., 5.], [6., 7.]])
    new_x = torch.tensor([[0., 1.], [2., 3.], [9., 9.], [6., 7.]])  # slot 2 got a new example
    old_m = torch.tensor([[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 1, 1], [0, 0, 0, 1]], dtype=torch.bool)
    new_m = torch.tensor([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 0, 1]], dtype=torch.bool)
    same, flipped = mask_flips(old_x, old_m, new_x, new_m)
    assert same.tolist() == [True, True, False, True]
    assert flipped.tolist() == [0.0, 0.5, 1.0, 0.25]
    labels = torch.tensor([3, 3, 3, 5])
    assert drift_by_class(labels, same, flipped) == {
        3: {'n': 2, 'bits': 0.25, 'changed': 0.5}, 5: {'n': 1, 'bits': 0.25, 'changed': 1.0}}


def test_drift_lines_parse_back():
    from dynamos_plugin.variants.drift import class_accuracy_line, drift_line, parse_drift
    log = '\n'.join(['[INFO] x - ' + drift_line(100, {1: {'n': 3, 'bits': 0.1, 'changed': 0.5}}), 'noise',
                     '[INFO] x - ' + drift_line(200, {}), '[INFO] y - ' + class_accuracy_line({0: 50.0, 1: 25.5})])
    snapshots, accuracy = parse_drift(log)
    assert snapshots == [{'step': 100, 'classes': {1: {'n': 3, 'bits': 0.1, 'changed': 0.5}}},
                         {'step': 200, 'classes': {}}]
    assert accuracy == {0: 50.0, 1: 25.5}


def test_drift_measurement_changes_nothing_in_training(mammoth_imported, mnist_dir, caplog):
    """Two models from one seed, one measuring drift at every step: the same weights, statistics and draws."""
    import logging
    runs = []
    for flags in ((), ('--drift_every', 1)):
        model, dataset, _ = dynamos(mnist_dir, *flags)
        x, y, x0 = stream_batch(dataset)
        model.meta_begin_task(dataset)
        model.net.train()
        fill_buffer(model, n_attention=4 * 64)
        torch.manual_seed(3)
        with caplog.at_level(logging.INFO):
            losses = [model.meta_observe(x, y, x0, epoch=0) for _ in range(3)]
        runs.append((losses, model.net.state_dict(), torch.get_rng_state(), model.net.training))
    (l0, s0, r0, t0), (l1, s1, r1, t1) = runs
    assert l0 == l1 and torch.equal(r0, r1) and t0 and t1
    assert all(torch.equal(s0[k], s1[k]) for k in s0)
    from dynamos_plugin.variants.drift import parse_drift
    snapshots, _ = parse_drift(caplog.text)  # step 1 takes the first snapshot; steps 2 and 3 compare with the one before
    assert [s['step'] for s in snapshots] == [2, 3]
    for snapshot in snapshots:
        for stats in snapshot['classes'].values():
            assert stats['n'] >= 1 and 0 <= stats['bits'] <= stats['changed'] <= 1


@pytest.mark.parametrize('flag, value, message', [
    ('--gate_estimator', 'gumbel', "invalid choice: 'gumbel'"),
    ('--agent_lr', '0', 'must be > 0'),
    ('--keep_rate_weight', '-1', 'a loss weight must be >= 0'),
    ('--freeze_agents_after', '-3', 'must be >= 0'),
    ('--drift_every', '1.5', 'not a valid int'),
])
def test_variant_flags_are_validated_at_parse_time(mammoth_imported, mnist_dir, capsys, flag, value, message):
    with pytest.raises(SystemExit):
        dynamos(mnist_dir, flag, value)
    assert message in capsys.readouterr().err


def test_drift_needs_thresholded_masks(mammoth_imported, mnist_dir):
    with pytest.raises(ValueError, match='--infer_mode threshold'):
        dynamos(mnist_dir, '--drift_every', 5, '--infer_mode', 'sample')


# ---- routing distillation ------------------------------------------------------------------------------

def test_routing_distillation_loss_by_hand():
    from dynamos_plugin.variants.losses import routing_distillation_loss
    logits = torch.tensor([[2.0, -1.0], [0.0, 3.0]])
    stored = torch.tensor([[0.5, 0.2], [-0.1, 0.0]])  # masks: [1, 1], [0, 1] (v >= 0 keeps, as p >= 0.5)
    softplus = lambda z: math.log1p(math.exp(z))  # noqa: E731  -log sigmoid(z) = softplus(-z)
    expected = (softplus(-2.0) + softplus(1.0) + softplus(0.0) + softplus(-3.0)) / 4
    assert routing_distillation_loss(logits, stored).item() == pytest.approx(expected, rel=1e-6)
    logits.requires_grad_(True)
    routing_distillation_loss(logits, stored.requires_grad_(True)).backward()
    # d/dz = (sigmoid(z) - target) / 4
    sig = torch.sigmoid(logits.detach())
    assert torch.allclose(logits.grad, (sig - torch.tensor([[1.0, 1.0], [0.0, 1.0]])) / 4)
    assert stored.grad is None  # the stored routing is a target


def test_routing_distillation_is_added_with_its_weight_on_the_buffer_batch(mammoth_imported, mnist_dir, monkeypatch):
    import dynamos_plugin.dynamos as module
    import dynamos_plugin.variants.model as variants
    model, dataset, _ = dynamos(mnist_dir, '--routing_distill', 0.25, '--reward_weight', 0.3, '--beta', 2.0,
                                '--alpha', 0.7, '--policy_alpha', 0.11, '--prototype_loss', 0.013)
    x, y, x0 = stream_batch(dataset)
    model.meta_begin_task(dataset)
    model.net.train()
    fill_buffer(model, n_attention=4 * 64)
    monkeypatch.setattr(model, 'loss', constants(1.0, 3.0))
    monkeypatch.setattr(module, 'policy_loss', constants(5.0, 7.0))
    monkeypatch.setattr(module, 'prototype_loss', constants(11.0, 13.0))
    monkeypatch.setattr(module, 'consistency_loss', constants(17.0, 19.0))
    routing = constants(23.0)
    monkeypatch.setattr(variants, 'routing_distillation_loss', routing)
    total = model.meta_observe(x, y, x0, epoch=0)
    assert total == pytest.approx(1.0 + 0.3 * 5.0 + 2.0 * (3.0 + 0.3 * 7.0) + 0.7 * 17.0 + 0.11 * 19.0
                                  + 0.013 * 24.0 + 0.25 * 23.0, rel=1e-6)
    ((logits, stored),) = routing.calls
    assert logits.shape == stored.shape == (10, 256) and logits.requires_grad
    assert all(any(torch.equal(row, s) for s in model.buffer.attentions) for row in stored)
    off = dynamos(mnist_dir)[0]
    assert off.args.routing_distill == 0.0


def test_an_old_drift_log_still_parses():
    """The lines a `dynamos --drift_every` run wrote before the runlog format (committed study logs)."""
    from dynamos_plugin.variants.drift import parse_drift
    log = ('[INFO] 01-Dec-26 - Mask drift: {"step": 100, "classes": {"3": {"n": 2, "bits": 0.25, "changed": 0.5}}}\n'
           '[INFO] 01-Dec-26 - Per-class accuracy: {"0": 50.0, "3": 12.5}\n')
    snapshots, accuracy = parse_drift(log)
    assert snapshots == [{'step': 100, 'classes': {3: {'n': 2, 'bits': 0.25, 'changed': 0.5}}}]
    assert accuracy == {0: 50.0, 3: 12.5}


@pytest.mark.parametrize('flags', [('--gate_estimator', 'straight_through'), ('--agent_lr', '0.01'),
                                   ('--freeze_agents_after', '3'), ('--routing_distill', '1'), ('--drift_every', '2')])
def test_the_papers_model_has_no_variant_flag(mammoth_imported, mnist_dir, capsys, flags):
    with pytest.raises(SystemExit):
        build_model(BASE + ['--buffer_size', '50', '--base_path', str(mnist_dir), *flags])
    assert 'unrecognized arguments' in capsys.readouterr().err or flags[0] in capsys.readouterr().err


def test_with_no_variant_flag_the_variants_model_trains_exactly_as_dynamos(mammoth_imported, mnist_dir):
    """Same seed, same batches: the same losses, weights, statistics and random state after three steps."""
    runs = []
    for model_flags in (BASE, VARIANTS):
        model, dataset, _ = build_model(model_flags + ['--buffer_size', '50', '--seed', '0', '--warmup', '1',
                                                       '--base_path', str(mnist_dir)])
        model.meta_begin_task(dataset)
        model.net.train()
        batches = iter(dataset.get_data_loaders()[0])
        torch.manual_seed(5)
        losses = [model.meta_observe(*next(batches)[:3], epoch=0) for _ in range(4)]
        runs.append((losses, model.net.state_dict(), torch.get_rng_state(), model.buffer.labels.clone()))
    (l0, s0, r0, b0), (l1, s1, r1, b1) = runs
    assert l0 == l1 and torch.equal(r0, r1) and torch.equal(b0, b1)
    assert all(torch.equal(s0[k], s1[k]) for k in s0)
