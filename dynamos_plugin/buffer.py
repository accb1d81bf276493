"""
The memory buffer of Dynamos (paper Section 3.2).

Reservoir sampling (Vitter, 1985) over the stream, with the paper's rule: only samples
the network classified correctly at that step are written. As in the authors' code, every
stream sample draws its reservoir index and counts as seen; a misclassified sample simply
writes nothing. While the buffer fills, some slots can therefore stay unwritten: unlike the
authors' code (which replayed those zero slots), they are never replayed here. A slot is
unwritten while its label is -1, so the state stays in the tensors Mammoth serialises.
"""

from typing import Optional

import numpy as np
import torch

from utils.augmentations import apply_transform
from utils.buffer import Buffer

from dynamos_plugin.argtypes import positive_int


def add_buffer_args(parser) -> None:
    """The rehearsal flags of Mammoth's ``add_rehearsal_args`` (same names and meaning), which must be positive here:
    a buffer of 0 is an error at parse time, not a silent no-op."""
    parser.add_argument('--buffer_size', type=positive_int, required=True, help='The size of the memory buffer (> 0).')
    parser.add_argument('--minibatch_size', type=positive_int,
                        help='The batch size of the memory buffer (> 0).')


def reservoir_indices(num_seen: int, batch_size: int, buffer_size: int) -> np.ndarray:
    """Reservoir slots for the next ``batch_size`` stream samples, -1 for a sample that is not kept.

    The ``k``-th sample of the batch is the ``num_seen + k``-th of the stream: it takes slot
    ``num_seen + k`` while the buffer is not full, and otherwise a slot drawn uniformly in
    ``[0, num_seen + k]``, kept if it falls inside the buffer (one vectorised draw for the batch).
    """
    seen = num_seen + np.arange(batch_size)
    index = seen.copy()
    full = seen >= buffer_size
    if full.any():
        draws = np.random.randint(0, seen[full] + 1)
        index[full] = np.where(draws < buffer_size, draws, -1)
    return index


class DynamosBuffer(Buffer):
    """Mammoth's reservoir :class:`~utils.buffer.Buffer`, storing attention vectors and writing only correct samples.

    ``get_data`` returns ``(examples, labels, logits, attentions)`` for the attributes that were
    given to ``add_data`` (the Eq. 8 baseline stores no attention vectors).
    """

    def __init__(self, buffer_size: int, device='cpu') -> None:
        if buffer_size <= 0:
            raise ValueError(f'the buffer size must be positive, got {buffer_size}')
        super().__init__(buffer_size, device)
        self.attributes = self.attributes + ['attentions']

    def init_tensors(self, examples, labels, logits, task_labels, true_labels, attentions=None) -> None:
        size = self.buffer_size
        self.examples = torch.zeros((size, *examples.shape[1:]), dtype=torch.float32, device=self.device)
        self.labels = torch.full((size,), -1, dtype=torch.int64, device=self.device)  # -1: never written
        if logits is not None:
            self.logits = torch.zeros((size, *logits.shape[1:]), dtype=torch.float32, device=self.device)
        if attentions is not None:
            self.attentions = torch.zeros((size, *attentions.shape[1:]), dtype=torch.float32, device=self.device)

    def add_data(self, examples: torch.Tensor, labels: torch.Tensor, correct: torch.Tensor,
                 logits: Optional[torch.Tensor] = None, attentions: Optional[torch.Tensor] = None) -> None:
        """Counts every sample in the reservoir and writes the correctly classified ones that drew a slot.

        When two samples of one batch draw the same slot, the later one is kept, as in a sample-by-sample loop.
        """
        if not hasattr(self, 'examples'):
            self.init_tensors(examples, labels, logits, None, None, attentions)
        n = examples.shape[0]
        index = reservoir_indices(self.num_seen_examples, n, self.buffer_size)
        self.num_seen_examples += n
        write = (index >= 0) & correct.detach().cpu().numpy().astype(bool)
        rows = np.flatnonzero(write)
        if rows.size == 0:
            return
        slots = index[rows]
        # keep the last of the rows that share a slot
        _, last = np.unique(slots[::-1], return_index=True)
        rows = rows[rows.size - 1 - last]
        slots = torch.as_tensor(index[rows], device=self.device)
        rows = torch.as_tensor(rows, device=examples.device)
        self.examples[slots] = examples[rows].to(self.device, torch.float32)
        self.labels[slots] = labels[rows].to(self.device)
        if logits is not None:
            self.logits[slots] = logits[rows].detach().to(self.device, torch.float32)
        if attentions is not None:
            self.attentions[slots] = attentions[rows].detach().to(self.device, torch.float32)

    def written_slots(self) -> torch.Tensor:
        """Indices of the slots that hold a sample."""
        if not hasattr(self, 'labels'):
            return torch.zeros(0, dtype=torch.int64)
        return torch.nonzero(self.labels >= 0).squeeze(1)

    def __len__(self) -> int:
        return int(self.written_slots().numel())

    def is_empty(self) -> bool:
        return len(self) == 0

    def get_data(self, size: int, transform=None, device=None) -> tuple:
        """A random batch of ``size`` written slots (fewer if fewer are written), drawn without replacement.

        Returns ``(examples, labels[, logits][, attentions])`` on ``device``, in that order, with
        ``transform`` (if any) applied to the examples.
        """
        written = self.written_slots().cpu().numpy()
        choice = torch.from_numpy(np.random.choice(written, size=min(size, written.size), replace=False))
        choice = choice.to(self.device)
        device = self.device if device is None else device
        examples = self.examples[choice]
        if transform is not None:
            examples = apply_transform(examples, transform=transform)
        return (examples.to(device),) + tuple(getattr(self, name)[choice].to(device) for name in self.attributes[1:]
                                              if hasattr(self, name))

    def serialize(self, out_device='cpu') -> dict:
        """The buffer's tensors and its reservoir count, as Mammoth saves them in a checkpoint."""
        state = super().serialize(out_device)
        state['num_seen_examples'] = torch.tensor(self.num_seen_examples)
        return state

    def load(self, state) -> None:
        """Restores a buffer saved by :meth:`serialize` (``safe`` checkpoints) or pickled whole (``old_pickle``)."""
        if isinstance(state, Buffer):
            state = state.serialize()
        for name, value in state.items():
            if name == 'num_seen_examples':
                self.num_seen_examples = int(value)
            else:
                setattr(self, name, value.to(self.device))


class LoadsBuffer:
    """For a model whose ``buffer`` is a :class:`DynamosBuffer`: Mammoth's ``--loadcheck`` restores it."""

    def load_buffer(self, buffer) -> None:
        """Restores the buffer from a Mammoth checkpoint (called by ``--loadcheck``)."""
        self.buffer.load(buffer)
