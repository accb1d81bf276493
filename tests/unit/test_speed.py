"""Speed options of the backbones (dynamos_plugin/backbone.py, issue 15): they leave the computation unchanged.

A Dynamos step with ``--memory_format channels_last`` (the default) gives the same loss, logits, actions and
gradients as with ``contiguous`` (NCHW), from the same weights, buffer and random state; ``--compile 1`` falls back
to eager, with a warning, where no compiler is available. The compiled step itself is checked against the eager
one in tests/integration/test_compile.py (compiling takes about a minute).
"""

import logging

import pytest
import torch

from conftest import dynamos_step


def test_channels_last_step_equals_the_nchw_step(mammoth_imported, mnist_dir, one_thread):
    nchw, loss_a, out_a, grads_a, _ = dynamos_step(mnist_dir, '--memory_format', 'contiguous')
    fast, loss_b, out_b, grads_b, _ = dynamos_step(mnist_dir)  # the default
    assert fast.args.memory_format == 'channels_last'
    # the option does what it says: weights and activations are laid out channels-last
    assert fast.net.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert not nchw.net.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert len(out_a) == len(out_b) == 2  # the stream pass and the buffer pass
    for (logits_a, dec_a), (logits_b, dec_b) in zip(out_a, out_b):
        for d_a, d_b in zip(dec_a, dec_b):
            assert torch.equal(d_a.actions, d_b.actions)
            torch.testing.assert_close(d_a.attention, d_b.attention, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(logits_a, logits_b, rtol=1e-4, atol=1e-5)
    assert loss_b == pytest.approx(loss_a, rel=1e-5, abs=1e-5)
    assert grads_a.keys() == grads_b.keys() and len(grads_a) == len(list(nchw.net.parameters()))
    # Compared by norm: in each pass a pre-activation of stage 1 or two lie within 1e-6 of 0 and round to the
    # other side of their ReLU in the other layout (measured), which moves stage 1's gradients by 1e-3 to 6e-3
    # of their norm (REINFORCE gradients are large sums of terms of both signs); stage 2 agrees to ~1e-6. A
    # wrong computation moves them by O(1).
    for name in grads_a:
        error = ((grads_b[name] - grads_a[name]).norm() / grads_a[name].norm()).item()
        assert error < (2e-2 if name.startswith(('conv1', 'bn1', 'layer1')) else 1e-4), (name, error)
    # and the weights after the step
    for (name, p_a), (_, p_b) in zip(nchw.net.named_parameters(), fast.net.named_parameters()):
        error = ((p_b - p_a).norm() / p_a.norm()).item()
        assert error < (1e-2 if name.startswith(('conv1', 'bn1', 'layer1')) else 1e-5), (name, error)


def test_speed_flags_are_checked_at_parse_time(mammoth_imported, capsys):
    import main
    for flags, message in ((['--compile', '2'], "must be 0 or 1, got '2'"),
                           (['--memory_format', 'nhwc'], "invalid choice: 'nhwc'")):
        with pytest.raises(SystemExit):
            main.parse_args(['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '500', *flags])
        assert message in capsys.readouterr().err


def test_compile_without_a_compiler_warns_and_runs_eagerly(mammoth_imported, monkeypatch, caplog):
    import torch._inductor.config as inductor_config
    from dynamos_plugin.backbone import compiler_problem, gated_resnet
    assert compiler_problem(torch.device('meta')) == 'this plugin compiles for CPU and CUDA devices only, not meta'
    monkeypatch.setattr(inductor_config.cpp, 'cxx', ('/nonexistent/c++',))
    assert 'No working C++ compiler' in compiler_problem(torch.device('cpu'))
    torch.manual_seed(0)
    net = gated_resnet(num_classes=10, compile=True).eval()
    torch.manual_seed(0)
    eager = gated_resnet(num_classes=10).eval()
    x = torch.rand(4, 1, 28, 28)
    with caplog.at_level(logging.WARNING):
        first = net(x)
    assert 'torch.compile cannot be used here (No working C++ compiler' in caplog.text
    assert 'the backbone runs eagerly' in caplog.text
    assert net._compiled_call_impl is None  # not compiled
    assert torch.equal(first, eager(x)) and torch.equal(net(x), first)
    assert not net._forward_pre_hooks  # the check ran once
