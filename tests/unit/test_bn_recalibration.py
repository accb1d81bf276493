"""The recalibrated evaluation of patch 0015 (mammoth/utils/bn_recalibration.py, `--bn_recal_batches`), in-process on
a model the plugin did not write (Mammoth's ER on the un-gated backbone; Dynamos and the others end to end in
tests/integration/test_bn_recalibration.py): it leaves the trained network,
its statistics, the random generators and the protocol accuracy exactly as they were, and forwards nothing but the
model's recent stream batches and its buffer's examples."""

import pytest
import torch

from conftest import build_model, task_batches


def trained(mnist_dir, model, *flags, steps=4):
    """A model after ``steps`` training steps of task 1 (its recent batches and buffer filled)."""
    args = ['--model', model, '--dataset', 'seq-mnist', '--buffer_size', '50', '--seed', '0', '--base_path', mnist_dir,
            '--bn_recal_batches', '3', *flags]
    if model == 'er':
        args += ['--lr', '0.1', '--backbone', 'ungated-resnet', '--batch_size', '10', '--minibatch_size', '8']
    else:
        args += ['--warmup', '0']
    model, dataset, _ = build_model(args)
    batches = task_batches(model, dataset)
    for _ in range(steps):
        model.meta_observe(*next(batches), epoch=0)
    return model, dataset


def state(model):
    return {k: v.clone() for k, v in model.net.state_dict().items()}


def test_recalibration_leaves_training_untouched_and_forwards_no_test_image(mammoth_imported, mnist_dir):
    from utils import bn_recalibration
    model, dataset = trained(mnist_dir, 'er', steps=5)
    assert len(model.recent_batches) == 3  # the ring keeps the last --bn_recal_batches stream batches
    model.meta_end_task(dataset)
    before, net, training = state(model), model.net, model.net.training

    # every input a BatchNorm layer in training mode sees (the hook is copied with the network)
    seen = []
    net.register_forward_pre_hook(lambda m, inputs: seen.append(inputs[0].detach().clone())
                                  if any(bn.training for bn in bn_recalibration.batch_norms(m)) else None)
    rng_before = bn_recalibration.rng_state()
    accs = dataset.evaluate(model, dataset)
    rng_after = bn_recalibration.rng_state()
    assert seen == []  # the protocol's evaluation trains no statistic
    recalibrated = bn_recalibration.evaluate_recalibrated(model, dataset, rng_before, accs)

    # untouched: the same network object, weights and running statistics bit for bit, mode, generators
    assert model.net is net and model.net.training == training
    after = state(model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    for a, b in zip(rng_after, bn_recalibration.rng_state()):
        if isinstance(a, torch.Tensor):
            assert torch.equal(a, b)
        elif isinstance(a, tuple) and a and hasattr(a[1], 'shape'):  # numpy's state
            assert a[0] == b[0] and (a[1] == b[1]).all() and a[2:] == b[2:]
        else:
            assert a == b
    # the protocol evaluation gives what it gave (so logging the second one changes nothing of the first)
    bn_recalibration.set_rng_state(rng_before)
    assert dataset.evaluate(model, dataset) == accs
    assert len(recalibrated[0]) == len(accs[0]) == 1

    # what the recalibration forwarded: the 3 recent stream batches, in order, each followed by a buffer batch
    assert len(seen) == 6
    for stream, recent in zip(seen[0::2], model.recent_batches):
        assert torch.equal(stream, recent)
    examples = model.buffer.examples
    def rows_in(rows, pool):  # for each row of `rows`, whether it is one of `pool`'s
        return (rows.flatten(1)[:, None, :] == pool.flatten(1)[None, :, :]).all(2).any(1)
    for replay in seen[1::2]:
        assert replay.shape[0] == model.args.minibatch_size
        assert rows_in(replay, examples).all()  # each one a buffer example
    test_images = torch.cat([batch[0] for loader in dataset.test_loaders for batch in loader])
    assert not any(rows_in(batch, test_images).any() for batch in seen)


def test_recalibrated_statistics_are_the_average_over_the_batches(mammoth_imported, mnist_dir):
    """The first BatchNorm's running mean is the mean over the recalibration batches of their batch means."""
    from utils import bn_recalibration
    model, _ = trained(mnist_dir, 'er', '--buffer_size', '50', steps=4)
    model.buffer.empty()  # stream batches only, so the inputs are known
    copy = bn_recalibration.recalibrated_copy(model)
    conv, bn = copy.conv1, copy.bn1
    with torch.no_grad():
        means = [conv(x.expand(-1, 3, -1, -1).contiguous(memory_format=copy.memory_format)).mean(dim=(0, 2, 3))
                 for x in model.recent_batches]
    assert torch.allclose(bn.running_mean, torch.stack(means).mean(0), atol=1e-5)
    assert int(bn.num_batches_tracked) == 3 and not copy.training
    assert model.net.bn1.momentum == 0.1 and not torch.equal(model.net.bn1.running_mean, bn.running_mean)


def test_no_batchnorm_means_the_protocol_accuracy_and_off_means_no_ring(mammoth_imported, mnist_dir):
    from utils import bn_recalibration
    model, _, _ = build_model(['--model', 'er', '--dataset', 'seq-mnist', '--buffer_size', '50', '--lr', '0.1',
                               '--seed', '0', '--base_path', mnist_dir])  # Mammoth's MLP: no BatchNorm
    assert bn_recalibration.evaluate_recalibrated(model, None, None, ([1.0], [2.0])) == ([1.0], [2.0])
    assert model.recent_batches.maxlen == 200  # the default
    off, _, _ = build_model(['--model', 'er', '--dataset', 'seq-mnist', '--buffer_size', '50', '--lr', '0.1',
                             '--seed', '0', '--base_path', mnist_dir, '--bn_recal_batches', '0'])
    assert off.recent_batches is None


def test_bn_recal_batches_is_validated_at_parse_time(mammoth_imported, mnist_dir, capsys):
    with pytest.raises(SystemExit):
        build_model(['--model', 'er', '--dataset', 'seq-mnist', '--buffer_size', '50', '--lr', '0.1',
                     '--base_path', mnist_dir, '--bn_recal_batches', '-2'])
    assert 'must be >= 0, got -2' in capsys.readouterr().err
