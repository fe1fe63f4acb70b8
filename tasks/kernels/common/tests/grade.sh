#!/bin/bash
# grade.sh — the grader of an outlast kernels task, run by the `speedup` verifier in a fresh
# sandbox. It builds ONLY the candidate's kernel source(s) with the task's pristine files (driver,
# reference, header, flags, grader: $OUTLAST_TASK, the task's starting workspace, read-only), then
# runs the grader on the hidden workloads (this directory) and writes the result JSON to
# $OUT_DIR/result.json. On any failure it writes {"score":0,"correct":false,"reason":...}.
#
# Environment: OUTLAST_TASK (the task's pristine files), SOURCES (file names in SRC_DIR, default
# "kernel.c"), SRC_DIR (default: cwd), TESTS_DIR (default: this script's directory), OUT_DIR
# (default /out), SEED (picks the workloads' shapes; the input values come from fresh entropy),
# NONCE, WORKLOADS (file in TESTS_DIR, default workloads.txt), BUDGET, MIN_REPEATS, MAX_REPEATS,
# WORKER_SANDBOX (auto | bwrap | none; default auto: bwrap when it can run here).
set -u
T=${OUTLAST_TASK:?OUTLAST_TASK must name the task files}
H=${TESTS_DIR:-$(cd "$(dirname "$0")" && pwd)}
SRC_DIR=${SRC_DIR:-$PWD}
OUT_DIR=${OUT_DIR:-/out}
SOURCES=${SOURCES:-kernel.c}
SEED=${SEED:-1}
NONCE=${NONCE:-}
WORKLOADS=${WORKLOADS:-workloads.txt}
# shellcheck source=/dev/null
. "$T/build.conf"
# shellcheck source=/dev/null
. "$T/kernel.conf"
BUDGET=${BUDGET:-$BUDGET_DEFAULT}
MIN_REPEATS=${MIN_REPEATS:-6}
MAX_REPEATS=${MAX_REPEATS:-24}
RESULT="$OUT_DIR/result.json"
B=$(mktemp -d)
trap 'rm -rf "$B"' EXIT
threads_of() { if [ "$1" = all ]; then nproc; else echo "$1"; fi; }

fail() {
  python3 - "$RESULT" "$1" "$SEED" "$NONCE" <<'PY'
import json, sys
path, reason, seed, nonce = sys.argv[1:5]
with open(path, "w") as f:
    json.dump({"score": 0, "correct": False, "reason": reason, "seed": int(seed), "nonce": nonce, "workloads": []}, f)
    f.write("\n")
PY
  echo "grade: $1"
  exit 0
}

case "$WORKLOADS" in */* | .*) fail "bad workloads file name: $WORKLOADS" ;; esac
[ -f "$H/$WORKLOADS" ] || fail "no workloads file $WORKLOADS in the tests directory"
bash "$T/build.sh" "$T" "$SRC_DIR" "$B" "$SOURCES" >"$B/build.out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "$(tail -n 1 "$B/build.out")"
rm -f "$RESULT"
# the grader's own OpenMP threads (the float64 reference) must not spin on a core while a kernel runs
OMP_WAIT_POLICY=passive "$B/grader" --workloads "$H/$WORKLOADS" --worker-ref "$B/worker-ref" --worker-cand "$B/worker-cand" --seed "$SEED" --nonce "$NONCE" \
  --out "$RESULT" --budget "$BUDGET" --min-repeats "$MIN_REPEATS" --max-repeats "$MAX_REPEATS" --sandbox "${WORKER_SANDBOX:-auto}" \
  --threads "$(threads_of "$THREADS")" --ref-threads "$(threads_of "$REF_THREADS")" --arena-mb "$ARENA_MB" --out-mb "$OUT_MB"
rc=$?
[ $rc -eq 0 ] || fail "internal: the grader failed (exit status $rc$([ $rc -gt 128 ] && echo ", signal $((rc - 128))"))"
[ -s "$RESULT" ] || fail "internal: the grader wrote no result"
exit 0
