#!/usr/bin/env bash
# Reproduce the paper's Tables 1 and 2 next to Mammoth's ER, DER and DER++: a thin entry point for
# python -m dynamos_plugin.experiments (the grids, the methods and their settings are documented in
# dynamos_plugin/experiments/__init__.py).
#
#   ./run_experiments.sh --table 2 -j 2        Table 2 (Seq-MNIST), 2 runs at a time, records in runs/results/ (yours,
#                                              git-ignored); finished runs are skipped, interrupted or failed ones
#                                              redone from scratch
#   ./run_experiments.sh --table 1 --method dynamos --buffer 500 --seed 0     one run of Table 1 (MNIST-360)
#   ./run_experiments.sh --dry-run             print every command of the selection, run nothing
#   ./run_experiments.sh --report --results-dir runs/results
#                                              your report (runs/results/report/), each cell beside the committed
#                                              reference (results/) and the paper
#   ./run_experiments.sh --report              the committed report, results/report/: table1, table2, table_svhn
#                                              (.md, .csv, .tex), comparison.md and plots/, from results/records/ only
#   ./run_experiments.sh --table 2 --executor slurm --slurm-partition gpu --slurm-gpus 1 --slurm-time 120
#                                              one Slurm job per run through submitit
#   ./run_experiments.sh --measure-svhn-epoch  time one Seq-SVHN epoch (synthetic data; heavy), project the grid
#                                              (runs/results/benchmarks/svhn_epoch_time.json)
#
# Selection (repeatable): --table 1|2|svhn, --dataset, --method dynamos|msa|sgd|er|der|derpp, --buffer, --seed.
# Order: cell by cell; --seeds-first runs seed 0 of every cell, then seed 1, ...
# Paths: --results-dir (records/, report/, benchmarks/; default runs/results/, yours; --report alone: results/, the
# committed reference, which is updated only with an explicit --results-dir results), --runs-dir (logs; default
# runs/), --base_path or --base-path (data; default $DYNAMOS_DATA, else <repo>/data; recorded as given, the default as "data").
# Records hold paths inside the repository relative to its root. Other: --threads, --extra-args "ARGS" (added to
# every Mammoth run), --python CMD (what runs Mammoth; default .venv/bin/python mammoth/main.py). Exit status: 0
# when every run succeeded, 1 when any failed (its reason on the console; its log and failed.json stay in its run
# folder), 130 when interrupted.
# All options: ./run_experiments.sh --help
exec "$(dirname "$0")/.venv/bin/python" -m dynamos_plugin.experiments "$@"
