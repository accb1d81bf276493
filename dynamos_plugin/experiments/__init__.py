"""
Reproduce the paper's Tables 1 and 2, side by side with Mammoth's ER, DER and DER++.

Every run is one ``mammoth/main.py`` process. Its log goes to ``runs/table<T>/<dataset>/<method>/
buf<B>/seed<S>/log.txt``; when it exits 0 with a final accuracy line, a parsed record (final and
per-task accuracies, wall time, arguments, seed, commits, hardware) is written atomically to
``<results>/records/<dataset>__<method>__buf<B>__seed<S>.json``. A run with a record is never redone;
a run without one (interrupted, failed) is redone from scratch, so an interrupted grid resumes
where it stopped. A failed run's console line gives its reason and Mammoth's error line (``exit code
1: ValueError: ...``). While a run is under way, ``runs/.../seed<S>.lock`` keeps other runners off it;
its runner removes it when the run is over.

Two results folders (``--results-dir``):

- ``runs/results/`` (``<runs-dir>/results``, git-ignored), the default for running, ``--dry-run`` and
  ``--measure-svhn-epoch``: the user's own records, so that a fresh clone runs the whole grid;
- ``results/``, committed: the reference this repository publishes (the records of both grids, their
  report). Whoever updates it passes ``--results-dir results`` explicitly.

``--report`` builds ``<results>/report/`` from the records alone: the tables as Markdown, CSV and LaTeX
(booktabs), ``comparison.md`` and the plots. Without ``--results-dir`` it rebuilds the committed
report from ``results/records``; ``--report --results-dir runs/results`` builds the user's report, each
cell beside the committed reference's (``--reference-dir``, default ``results/``) and the paper's.
``--measure-svhn-epoch`` writes ``<results>/benchmarks/svhn_epoch_time.json``, which the report quotes.

A record names no machine: its ``command`` and ``log`` hold paths inside the repository relative to
the repository root, and the data folder as it was given (``--base_path``; the default,
``$DYNAMOS_DATA`` or else ``<repo>/data``, the README's folder, as ``$DYNAMOS_DATA`` is set or as
``data``; the committed records say ``../shared/data``, the folder they were run with). The process
itself gets absolute paths (Mammoth changes directory into ``mammoth/``).

Usage (through ``./run_experiments.sh``, which runs ``python -m dynamos_plugin.experiments`` with the
repository's venv)::

    ./run_experiments.sh --table 2 -j 2             # Table 2 (Seq-MNIST), two runs at a time -> runs/results/
    ./run_experiments.sh --table 1 --method dynamos --buffer 500 --seed 0
    ./run_experiments.sh --dry-run                   # list the commands of the whole grid
    ./run_experiments.sh --report --results-dir runs/results   # your report, beside the committed reference
    ./run_experiments.sh --report                    # the committed report, from results/records
    ./run_experiments.sh --table 2 --executor slurm --slurm-partition gpu --slurm-gpus 1
    ./run_experiments.sh --measure-svhn-epoch        # time one Seq-SVHN epoch, project the grid
    ./run_experiments.sh --table 2 --results-dir results   # update the committed reference grid

Grids (:data:`~dynamos_plugin.experiments.grid.TABLES`): ``--table 2`` is Seq-MNIST, buffers
500/1000/2000, 5 seeds of Dynamos, the Eq. 8 baseline (msa), the static-sparsity control, ER, DER,
DER++ and SGD (no buffer: one cell); ``--table 1`` is MNIST-360, buffers 100/200/500, 5 seeds of
Dynamos, the Eq. 8 baseline, the static-sparsity control and SGD, 3 seeds of ER, DER and DER++; ``--table svhn`` is Seq-SVHN (32x32), buffers 500/1000/2000, 3 seeds (supported,
not run on CPU).

Methods (one place, as data: ``METHODS`` and ``DATASETS`` in :mod:`~dynamos_plugin.experiments.grid`,
``MAMMOTH_BEST`` in :mod:`~dynamos_plugin.experiments.published`). All use the reduced ResNet-18 of the
paper (``gated-resnet`` for Dynamos, its un-gated twin ``ungated-resnet`` for every other method),
Dynamos' batch size, replay batch size and epochs (Table 5):

- ``dynamos``: ``--model dynamos`` and nothing else: Table 5 is its default configuration;
- ``msa``: the Table 1 baseline, Eq. 8 (``--model msa``, same default-configuration mechanism);
- ``sgd``: ``--model sgd``, no buffer, lr 0.07 as Dynamos, Dynamos' batch size and epochs;
- ``er``, ``der``, ``derpp``: Mammoth's models with the learning rate and loss weights (lr,
  alpha, beta) that Mammoth published for the dataset and buffer size in
  ``mammoth/utils/best_args.py``. Choices made here:

  * buffer sizes Mammoth has no setting for take the settings of the **nearest published buffer
    size** (ties: the smaller): Seq-MNIST 1000 and 2000 take those of 500 (published: 200, 500,
    5120), MNIST-360 100 takes those of 200 (published: 200, 500, 1000);
  * Seq-SVHN (32x32) has no published setting; it takes Seq-CIFAR-10's (same image size and
    split into 5 tasks of 2 classes), by the same nearest-buffer rule (500 for 1000 and 2000);
  * Mammoth's published ``batch_size``, ``minibatch_size`` and ``n_epochs`` are **not** used:
    they are replaced by Dynamos' (10/10 Seq-MNIST, 16/16 MNIST-360 and Seq-SVHN; 1 epoch, 70
    for Seq-SVHN) so that every method sees the same stream batches and the same replay batch
    size; only lr, alpha and beta come from Mammoth.

The Mammoth command is ``<repo>/.venv/bin/python <repo>/mammoth/main.py`` (or this Python when
there is no venv); ``--python CMD`` or the environment variable ``DYNAMOS_MAMMOTH_CMD`` replace it
(the tests substitute a tiny script). Each run gets ``OMP_NUM_THREADS`` = cores / jobs (``--threads``).

Modules: :mod:`~dynamos_plugin.experiments.grid` (datasets, methods, grids, the exact commands),
:mod:`~dynamos_plugin.experiments.published` (the paper's numbers, Mammoth's best arguments),
:mod:`~dynamos_plugin.experiments.records` (provenance, paths as recorded, reading and writing records),
:mod:`~dynamos_plugin.experiments.execute` (one run), :mod:`~dynamos_plugin.experiments.launch` (many:
local pool or submitit), :mod:`~dynamos_plugin.experiments.report` (the report's pages),
:mod:`~dynamos_plugin.experiments.cells` (a cell: mean ± std over seeds, the paper's number),
:mod:`~dynamos_plugin.experiments.formats` (a table as Markdown, CSV, LaTeX),
:mod:`~dynamos_plugin.experiments.plots` (accuracy against buffer size),
:mod:`~dynamos_plugin.experiments.svhn_timing` (the Seq-SVHN epoch), ``__main__`` (the command line).
"""
