#!/bin/bash
# eval.sh — the public evaluation: build ./kernel.c (the current directory's) with the task's
# pristine files ($OUTLAST_TASK when set, else this script's directory), check the kernel rules, run
# the public workloads with the same grader, boundary and checks as the final grade. Prints
# correctness and speedup per workload and overall; the LAST line is one JSON object:
# {"score": ..., "correct": ..., "workloads": [...]}. The final grade uses hidden workloads and more
# repeats, with the same method.
# Options (environment): SEED (picks the shapes; default: random), ONLY=<workload name>, BUDGET
# (seconds of timing per workload), SOURCES (default kernel.c).
set -u
T=${OUTLAST_TASK:-$(cd "$(dirname "$0")" && pwd)}
SRC_DIR=$PWD
# shellcheck source=/dev/null
. "$T/build.conf"
# shellcheck source=/dev/null
. "$T/kernel.conf"
SEED=${SEED:-$(( (RANDOM << 15) | RANDOM ))}
B=$(mktemp -d)
trap 'rm -rf "$B"' EXIT
threads_of() { if [ "$1" = all ]; then nproc; else echo "$1"; fi; }
json_fail() {
  python3 -c 'import json,sys; print(json.dumps({"score": 0, "correct": False, "reason": sys.argv[1], "seed": int(sys.argv[2]), "workloads": []}))' "$1" "$SEED"
  exit 1
}
bash "$T/build.sh" "$T" "$SRC_DIR" "$B" "${SOURCES:-kernel.c}" >"$B/build.out" 2>&1 || {
  cat "$B/build.out"
  json_fail "$(tail -n 1 "$B/build.out")"
}
args=(--workloads "$T/workloads.txt" --worker-ref "$B/worker-ref" --worker-cand "$B/worker-cand" --seed "$SEED" --json-line
  --budget "${BUDGET:-$BUDGET_PUBLIC}" --min-repeats 4 --max-repeats 16 --sandbox "${WORKER_SANDBOX:-auto}"
  --threads "$(threads_of "$THREADS")" --ref-threads "$(threads_of "$REF_THREADS")" --arena-mb "$ARENA_MB" --out-mb "$OUT_MB")
[ -n "${ONLY:-}" ] && args+=(--only "$ONLY")
OMP_WAIT_POLICY=passive "$B/grader" "${args[@]}" # its own OpenMP threads must not spin while a kernel runs
rc=$?
[ $rc -eq 0 ] || json_fail "the evaluation failed (exit status $rc)"
