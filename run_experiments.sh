#!/usr/bin/env bash
# Reproduce the paper's Tables 1 and 2 next to Mammoth's ER, DER and DER++ (see
# dynamos_plugin/experiments.py for the grid, the methods and their settings).
#   ./run_experiments.sh --table 2 -j 2        run Table 2 (Seq-MNIST); finished runs are skipped
#   ./run_experiments.sh --dry-run             list every command
#   ./run_experiments.sh --report              build results/ (tables, plots) from results/records/
#   ./run_experiments.sh --help                all options (filters, Slurm through submitit, ...)
exec "$(dirname "$0")/.venv/bin/python" -m dynamos_plugin.experiments "$@"
