#!/bin/bash
# Measure the headroom of every kernels task: grade the reference (nop) and the oracle with the
# task's own grader on the hidden workloads, outside outlast's sandbox (the workers still get their
# own: nested bwrap when it can run, else their seccomp filter), and print one line per run.
# usage: tasks/kernels/common/headroom.sh [TASK...] (default: every task); SEED=N to fix the shapes.
# The task's files are merged over this directory's as `extends` does (the task's win).
set -u
here=$(cd "$(dirname "$0")" && pwd)
tasks=("$@")
[ ${#tasks[@]} -eq 0 ] && for t in "$here"/../*/; do [ -f "$t/task.toml" ] && tasks+=("$(basename "$t")"); done
seed=${SEED:-$(( (RANDOM << 15) | RANDOM ))}
printf '%-18s %-8s %8s %8s %8s %8s %-8s %s\n' task kernel score p25 p75 seconds workers reason
for t in "${tasks[@]}"; do
  dir="$here/../$t"
  files=$(mktemp -d) hidden=$(mktemp -d)
  cp -r "$here/workspace/." "$dir/workspace/." "$files/"
  cp -r "$here/tests/." "$dir/tests/." "$hidden/"
  for who in nop oracle; do
    src=$(mktemp -d) out=$(mktemp -d)
    if [ $who = nop ]; then cp "$dir/workspace/kernel.c" "$src/"; else cp "$dir/solution/kernel.c" "$src/"; fi
    t0=$(date +%s.%N)
    OUTLAST_TASK=$files SRC_DIR=$src OUT_DIR=$out TESTS_DIR=$hidden SEED=$seed bash "$hidden/grade.sh" >/dev/null
    t1=$(date +%s.%N)
    python3 - "$out/result.json" "$t" "$who" "$(echo "$t1 - $t0" | bc)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
sp = r.get("spread") or {}
w = (r.get("boundary") or {}).get("workers", "-")
print(f"{sys.argv[2]:<18} {sys.argv[3]:<8} {r['score']:8.3f} {sp.get('p25') or 0:8.3f} {sp.get('p75') or 0:8.3f} {float(sys.argv[4]):8.1f} {w:<8} {r.get('reason','')}")
PY
    rm -rf "$src" "$out"
  done
  rm -rf "$files" "$hidden"
done
echo "seed $seed, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
