#!/usr/bin/env bash
# The runs of the MNIST-360 agents study (issue 16; README.md beside this file): MNIST-360, buffer 500, seeds 0-2 per
# arm, each arm through the runner into its own records folder here. The arms (method and flags) are data, in
# arms.json beside this file. Resumable: finished runs are skipped.
#
#   results/studies/mnist360-agents/run_study.sh [ARM ...]      (default: every arm of arms.json; from the repo root)
#
# The agents arms run `--model dynamos-variants` (dynamos_plugin/variants/: the paper's Dynamos plus the study's flags;
# without a variant flag it trains bit for bit as `--model dynamos`). The committed records of this page were made before
# that model existed, with `--model dynamos` plus the same flags (their names say `dynamos`); a re-run of an arm writes
# `mnist-360__dynamos-variants__...` records, into STUDY_RESULTS/<arm> (default: this folder).
#
# Data: --base-path ../shared/data (override with DYNAMOS_STUDY_DATA). Two runs at a time (STUDY_WORKERS), one thread
# each: every worker walks the whole list and takes the runs nobody else is running (the runner's locks). SEEDS
# (default "0 1 2") selects seeds.
set -euo pipefail
cd "$(dirname "$0")/../../.."
STUDY=results/studies/mnist360-agents
RESULTS=${STUDY_RESULTS:-$STUDY}
DATA=${DYNAMOS_STUDY_DATA:-../shared/data}
# one line per arm: name <TAB> method <TAB> flags
mapfile -t LINES < <(.venv/bin/python -c '
import json, sys
for arm in json.load(open(sys.argv[1]))["arms"]:
    print(arm["name"], arm["method"], arm["flags"], sep="\t")' "$STUDY/arms.json")
declare -A METHOD FLAGS
ARMS=()
for line in "${LINES[@]}"; do
  IFS=$'\t' read -r name method flags <<< "$line"
  METHOD[$name]=$method; FLAGS[$name]=$flags; ARMS+=("$name")
done
[ $# -gt 0 ] && ARMS=("$@")
for arm in "${ARMS[@]}"; do
  [ -n "${METHOD[$arm]+set}" ] || { echo "unknown arm: $arm (known: ${!METHOD[*]})" >&2; exit 2; }
done
worker() {
  for arm in "${ARMS[@]}"; do
    for seed in ${SEEDS:-0 1 2}; do
      ./run_experiments.sh --table 1 --method "${METHOD[$arm]}" --buffer 500 --seed "$seed" \
          --extra-args="${FLAGS[$arm]}" --base-path "$DATA" -j 1 --threads 1 \
          --runs-dir "runs/mnist360-agents/$arm" --results-dir "$RESULTS/$arm" || true
    done
  done
}
for ((w = 0; w < ${STUDY_WORKERS:-2}; w++)); do worker & sleep 5; done
wait
