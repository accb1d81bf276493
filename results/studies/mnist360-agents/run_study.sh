#!/usr/bin/env bash
# The runs of the MNIST-360 agents study (issue 16; README.md beside this file): MNIST-360, buffer 500, seeds 0-2 per
# arm, each arm through the runner into its own records folder here. Resumable: finished runs are skipped.
#
#   results/studies/mnist360-agents/run_study.sh [ARM ...]      (default: every arm, in this order; from the repo root)
#
# Data: --base-path ../shared/data (override with DYNAMOS_STUDY_DATA). Two runs at a time (STUDY_WORKERS), one thread
# each: every worker walks the whole list and takes the runs nobody else is running (the runner's locks).
set -euo pipefail
cd "$(dirname "$0")/../../.."
STUDY=results/studies/mnist360-agents
DATA=${DYNAMOS_STUDY_DATA:-../shared/data}
DRIFT="--drift_every 100"   # measurement only: the run trains exactly as without it (tests/unit/test_variants.py)

declare -A METHOD=([static]=static [eq8]=msa)
declare -A EXTRA=(
  [faithful]="$DRIFT"
  [static]=""
  [eq8]=""
  [straight_through]="--gate_estimator straight_through $DRIFT"
  [keep_ratio_1]="--keep_ratio 1.0 $DRIFT"
  [freeze_1130]="--freeze_agents_after 1130 $DRIFT"
  [agent_lr_0.007]="--agent_lr 0.007 $DRIFT"
  [policy_alpha_1]="--policy_alpha 1.0 $DRIFT"
  [warmup_1000]="--warmup 1000 $DRIFT"
  [routing_distill_1]="--routing_distill 1.0 $DRIFT"
  [st_routing_5]="--gate_estimator straight_through --routing_distill 5.0 $DRIFT"
)
ARMS=(faithful static eq8 straight_through keep_ratio_1 freeze_1130 agent_lr_0.007 routing_distill_1 st_routing_5
      policy_alpha_1 warmup_1000)
[ $# -gt 0 ] && ARMS=("$@")
for arm in "${ARMS[@]}"; do
  [ -n "${EXTRA[$arm]+set}" ] || { echo "unknown arm: $arm (known: ${!EXTRA[*]})" >&2; exit 2; }
done
worker() {
  for arm in "${ARMS[@]}"; do
    for seed in 0 1 2; do
      ./run_experiments.sh --table 1 --method "${METHOD[$arm]:-dynamos}" --buffer 500 --seed "$seed" \
          --extra-args="${EXTRA[$arm]}" --base-path "$DATA" -j 1 --threads 1 \
          --runs-dir "runs/mnist360-agents/$arm" --results-dir "$STUDY/$arm" || true
    done
  done
}
for ((w = 0; w < ${STUDY_WORKERS:-2}; w++)); do worker & sleep 5; done
wait
