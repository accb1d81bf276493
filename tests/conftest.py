"""Every shared fixture and helper of the suite, defined once: Mammoth on sys.path with the plugin registered,
generated MNIST and SVHN, a checkpoint trained in a subprocess, Mammoth runs in a subprocess, models built
in-process, stand-ins for the losses, a Dynamos log; and the `slow` marker.

``tests/unit/`` holds the in-process tests (no subprocess of ours): ``pytest -m "not slow"`` runs them alone.
``tests/integration/`` holds the tests that start Mammoth or another program in a subprocess, directly or
through a fixture (``checkpoint``); `pytest_collection_modifyitems` marks every one of them ``slow``.
Both folders and their subfolders are packages (a test file may have the same name in both): a new
subfolder needs an ``__init__.py``. This folder itself is on ``sys.path``: ``from conftest import ...``.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

from dynamos_plugin.glue.paths import MAMMOTH, REPO
from dynamos_plugin.glue.mammoth_log import parse_log

PYTHON = sys.executable
PINNED_COMMIT = 'e75a491c69fd729edeb01431afb753d9157d9a81'
#: the tests that start Mammoth or another program in a subprocess (marked `slow`)
INTEGRATION = Path(__file__).resolve().parent / 'integration'
#: the start of a Dynamos command line on Seq-MNIST (``BASE`` or ``DYNAMOS`` where the test files import it)
DYNAMOS_SEQ_MNIST = ['--model', 'dynamos', '--dataset', 'seq-mnist']


def pytest_collection_modifyitems(config, items):
    """Marks every test under tests/integration/ `slow` (registered in setup.cfg, ``--strict-markers``)."""
    for item in items:
        if Path(item.path).resolve().is_relative_to(INTEGRATION):
            item.add_marker(pytest.mark.slow)


# ---- Mammoth in a subprocess ------------------------------------------------------------------

def parse_accuracy(text: str):
    """The last Mammoth accuracy line of a log: ``(number of tasks, setting, accuracy)``, or None."""
    parsed = parse_log(text)
    return None if parsed is None else (parsed['n_tasks'], parsed['setting'], parsed['accuracy'])


#: every subprocess timeout of the suite is a guard against a hang, never a measure of speed: a loaded 2-core machine
#: (two training runs beside the suite) stretches a 5-minute test run past 10 minutes, so each stated timeout is
#: multiplied by this factor (``DYNAMOS_TEST_TIMEOUT_FACTOR``; issue 26: no test fails by chance)
TIMEOUT_FACTOR = float(os.environ.get('DYNAMOS_TEST_TIMEOUT_FACTOR', '6'))


def hang_guard(seconds: float) -> float:
    """The wall-clock timeout of a subprocess that takes ``seconds`` on a busy machine: ``seconds x TIMEOUT_FACTOR``."""
    return seconds * TIMEOUT_FACTOR


def run_mammoth(args, tmp_path, timeout=600):
    """Runs ``mammoth/main.py ARGS`` in a subprocess from the repository root; returns the CompletedProcess.
    ``timeout`` is scaled by :func:`hang_guard`."""
    env = dict(os.environ, MAMMOTH_TEST='1', PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2')
    cmd = [PYTHON, str(MAMMOTH / 'main.py'), *map(str, args),
           '--results_path', str(tmp_path / 'results'), '--non_verbose', '1']
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=hang_guard(timeout))
    proc.log = proc.stdout + proc.stderr
    return proc


# ---- Mammoth in-process, generated data, a trained checkpoint ------------------------------------

@pytest.fixture(scope='session')
def mammoth_imported():
    """Mammoth importable by its top-level names (as main.py does), with the plugins registered.

    Mammoth finds its own modules and configuration files relative to the working directory
    (importing its `models` package chdirs into mammoth/), so in-process tests run from there.
    """
    cwd = os.getcwd()
    if str(MAMMOTH) not in sys.path:
        sys.path.insert(0, str(MAMMOTH))
    os.chdir(MAMMOTH)
    from utils import setup_logging
    from utils.plugins import load_plugins
    # Mammoth's logging setup removes the root logger's handlers the first time it runs (once per
    # process): run it now, so that it never removes a test's `caplog` handler mid-test
    setup_logging()
    yield load_plugins()
    os.chdir(cwd)


@pytest.fixture(scope='session')
def mnist_dir(tmp_path_factory):
    """A small generated MNIST in the standard layout ``<dir>/MNIST/raw/``: 500 train and 200 test images."""
    from idx_data import write_mnist_idx
    root = tmp_path_factory.mktemp('mnist')
    write_mnist_idx(root, n_train=500, n_test=200, seed=0)
    return root


def write_svhn(folder, n, seed):
    """SVHN-format .mat: X (32, 32, 3, n) uint8, y (n, 1) with labels 1..10 (10 is digit 0)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    x = rng.integers(0, 60, size=(32, 32, 3, n), dtype=np.uint8)
    for i, label in enumerate(labels):  # a class-specific bright stripe
        x[3 * label:3 * label + 3, :, :, i] = 250
    return x, np.where(labels == 0, 10, labels)[:, None]


@pytest.fixture(scope='module')
def svhn_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('svhn')
    (root / 'SVHN').mkdir()
    for split, n in (('train', 200), ('test', 100)):
        x, y = write_svhn(root, n, seed=len(split))
        scipy.io.savemat(root / 'SVHN' / f'{split}_32x32.mat', {'X': x, 'y': y})
    return root


@pytest.fixture(scope='session')
def checkpoint(mnist_dir, tmp_path_factory):
    """A Dynamos checkpoint that `mammoth/main.py --savecheck last` saved after a short run on the generated MNIST
    (shared by the analysis and the BatchNorm-check tests).

    One thread: on this 2-core machine, with other training runs under way, two OpenMP threads per
    process make the run about ten times slower. `--debug_mode 1` stops each task after a few steps.
    """
    tmp = tmp_path_factory.mktemp('analysis')
    env = dict(os.environ, MAMMOTH_TEST='1', PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    cmd = [sys.executable, str(REPO / 'mammoth' / 'main.py'), '--model', 'dynamos', '--warmup', '2',
           '--dataset', 'seq-mnist', '--buffer_size', '50', '--seed', '0', '--base_path', str(mnist_dir),
           '--debug_mode', '1', '--num_workers', '0', '--savecheck', 'last', '--checkpoint_path', str(tmp / 'ckpt'),
           '--ckpt_name', 'run', '--results_path', str(tmp / 'results'), '--non_verbose', '1']
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=hang_guard(300))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-2000:]
    saved = list((tmp / 'ckpt').glob('run_*_last.pt'))  # Mammoth appends model, dataset, buffer, time to the name
    assert len(saved) == 1, list((tmp / 'ckpt').iterdir())
    return saved[0]


@pytest.fixture
def one_thread():
    """torch and the OpenMP/BLAS pools of sklearn on one thread while the test runs (see `checkpoint`)."""
    from threadpoolctl import threadpool_limits
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)


def build_model(cmd):
    """Parses a Mammoth command line and builds model and dataset in-process, as `mammoth/main.py` does
    (needs the `mammoth_imported` fixture); returns ``(model, dataset, args)``.

    The data loaders read in this process (``--num_workers 0`` unless the command says otherwise): Mammoth's
    default, a worker process per core, costs seconds per loader on this 2-core machine, and the workers of
    a loader a test leaves behind are joined when pytest exits, up to 5 s each (torch's join timeout).
    """
    import main
    cmd = list(cmd) + ([] if '--num_workers' in cmd else ['--num_workers', '0'])
    args = main.parse_args([str(c) for c in cmd])
    model, dataset, args = main.initialize(args)
    model.net.to(model.device)
    return model, dataset, args


# ---- driving `observe` by hand (tests/unit/test_dynamos.py, test_msa.py) -----------------------

def constants(*values):
    """A stand-in for a loss function that returns ``values`` in turn (as leaves, so `backward` works)
    and records the arguments it was called with."""
    calls = []

    def fake(*args, **kwargs):
        calls.append(args)
        return torch.tensor(values[len(calls) - 1], requires_grad=True)
    fake.calls = calls
    return fake


def fill_buffer(model, n=20, n_attention=None):
    """Writes ``n`` samples, all correct, into the model's buffer (logits and, if given, attention vectors)."""
    x = torch.rand(n, 1, 28, 28)
    attentions = None if n_attention is None else torch.randn(n, n_attention)
    model.buffer.add_data(examples=x, labels=torch.arange(n) % 10, correct=torch.ones(n, dtype=torch.bool),
                          logits=torch.randn(n, 10), attentions=attentions)


def task_batches(model, dataset):
    """Starts a task as Mammoth's training loop does (its loaders, ``meta_begin_task``, train mode) and returns an
    iterator over the task's stream batches: (inputs, labels, not-augmented inputs)."""
    train_loader, _ = dataset.get_data_loaders()
    model.meta_begin_task(dataset)
    model.net.train()
    return (tuple(batch[:3]) for batch in train_loader)


def stream_batch(dataset):
    train_loader, _ = dataset.get_data_loaders()
    x, y, x0 = next(iter(train_loader))[:3]
    return x, y, x0


# ---- a Dynamos log with the agents' statistics (tests/unit/test_stats.py, diagnostics/test_agent_trace.py)

TRACE_LOG = """\
[INFO] 25-Nov-26 01:00:00 - Dynamos task 1, steps up to 260: mean keep ratio per agent [0.600 0.650 0.700 0.750] \
over 250 steps; thresholded [0.800 0.850 0.900 0.950]; undecided p [0.500 0.400 0.300 0.200]; train accuracy 0.8125; \
mean losses: ce=0.5000 policy=-3.0000 prototype=0.3000 buf_ce=0.4000 buf_policy=-2.0000 buf_prototype=0.1000 \
consistency_z=2.0000 consistency_v=0.0800 total=-1.5000; buffer 100/500
[INFO] 25-Nov-26 01:01:00 - Dynamos task 1, steps up to 300: mean keep ratio per agent [0.690 0.690 0.690 0.690] \
over 40 steps; thresholded [0.700 0.700 0.700 0.700]; undecided p [0.100 0.100 0.100 0.100]; train accuracy 0.9000; \
mean losses: ce=0.2000 policy=-1.0000 prototype=0.2000 buf_ce=0.3000 buf_policy=-1.0000 buf_prototype=0.1000 \
consistency_z=1.0000 consistency_v=0.0500 total=-0.5000; buffer 150/500
[INFO] 25-Nov-26 01:01:00 - Dynamos task 1: mean keep ratio per agent [0.612 0.655 0.699 0.744] over 290 steps; \
thresholded [0.786 0.829 0.873 0.916]; undecided p [0.445 0.359 0.272 0.186]; train accuracy 0.8250; \
mean losses: ce=0.4586 policy=-2.7241 prototype=0.2862 buf_ce=0.3862 buf_policy=-1.8621 buf_prototype=0.1000 \
consistency_z=1.8621 consistency_v=0.0759 total=-1.3621; buffer 150/500
Accuracy for 1 task(s): \t [Domain-IL]: 77.50 %
"""


def record_outputs(model):
    """Wraps the network's forward so that every output of a training step is kept."""
    outputs, forward = [], model.net.forward

    def recording(*args, **kwargs):
        out = forward(*args, **kwargs)
        outputs.append(out)
        return out
    model.net.forward = recording
    return outputs


def dynamos_step(mnist_dir, *flags, warm_call=False, evaluate=False):
    """Builds Dynamos (Seq-MNIST, seed 0) with ``flags``, fills its buffer and takes one seeded step; returns
    ``(model, loss, outputs, grads, evaluation)``: the step's forward outputs (stream, then buffer), the gradient of
    every parameter that has one, and, with ``evaluate``, the agents' outputs in evaluation mode (else None).

    ``warm_call``: call the network once before the step (with ``--compile 1``, the first call decides whether to
    compile and runs eagerly), and once in evaluation mode before the evaluation that is returned.
    """
    model, dataset, _ = build_model(['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '50',
                                     '--warmup', '0', '--seed', '0', '--base_path', mnist_dir, *flags])
    x, y, x0 = stream_batch(dataset)
    model.meta_begin_task(dataset)
    model.net.train()
    torch.manual_seed(3)
    fill_buffer(model, n_attention=4 * 64)
    if warm_call:
        model.net(x)
    outputs = record_outputs(model)
    torch.manual_seed(5)
    np.random.seed(5)  # the buffer's draw
    loss = model.meta_observe(x, y, x0, epoch=0)
    grads = {name: p.grad.clone() for name, p in model.net.named_parameters() if p.grad is not None}
    evaluation = None
    if evaluate:
        model.net.eval()
        with torch.no_grad():
            if warm_call:
                model.net(x)  # the evaluation graph's first call
            evaluation = model.net(x, returnt='agents')
    return model, loss, outputs, grads, evaluation
