"""The `msa` baseline (dynamos_plugin/msa.py, the paper's Table 1): `observe` assembles Eq. 8 with every weight in its place."""

import copy

import pytest
import torch

from conftest import build_model, constants, fill_buffer, record_outputs, stream_batch


def test_msa_observe_assembles_eq8(mammoth_imported, mnist_dir, monkeypatch):
    import dynamos_plugin.msa as msa
    model, dataset, _ = build_model(['--model', 'msa', '--dataset', 'seq-mnist', '--buffer_size', '50', '--seed', '0',
                                     '--base_path', mnist_dir, '--alpha', 0.7, '--beta', 2.0])
    x, y, x0 = stream_batch(dataset)
    model.meta_begin_task(dataset)
    model.net.train()
    fill_buffer(model)
    ce, cons = constants(1.0, 3.0), constants(17.0)
    monkeypatch.setattr(model, 'loss', ce)
    monkeypatch.setattr(msa, 'consistency_loss', cons)
    # L_base = CE(B) + beta CE(M) + alpha MSE(Z_M, Z_stored)
    assert model.meta_observe(x, y, x0, epoch=0) == pytest.approx(1.0 + 2.0 * 3.0 + 0.7 * 17.0, rel=1e-6)
    (z_now, z_stored), = cons.calls
    stored = {tuple(row.tolist()) for row in model.buffer.logits}
    assert z_now.shape == (10, 10) and all(tuple(row.tolist()) in stored for row in z_stored)


def test_msa_writes_the_correct_samples_raw_with_their_logits(mammoth_imported, mnist_dir):
    model, dataset, _ = build_model(['--model', 'msa', '--dataset', 'seq-mnist', '--buffer_size', '50', '--seed', '0',
                                     '--base_path', mnist_dir])
    x_raw = stream_batch(dataset)[0][:8]
    x_aug = x_raw.flip(-1) + 0.1
    model.meta_begin_task(dataset)
    model.net.train()
    predicted = copy.deepcopy(model.net)(x_aug).argmax(dim=1)  # no agents: the same pass, deterministically
    # wrong labels on both sides of the prediction, so that no comparison but == writes exactly the right ones
    shift = torch.tensor([0, 1, 1, 0, 0, -1, 0, -1])
    wrong = shift != 0
    labels = (predicted + shift) % 10
    outputs = record_outputs(model)
    model.meta_observe(x_aug, labels, x_raw, epoch=0)
    (logits,) = outputs
    assert torch.equal(logits.argmax(dim=1) == labels, ~wrong)
    buf = model.buffer
    assert buf.num_seen_examples == 8 and buf.written_slots().tolist() == [0, 3, 4, 6]
    assert torch.equal(buf.examples[[0, 3, 4, 6]], x_raw[[0, 3, 4, 6]])
    assert torch.equal(buf.logits[[0, 3, 4, 6]], logits.detach()[[0, 3, 4, 6]])
    assert buf.labels[:8].tolist() == [int(labels[0]), -1, -1, int(labels[3]), int(labels[4]), -1, int(labels[6]), -1]


def test_msa_needs_alpha_and_beta(mammoth_imported, capsys):
    """Without a configuration row (``--model_config default`` has none for them), alpha and beta must be given."""
    import main
    with pytest.raises(SystemExit):
        main.parse_args(['--model', 'msa', '--dataset', 'seq-mnist', '--buffer_size', '50', '--model_config', 'default'])
    assert 'the following arguments are required: --alpha, --beta' in capsys.readouterr().err
