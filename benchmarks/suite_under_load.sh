#!/usr/bin/env bash
# The README's test command, three times in a row, in a fresh clone, on a loaded machine (issue 26: a suite that
# never fails by chance). Start the load first (for example two training runs:
# results/studies/mnist360-stream/run_study.sh started twice), then:
#
#   benchmarks/suite_under_load.sh [RUNS] [OUT]      (RUNS: 3; OUT: runs/suite-under-load)
#
# Clones this repository's HEAD into OUT/clone, runs ./setup.sh there, then `.venv/bin/python -m pytest -q` RUNS
# times; OUT/status gets one line per run (start, load average, training runs beside it, exit code, duration, the
# summary line) and OUT/run<i>.log each run's output. Then the compile test alone, COMPILE_REPEATS (20) times in a row
# (`-p no:randomly`-style: the same test, nothing else), into OUT/compile.log.
#
#   benchmarks/suite_under_load.sh collect OUT DEST [COMPILE_LOG]
#
# copies OUT's status and logs (and a separately run compile loop's log) into DEST, every absolute path of the machine
# written <tmp>/ or removed, as results/benchmarks/suite-under-load/ holds them.
set -uo pipefail
if [ "${1:-}" = collect ]; then
  OUT=$2 DEST=$3
  mkdir -p "$DEST"
  clean() { sed -e "s#$OUT/clone/##g" -e "s#/tmp/#<tmp>/#g" -e "s#/work/[^ ]*/##g" -e "s#$HOME/#~/#g"; }
  clean < "$OUT/status" > "$DEST/status"
  for log in "$OUT"/run*.log; do clean < "$log" > "$DEST/$(basename "$log")"; done   # dots and the summary
  [ -f "$OUT/compile.log" ] && clean < "$OUT/compile.log" > "$DEST/compile-after-suites.log"
  [ -n "${4:-}" ] && clean < "$4" > "$DEST/compile.log"
  exit 0
fi
RUNS=${1:-3}
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${2:-$REPO/runs/suite-under-load}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/clone"
git clone -q "$REPO" "$OUT/clone" && cd "$OUT/clone" || exit 1
echo "clone of $(git rev-parse --short HEAD)" > "$OUT/status"
./setup.sh > "$OUT/setup.log" 2>&1 || { echo "setup failed" >> "$OUT/status"; exit 1; }
trainers() { pgrep -fc 'mammoth/main.py --model [a-z-]+ --dataset mnist-360' || true; }
for i in $(seq "$RUNS"); do
  echo "run $i start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) trainers $(trainers)" >> "$OUT/status"
  start=$(date +%s)
  .venv/bin/python -m pytest -q > "$OUT/run$i.log" 2>&1; rc=$?
  echo "run $i rc=$rc $(( $(date +%s) - start ))s end load $(cut -d' ' -f1-3 /proc/loadavg) trainers $(trainers)" \
       ":: $(tail -1 "$OUT/run$i.log")" >> "$OUT/status"
done
test=tests/integration/test_compile.py::test_compiled_step_equals_the_eager_step
for i in $(seq "${COMPILE_REPEATS:-20}"); do
  .venv/bin/python -m pytest -q "$test" 2>&1 | tail -1 | sed "s/^/compile $i: /" >> "$OUT/compile.log"
done
