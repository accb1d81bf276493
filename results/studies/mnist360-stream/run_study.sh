#!/usr/bin/env bash
# The runs of the along-the-stream study (issue 28; README.md beside this file): the Table 1 (MNIST-360) and Seq-MNIST
# buffer-500 cells with Mammoth's evaluation along the stream (patch 0030), through the runner, in priority order, one
# run at a time with one thread. Resumable: finished runs (a record in records/ here) are skipped.
#
#   results/studies/mnist360-stream/run_study.sh      (from anywhere; runs from the repository root)
#
# Workers: start the script twice (or more) in the same clone and they share the grid: each run is taken under a
# lock (flock on runs/mnist360-stream/locks/<run>), which the system releases if its worker dies, so a killed run is
# simply taken again by the next worker or the next start.
#
# After each run: its log is copied to logs/<run>.log without the machine's absolute paths, and its final accuracy is
# compared with the committed record of the same run in results/records/ when both ran on the same CPU model (the
# option must not change training: any difference is printed as a DEFECT; across CPU models float rounding differs
# and a long run ends elsewhere, so those are reported as not comparable). Then the study's report and the generated blocks
# (this page's verdict table) are rebuilt; with STUDY_COMMIT=1 the record, its log, the report and the page are committed at once.
# Data: DYNAMOS_STUDY_DATA (default ../shared/data, the folder this project's machines keep MNIST in).
set -euo pipefail
cd "$(dirname "$0")/../../.."
STUDY=results/studies/mnist360-stream
DATA=${DYNAMOS_STUDY_DATA:-../shared/data}
[ -d "$DATA" ] || { echo "run_study: no data folder $DATA (set DYNAMOS_STUDY_DATA)" >&2; exit 1; }
LOCKS=runs/mnist360-stream/locks
mkdir -p "$LOCKS"
EVAL_FLAGS=${STUDY_EVAL_FLAGS:-"--eval_every 50 --eval_subset 1000"}
# table method buffer, in priority order (seeds 0-2 of each)
CELLS=(
  "1 dynamos 500" "1 msa 500" "1 static 500"
  "1 dynamos 200" "1 msa 200" "1 static 200"
  "1 dynamos 100" "1 msa 100" "1 static 100"
  "1 sgd 0" "1 er 500" "1 der 500" "1 derpp 500" "1 er 200" "1 der 200" "1 derpp 200" "1 er 100" "1 der 100" "1 derpp 100"
  "2 dynamos 500" "2 msa 500" "2 static 500" "2 er 500" "2 derpp 500"
)
for cell in "${CELLS[@]}"; do
  read -r table method buffer <<< "$cell"
  dataset=$([ "$table" = 1 ] && echo mnist-360 || echo seq-mnist)
  for seed in ${SEEDS:-0 1 2}; do
    name="${dataset}__${method}__buf${buffer}__seed${seed}"
    [ -f "$STUDY/records/$name.json" ] && continue
    exec {lock}>"$LOCKS/$name"
    flock -n "$lock" || { exec {lock}>&-; continue; }          # another worker has it
    [ -f "$STUDY/records/$name.json" ] && { exec {lock}>&-; continue; }   # finished while we waited
    buffer_flag=(); [ "$buffer" != 0 ] && buffer_flag=(--buffer "$buffer")
    ./run_experiments.sh --table "$table" --method "$method" "${buffer_flag[@]}" --seed "$seed" \
        --extra-args="$EVAL_FLAGS" --base-path "$DATA" -j 1 --threads 1 \
        --runs-dir runs/mnist360-stream --results-dir "$STUDY" || true
    [ -f "$STUDY/records/$name.json" ] || { echo "run_study: $name did not finish" >&2; continue; }
    mkdir -p "$STUDY/logs"
    log="runs/mnist360-stream/table$table/$dataset/$method/buf$buffer/seed$seed/log.txt"
    # the runner passes the data folder to Mammoth as an absolute path: write it back as given (no machine path)
    abs_data=$(cd "$DATA" && pwd)
    sed -e "s#$abs_data#$DATA#g" -e "s#$PWD/##g" "$log" > "$STUDY/logs/$name.log"
    .venv/bin/python - "$STUDY/records/$name.json" "results/records/$name.json" <<'PY'
import json, sys
new = json.load(open(sys.argv[1]))
try:
    ref = json.load(open(sys.argv[2]))
except FileNotFoundError:
    print(f'run_study: {new["run"]}: no committed record to compare with'); sys.exit(0)
keys = ('accuracy', 'per_task', 'accuracy_recal', 'per_task_recal')
diffs = {k: (new.get(k), ref.get(k)) for k in keys if new.get(k) != ref.get(k)}
machine = ('cpu', 'cpu_id', 'cpu_capability')  # what decides the kernels (cpu_id, cpu_capability: since 2026-12-06)
ours, theirs = ({k: r['hardware'].get(k) for k in machine} for r in (new, ref))
if any(ours[k] != theirs[k] for k in machine if ours[k] is not None and theirs[k] is not None):
    # another CPU's kernels round differently: a long run ends elsewhere, with or without the option
    print(f'run_study: {new["run"]}: not comparable with the committed record (this run on {ours}, the record on '
          f'{theirs}); final accuracy {new["accuracy"]}, the record {ref["accuracy"]}')
elif not diffs:
    print(f'run_study: {new["run"]}: final accuracy {new["accuracy"]} (recalibrated {new.get("accuracy_recal")}) '
          f'equals the committed record')
elif any(theirs[k] is None for k in machine):
    # a record from before cpu_id: one model name ("AMD EPYC") can be several CPUs, so a difference proves nothing
    print(f'run_study: {new["run"]}: differs from results/records/ {diffs}, whose record names its CPU only '
          f'"{theirs["cpu"]}" (no cpu_id): not known to be the same CPU; rerun the record\'s command without the '
          f'option here to tell (the study page, Hardware)')
else:
    print(f'run_study: {new["run"]}: DEFECT: differs from results/records/: {diffs}')
PY
    (
      flock 9                                                # one worker at a time rebuilds and commits
      # the study's report, then the generated blocks that read it (this page's verdict table, the README's), so that
      # every commit of a record carries the report and the page that go with it (a fast test compares them)
      ./run_experiments.sh --report --results-dir "$STUDY" > /dev/null && ./run_experiments.sh --report > /dev/null ||
          echo "run_study: the report could not be rebuilt after $name" >&2
      if [ "${STUDY_COMMIT:-0}" = 1 ]; then
        git add "$STUDY/records/$name.json" "$STUDY/logs/$name.log" "$STUDY/report" "$STUDY/README.md" README.md \
            results/report
        git commit -q -m "Issue 28: study record $name (--eval_every), with its log; the study's report and page rebuilt" \
            -- "$STUDY/records/$name.json" "$STUDY/logs/$name.log" "$STUDY/report" "$STUDY/README.md" README.md \
            results/report || echo "run_study: could not commit $name (commit it by hand)" >&2
      fi
    ) 9>"$LOCKS/.commit"
    exec {lock}>&-
  done
done
