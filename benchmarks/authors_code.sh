#!/usr/bin/env bash
# The authors' published Dynamos code (NeurAI-Lab/DynamicContinualLearning, pinned commit) as a
# reproducible anchor: clones it into authors-code/ (git-ignored), runs its main_policy.py with
# the paper's Table 5 arguments, one run at a time, one thread, and writes a record and a log per
# run under results/anchors/authors-code/. Resumable: a run whose record exists is skipped.
# All options are benchmarks/authors_code.py's (--data DIR, --seeds, --cells, --dry-run, --debug S).
#   benchmarks/authors_code.sh --data ../shared/data
# Interpreter: $DYNAMOS_PYTHON, else this repository's .venv/bin/python.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${DYNAMOS_PYTHON:-$ROOT/.venv/bin/python}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
exec "$PY" "$ROOT/benchmarks/authors_code.py" --python "$PY" "$@"
