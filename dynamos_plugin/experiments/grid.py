"""The experiments, as data (datasets, methods, the grids of :data:`TABLES`) and the exact Mammoth
command of every run (:class:`Run`, :class:`Settings`)."""

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from dynamos_plugin.experiments.published import MAMMOTH_BEST
from dynamos_plugin.glue.paths import MAMMOTH, REPO, repo_relative

# =============================================================================================
# The experiments, as data
# =============================================================================================


@dataclass(frozen=True)
class DatasetSpec:
    """Dynamos' stream batch size, replay batch size and epochs for a dataset (Table 5)."""
    batch_size: int
    minibatch_size: int
    n_epochs: int
    accuracy: str  # what Mammoth's final accuracy measures for this dataset (axis labels)


DATASETS: Dict[str, DatasetSpec] = {
    'seq-mnist': DatasetSpec(10, 10, 1, 'Class-IL accuracy (%)'),
    'mnist-360': DatasetSpec(16, 16, 1, 'accuracy (%) (Mammoth: Domain-IL, general continual learning)'),
    'seq-svhn32': DatasetSpec(16, 16, 70, 'Class-IL accuracy (%)'),
}


@dataclass(frozen=True)
class Method:
    """How one method is run: which flags it gets besides ``--model``, ``--dataset`` and the seed.

    ``backbone``/``lr``: fixed flags (None: the model's own default). ``batches``: which of
    Dynamos' batch sizes it is given (``''`` none, ``'stream'`` only ``--batch_size``,
    ``'stream+replay'`` also ``--minibatch_size``). ``epochs``: whether it is given Dynamos'
    ``--n_epochs``. ``published``: whether lr/alpha/beta come from
    :data:`~dynamos_plugin.experiments.published.MAMMOTH_BEST`. ``model``: Mammoth's ``--model`` (None:
    the method's own name); ``extra``: more fixed flags. ``in_tables``: whether the tables' grids include it
    (False: run only when named with ``--method``, with Dynamos' seeds of that table).
    """
    label: str
    buffer: bool
    backbone: Optional[str] = None
    lr: Optional[float] = None
    batches: str = ''
    epochs: bool = False
    published: bool = False
    model: Optional[str] = None
    extra: Tuple[str, ...] = ()
    in_tables: bool = True


METHODS: Dict[str, Method] = {
    # Table 5 is the default configuration of the plugin's models: nothing but the buffer size
    'dynamos': Method('Dynamos', buffer=True),
    'msa': Method('multi-scale associations only (Eq. 8)', buffer=True),
    # the static-sparsity control: Eq. 8 on the gated backbone with a fixed random 70 % channel mask per gated
    # convolution instead of agents (Table 5's lr, alpha, beta and batch sizes, from msa's configuration)
    'static': Method('static sparsity (Eq. 8, fixed random masks)', buffer=True, model='msa', backbone='gated-resnet',
                     extra=('--gate', 'static')),
    # the GCL study's variants of the agents (dynamos_plugin/variants/): Table 5's Dynamos plus the flags a study
    # passes with --extra-args; never part of a table, run only when named (results/studies/mnist360-agents/)
    'dynamos-variants': Method('Dynamos with a study variant (--model dynamos-variants)', buffer=True, in_tables=False),
    'sgd': Method('SGD (no buffer)', buffer=False, backbone='ungated-resnet', lr=0.07, batches='stream', epochs=True),
    'er': Method('ER', buffer=True, backbone='ungated-resnet', batches='stream+replay', epochs=True, published=True),
    'der': Method('DER', buffer=True, backbone='ungated-resnet', batches='stream+replay', epochs=True, published=True),
    'derpp': Method('DER++', buffer=True, backbone='ungated-resnet', batches='stream+replay', epochs=True,
                    published=True),
}
#: the methods of the tables, in table order (what the report and the plots show)
TABLE_METHODS: Tuple[str, ...] = tuple(m for m in METHODS if METHODS[m].in_tables)

# the grids: dataset, its number of tasks (a record needs the accuracy line after the last one),
# buffer sizes, number of seeds (0 .. n-1) per method; SGD has one cell, no buffer
TABLES = {
    '2': {'dataset': 'seq-mnist', 'tasks': 5, 'buffers': (500, 1000, 2000),
          'seeds': {'dynamos': 5, 'msa': 5, 'static': 5, 'er': 5, 'der': 5, 'derpp': 5, 'sgd': 5}},
    '1': {'dataset': 'mnist-360', 'tasks': 1, 'buffers': (100, 200, 500),
          'seeds': {'dynamos': 5, 'msa': 5, 'static': 5, 'sgd': 5, 'er': 3, 'der': 3, 'derpp': 3}},
    'svhn': {'dataset': 'seq-svhn32', 'tasks': 5, 'buffers': (500, 1000, 2000),
             'seeds': {'dynamos': 3, 'er': 3, 'der': 3, 'derpp': 3, 'sgd': 3}},
}
DEFAULT_TABLES = ('2', '1')  # Seq-SVHN does not fit on a CPU: only when asked for


# =============================================================================================
# The grid and the commands
# =============================================================================================

def nearest_published(dataset: str, method: str, buffer: int) -> int:
    """The published buffer size whose settings a run takes: the nearest one (ties: the smaller)."""
    return min(MAMMOTH_BEST[dataset, method], key=lambda b: (abs(b - buffer), b))


@dataclass(frozen=True)
class Run:
    """One cell and seed of a grid: a single ``mammoth/main.py`` invocation."""
    table: str
    dataset: str
    method: str
    buffer: Optional[int]  # None for SGD
    seed: int

    @property
    def name(self) -> str:
        return f'{self.dataset}__{self.method}__buf{self.buffer or 0}__seed{self.seed}'

    def mammoth_args(self, base_path: str) -> List[str]:
        """The arguments of ``mammoth/main.py`` for this run (without the output paths)."""
        method, data = METHODS[self.method], DATASETS[self.dataset]
        args = ['--model', method.model or self.method, '--dataset', self.dataset]
        if method.buffer:
            args += ['--buffer_size', str(self.buffer)]
        if method.backbone:
            args += ['--backbone', method.backbone]
        args += list(method.extra)
        if method.lr is not None:
            args += ['--lr', str(method.lr)]
        if method.batches:
            args += ['--batch_size', str(data.batch_size)]
        if method.batches == 'stream+replay':
            args += ['--minibatch_size', str(data.minibatch_size)]
        if method.epochs:
            args += ['--n_epochs', str(data.n_epochs)]
        if method.published:
            for key, value in MAMMOTH_BEST[self.dataset, self.method][
                    nearest_published(self.dataset, self.method, self.buffer)].items():
                args += [f'--{key}', str(value)]
        return args + ['--seed', str(self.seed), '--base_path', base_path]


def grid(tables: Sequence[str] = DEFAULT_TABLES, datasets=None, methods=None, buffers=None, seeds=None) -> List[Run]:
    """The runs of the given tables, in table, method, buffer, seed order, keeping those that pass the filters.

    A filter left None keeps everything. SGD's single cell has no buffer: a buffer filter drops it. A method outside
    the tables (:attr:`Method.in_tables` False) comes only when ``methods`` names it, with Dynamos' seeds.
    """
    runs = []
    for table in tables:
        spec = TABLES[table]
        named = {m: spec['seeds']['dynamos'] for m in (methods or ()) if not METHODS[m].in_tables}
        for method, n_seeds in {**spec['seeds'], **named}.items():
            for buffer in (spec['buffers'] if METHODS[method].buffer else (None,)):
                for seed in range(n_seeds):
                    run = Run(table, spec['dataset'], method, buffer, seed)
                    if ((datasets and run.dataset not in datasets) or (methods and run.method not in methods)
                            or (buffers and run.buffer not in buffers) or (seeds is not None and run.seed not in seeds)):
                        continue
                    runs.append(run)
    return runs


def default_mammoth_cmd() -> List[str]:
    """``$DYNAMOS_MAMMOTH_CMD`` if set, else ``<repo>/.venv/bin/python <repo>/mammoth/main.py``."""
    if os.environ.get('DYNAMOS_MAMMOTH_CMD'):
        return shlex.split(os.environ['DYNAMOS_MAMMOTH_CMD'])
    venv_python = REPO / '.venv' / 'bin' / 'python'
    return [str(venv_python) if venv_python.exists() else sys.executable, str(MAMMOTH / 'main.py')]


@dataclass
class Settings:
    """Where a grid's data, logs and records go, and how Mammoth is launched.

    ``base_path`` is the data folder as the user gave it (what records hold); ``data_dir`` is the
    folder Mammoth is handed, made absolute because Mammoth changes directory into ``mammoth/``
    (None: ``base_path`` made absolute against the current directory).
    """
    base_path: str
    runs_dir: Path
    results_dir: Path
    mammoth_cmd: List[str] = field(default_factory=default_mammoth_cmd)
    threads: int = 1
    extra_args: List[str] = field(default_factory=list)
    data_dir: Optional[str] = None

    def record_path(self, run: Run) -> Path:
        return self.results_dir / 'records' / f'{run.name}.json'

    def run_dir(self, run: Run) -> Path:
        return self.runs_dir / f'table{run.table}' / run.dataset / run.method / f'buf{run.buffer or 0}' / f'seed{run.seed}'

    def command(self, run: Run) -> List[str]:
        """The full command line of a run, exactly as it is executed (absolute paths)."""
        return self._command(run, os.path.abspath(self.data_dir or self.base_path), str)

    def recorded_command(self, run: Run) -> List[str]:
        """The command line as records hold it: paths inside the repository relative to its root, the data
        folder as given; the extra arguments as given."""
        return self._command(run, self.base_path, repo_relative)

    def _command(self, run: Run, base_path: str, show: Callable[[str], str]) -> List[str]:
        return ([show(part) for part in self.mammoth_cmd] + run.mammoth_args(base_path) + list(self.extra_args)
                + ['--results_path', show(str(self.run_dir(run) / 'mammoth')), '--non_verbose', '1'])
