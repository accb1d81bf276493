"""The `msa` baseline (dynamos_plugin/msa.py, the paper's Table 1): `observe` assembles Eq. 8 with every weight in its place."""

import pytest

from conftest import build_model, constants, fill_buffer, stream_batch


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
