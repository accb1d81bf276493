"""``--compile 1`` (dynamos_plugin/backbone.py, issue 15): the compiled Dynamos step computes what the eager one
does. In-process, but here with the slow tests: compiling the training and evaluation graphs takes a minute or two."""

import torch

import conftest
from conftest import dynamos_step

#: a keep probability this close to the inference threshold (0.5) may land on the other side of it in the
#: compiled graph: 10x the largest |p_compiled - p_eager| measured over every agent of the evaluation (4.0e-5)
NEAR_THRESHOLD = 4e-4


def test_compiled_step_equals_the_eager_step(mammoth_imported, mnist_dir, one_thread, monkeypatch):
    """The training step, then the evaluation graph on the same weights.

    Why the evaluation is compared on the same weights, and only where no gate sits at its threshold (issue 26:
    this test once failed with evaluation logits 0.89 apart): inductor's fused kernels sum in another order than
    eager mode, so the two steps' gradients differ by up to ~1e-4 of their norm, and after the step (lr 0.1) the
    weights by up to 3e-4. Evaluated after a single step, the network's BatchNorm running statistics are still
    almost their initial values, its logits reach ~600 and amplify those differences (measured: 0.038 apart,
    relative 6e-5; 0.89 on a loaded machine). Measured on the same weights (the eager model's state copied into the
    compiled one), the evaluation logits differ by at most 1.5e-4 (relative 2.5e-7) and the keep probabilities
    by at most 4.0e-5. The gate ``p >= 0.5`` is a discontinuity: right after initialisation many probabilities sit
    at 0.5 (measured: 80 of agent 1's 640 within 1e-3 of it, 2.4e-7 the closest; 329 of agent 3's exactly 0.5),
    and one that lands on the other side in one graph changes its sample's logits by far more than any
    tolerance. So the actions are compared where the eager probability is at least ``NEAR_THRESHOLD`` from 0.5,
    and the logits on the samples whose actions agree in every agent (all ten in every run measured)."""
    batches = []
    stream_batch = conftest.stream_batch
    monkeypatch.setattr(conftest, 'stream_batch', lambda dataset: batches.append(stream_batch(dataset)) or batches[-1])
    eager, loss_a, out_a, grads_a, _ = dynamos_step(mnist_dir, warm_call=True)
    compiled, loss_b, out_b, grads_b, _ = dynamos_step(mnist_dir, '--compile', '1', warm_call=True)
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

    x = batches[0][0]
    assert torch.equal(batches[1][0], x)
    compiled.net.load_state_dict(eager.net.state_dict())  # the same weights and BatchNorm statistics
    eager.net.eval()
    compiled.net.eval()
    with torch.no_grad():
        compiled.net(x)  # the evaluation graph's first call
        logits_a, dec_a = eager.net(x, returnt='agents')
        logits_b, dec_b = compiled.net(x, returnt='agents')
    agree = torch.ones(len(x), dtype=torch.bool)
    for d_a, d_b in zip(dec_a, dec_b):
        p_a, p_b = torch.sigmoid(d_a.logits), torch.sigmoid(d_b.logits)
        torch.testing.assert_close(p_b, p_a, rtol=0, atol=NEAR_THRESHOLD / 2)
        decided = (p_a - 0.5).abs() >= NEAR_THRESHOLD
        assert torch.equal(d_a.actions[decided], d_b.actions[decided])
        agree &= (d_a.actions == d_b.actions).all(dim=1)
    assert agree.any()  # a flip needs a probability within ~4e-5 of 0.5 in one sample: never all ten
    torch.testing.assert_close(logits_b[agree], logits_a[agree], rtol=1e-5, atol=2e-3)
