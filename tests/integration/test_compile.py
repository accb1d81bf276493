"""``--compile 1`` (dynamos_plugin/backbone.py, issue 15): the compiled Dynamos step computes what the eager one
does. In-process, but here with the slow tests: compiling the training and evaluation graphs takes a minute or two."""

import torch

from conftest import dynamos_step


def test_compiled_step_equals_the_eager_step(mammoth_imported, mnist_dir, one_thread):
    eager, loss_a, out_a, grads_a, eval_a = dynamos_step(mnist_dir, warm_call=True, evaluate=True)
    compiled, loss_b, out_b, grads_b, eval_b = dynamos_step(mnist_dir, '--compile', '1', warm_call=True, evaluate=True)
    assert eager.net._compiled_call_impl is None and compiled.net._compiled_call_impl is not None
    for (logits_a, dec_a), (logits_b, dec_b) in zip(out_a[:2], out_b[:2]):  # the stream and buffer passes
        for d_a, d_b in zip(dec_a, dec_b):
            assert torch.equal(d_a.actions, d_b.actions)  # the same Bernoulli draws (fallback_random)
        torch.testing.assert_close(logits_b, logits_a, rtol=1e-4, atol=1e-5)
    assert abs(loss_b - loss_a) <= 1e-5 * max(1.0, abs(loss_a))
    # by norm, as in tests/unit/test_speed.py (a ReLU input within 1e-6 of 0 may flip); inductor's fused kernels
    # also sum in another order than eager mode (measured: up to ~1.4e-4 of a gradient's norm outside stage 1)
    for name in grads_a:
        error = ((grads_b[name] - grads_a[name]).norm() / grads_a[name].norm()).item()
        assert error < (2e-2 if name.startswith(('conv1', 'bn1', 'layer1')) else 1e-3), (name, error)
    (logits_a, dec_a), (logits_b, dec_b) = eval_a, eval_b
    torch.testing.assert_close(logits_b, logits_a, rtol=1e-3, atol=1e-4)
    assert all(torch.equal(d_a.actions, d_b.actions) for d_a, d_b in zip(dec_a, dec_b))
