#!/bin/bash
# eval.sh — the public evaluation: build kernel.c with this workspace's driver and reference copy,
# check the kernel rules, run the public workloads. Prints correctness and speedup per workload and
# overall; the LAST line is one JSON object: {"score": ..., "correct": ..., "workloads": [...]}.
# The final grade uses hidden workloads, fresh random inputs and the grader's own copies of
# everything except kernel.c, with the same method.
# Options (environment): SEED (default: random), ONLY=<workload name>, BUDGET (seconds of timing per workload).
set -u
cd "$(dirname "$0")"
. ./kernel.conf
SEED=${SEED:-$(( (RANDOM << 15) | RANDOM ))}
json_fail() {
  python3 -c 'import json,sys; print(json.dumps({"score": 0, "correct": False, "reason": sys.argv[1], "seed": int(sys.argv[2]), "workloads": []}))' "$1" "$SEED"
  exit 1
}
if ! make -s bench >build.log 2>&1; then
  cat build.log
  json_fail "build failed: $(grep -m3 error build.log | tr '\n' ' ' | cut -c1-500)"
fi
# shellcheck disable=SC2086
if ! python3 check_kernel.py "$ENTRY" kernel.o kernel.c -- $CFLAGS -I. >check.log 2>&1; then
  cat check.log
  json_fail "kernel rules: $(tr '\n' ' ' <check.log | cut -c1-500)"
fi
args=(--workloads workloads.txt --seed "$SEED" --json-line --budget "${BUDGET:-$BUDGET_PUBLIC}" --min-repeats 4 --max-repeats 16)
[ -n "${ONLY:-}" ] && args+=(--only "$ONLY")
OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)} ./bench "${args[@]}"
rc=$?
[ $rc -eq 0 ] || json_fail "the benchmark died (exit status $rc): the kernel crashed?"
