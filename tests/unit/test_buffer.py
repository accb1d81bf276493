"""The add-if-correct reservoir buffer (dynamos_plugin/buffer.py, paper Section 3.2): what is written, what is
replayed, serialisation, and over a long stream its size and the reservoir's uniformity."""

import numpy as np
import pytest
import torch
from scipy.stats import chisquare


@pytest.fixture
def buffer_module(mammoth_imported):
    import dynamos_plugin.buffer as module
    return module


def batch(n, start=0):
    x = torch.arange(start, start + n, dtype=torch.float32)[:, None, None, None].expand(n, 1, 2, 2).clone()
    return x, torch.arange(start, start + n) % 10, torch.randn(n, 10), torch.randn(n, 8)


def test_reservoir_indices_fill_then_sample(buffer_module):
    assert buffer_module.reservoir_indices(0, 4, 10).tolist() == [0, 1, 2, 3]
    np.random.seed(0)
    index = buffer_module.reservoir_indices(8, 4, 10)
    assert index[:2].tolist() == [8, 9]
    assert all(-1 <= i < 10 for i in index[2:])


def test_every_sample_counts_but_only_correct_ones_are_written(buffer_module):
    buf = buffer_module.DynamosBuffer(10)
    x, y, z, v = batch(4)
    buf.add_data(x, y, correct=torch.tensor([True, False, True, False]), logits=z, attentions=v)
    assert buf.num_seen_examples == 4
    assert len(buf) == 2
    assert buf.written_slots().tolist() == [0, 2]
    assert buf.labels.tolist()[:4] == [0, -1, 2, -1]
    assert torch.equal(buf.attentions[2], v[2]) and torch.equal(buf.logits[0], z[0])


def test_unwritten_slots_are_never_replayed(buffer_module):
    buf = buffer_module.DynamosBuffer(10)
    x, y, z, v = batch(6)
    buf.add_data(x, y, correct=torch.tensor([False, True, False, True, False, False]), logits=z, attentions=v)
    np.random.seed(1)
    for _ in range(20):
        ex, lab, logits, att = buf.get_data(5)
        assert len(lab) == 2  # only two slots were written
        assert sorted(lab.tolist()) == [1, 3]
        assert torch.equal(ex[:, 0, 0, 0], lab.float())  # example, label, logits, attention stay aligned
        for row, label in enumerate(lab.tolist()):
            assert torch.equal(att[row], v[label]) and torch.equal(logits[row], z[label])


def test_empty_until_a_correct_sample(buffer_module):
    buf = buffer_module.DynamosBuffer(5)
    assert buf.is_empty()
    x, y, z, v = batch(3)
    buf.add_data(x, y, correct=torch.zeros(3, dtype=torch.bool), logits=z, attentions=v)
    assert buf.is_empty() and buf.num_seen_examples == 3


def test_two_samples_drawing_one_slot_keep_the_later(buffer_module, monkeypatch):
    buf = buffer_module.DynamosBuffer(4)
    monkeypatch.setattr(buffer_module, 'reservoir_indices', lambda seen, n, size: np.array([1, -1, 1]))
    x, y, z, v = batch(3)
    buf.add_data(x, y, correct=torch.ones(3, dtype=torch.bool), logits=z, attentions=v)
    assert buf.written_slots().tolist() == [1]
    assert buf.labels[1].item() == 2


def test_baseline_buffer_without_attentions(buffer_module):
    buf = buffer_module.DynamosBuffer(4)
    x, y, z, _ = batch(2)
    buf.add_data(x, y, correct=torch.ones(2, dtype=torch.bool), logits=z)
    out = buf.get_data(2)
    assert len(out) == 3 and not hasattr(buf, 'attentions')


def test_buffer_size_must_be_positive(buffer_module):
    with pytest.raises(ValueError, match='positive'):
        buffer_module.DynamosBuffer(0)


def test_serialise_and_load_round_trip(buffer_module):
    buf = buffer_module.DynamosBuffer(6)
    x, y, z, v = batch(9)
    np.random.seed(3)
    buf.add_data(x, y, correct=torch.tensor([True, False] * 4 + [True]), logits=z, attentions=v)
    restored = buffer_module.DynamosBuffer(6)
    restored.load(buf.serialize())
    assert restored.num_seen_examples == 9 and len(restored) == len(buf)
    for name in ('examples', 'labels', 'logits', 'attentions'):
        assert torch.equal(getattr(restored, name), getattr(buf, name))


def test_buffer_never_exceeds_its_size_and_reservoir_is_uniform(buffer_module):
    size, stream, batch = 200, 20000, 10
    np.random.seed(0)
    buf = buffer_module.DynamosBuffer(size)
    for start in range(0, stream, batch):
        x = torch.arange(start, start + batch, dtype=torch.float32)[:, None]
        buf.add_data(x, torch.zeros(batch, dtype=torch.long), correct=torch.ones(batch, dtype=torch.bool))
        assert len(buf) <= size
    assert len(buf) == size and buf.num_seen_examples == stream
    positions = buf.examples[:, 0].long().numpy()
    assert len(set(positions.tolist())) == size  # no sample stored twice
    counts = np.bincount(positions // (stream // 10), minlength=10)  # ten equal slices of the stream
    assert chisquare(counts).pvalue > 0.01  # each slice holds ~20 of the 200 kept samples


def test_buffer_with_half_the_samples_correct(buffer_module):
    size = 100
    np.random.seed(1)
    buf = buffer_module.DynamosBuffer(size)
    for start in range(0, 5000, 10):
        x = torch.arange(start, start + 10, dtype=torch.float32)[:, None]
        correct = torch.arange(start, start + 10) % 2 == 0
        buf.add_data(x, torch.zeros(10, dtype=torch.long), correct=correct)
        assert len(buf) <= size
    kept = buf.examples[buf.written_slots(), 0].long()
    assert bool((kept % 2 == 0).all())  # only correct samples are written
    assert buf.num_seen_examples == 5000


# ---- the reservoir and the writes by hand (each kills a surviving mutant of benchmarks/mutation.py) ----------

def test_reservoir_indices_continue_from_the_samples_seen(buffer_module):
    assert buffer_module.reservoir_indices(5, 3, 10).tolist() == [5, 6, 7]  # not 5 | [0, 1, 2] = [5, 5, 7]


def test_reservoir_draws_by_hand(buffer_module):
    np.random.seed(4)
    index = buffer_module.reservoir_indices(8, 6, 5)  # the buffer is full: samples 8..13 draw in [0, 8] .. [0, 13]
    np.random.seed(4)
    draws = np.random.randint(0, np.arange(8, 14) + 1)
    assert (draws < 5).any() and (draws >= 5).any()  # both cases happen with this seed
    assert index.tolist() == np.where(draws < 5, draws, -1).tolist()  # -1 exactly, for a sample not kept
    # 60 samples, odd and even counts, most of them kept: each slot drawn is visible
    np.random.seed(5)
    index = buffer_module.reservoir_indices(40, 60, 40)
    np.random.seed(5)
    draws = np.random.randint(0, np.arange(40, 100) + 1)
    assert index.tolist() == np.where(draws < 40, draws, -1).tolist()


def test_of_samples_sharing_a_slot_the_later_is_kept_and_others_land_in_theirs(buffer_module, monkeypatch):
    buf = buffer_module.DynamosBuffer(4)
    monkeypatch.setattr(buffer_module, 'reservoir_indices', lambda seen, n, size: np.array([1, 1, 2]))
    x, y, z, v = batch(3)
    buf.add_data(x, y, correct=torch.ones(3, dtype=torch.bool), logits=z, attentions=v)
    assert buf.written_slots().tolist() == [1, 2]
    assert buf.labels[1].item() == 1 and buf.labels[2].item() == 2  # slot 1: the later of samples 0 and 1
    assert torch.equal(buf.logits[1], z[1]) and torch.equal(buf.attentions[2], v[2])


def test_load_keeps_the_count_a_number(buffer_module):
    buf = buffer_module.DynamosBuffer(6)
    x, y, z, v = batch(3)
    buf.add_data(x, y, correct=torch.ones(3, dtype=torch.bool), logits=z, attentions=v)
    restored = buffer_module.DynamosBuffer(6)
    restored.load(buf.serialize())
    assert type(restored.num_seen_examples) is int and restored.num_seen_examples == 3


def test_get_data_moves_to_the_device_asked_for(buffer_module):
    buf = buffer_module.DynamosBuffer(6)
    x, y, z, v = batch(3)
    buf.add_data(x, y, correct=torch.ones(3, dtype=torch.bool), logits=z, attentions=v)
    assert all(t.device.type == 'meta' for t in buf.get_data(2, device=torch.device('meta')))
    assert all(t.device.type == 'cpu' for t in buf.get_data(2))  # the buffer's own device by default


def test_get_data_applies_the_transform_to_the_examples_only(buffer_module):
    buf = buffer_module.DynamosBuffer(6)
    x, y, z, v = batch(3)
    buf.add_data(x, y, correct=torch.ones(3, dtype=torch.bool), logits=z, attentions=v)
    np.random.seed(0)
    ex, lab, logits, _ = buf.get_data(3, transform=lambda t: t * 10 + 1)
    assert torch.equal(ex[:, 0, 0, 0], lab.float() * 10 + 1)  # example k holds the value k
    np.random.seed(0)
    assert torch.equal(buf.get_data(3)[0][:, 0, 0, 0], lab.float())  # no transform: the stored examples


def test_size_must_be_positive_and_one_is_enough(buffer_module):
    for size in (0, -1):
        with pytest.raises(ValueError, match='positive'):
            buffer_module.DynamosBuffer(size)
    assert buffer_module.DynamosBuffer(1).buffer_size == 1


def test_a_checkpoint_round_trip_keeps_the_count_a_number(buffer_module, tmp_path):
    import pickle
    buf = buffer_module.DynamosBuffer(6)
    x, y, z, v = batch(4)
    buf.add_data(x, y, correct=torch.ones(4, dtype=torch.bool), logits=z, attentions=v)
    state = pickle.loads(pickle.dumps(buf.serialize()))  # keys no longer the interned literals
    restored = buffer_module.DynamosBuffer(6)
    restored.load(state)
    assert type(restored.num_seen_examples) is int and restored.num_seen_examples == 4
