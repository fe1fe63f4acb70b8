#!/bin/bash
# Measure the headroom of every kernels task: grade the reference (nop) and the oracle with the
# task's own grader on the hidden workloads, outside any sandbox, and print one line per run.
# usage: tasks/kernels/common/headroom.sh [TASK...] (default: every task); SEED=N to fix the seed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tasks=("$@")
[ ${#tasks[@]} -eq 0 ] && for t in "$here"/../*/; do [ -f "$t/task.toml" ] && tasks+=("$(basename "$t")"); done
seed=${SEED:-$(( (RANDOM << 15) | RANDOM ))}
printf '%-18s %-8s %8s %8s %8s %8s %s\n' task kernel score p25 p75 seconds reason
for t in "${tasks[@]}"; do
  dir="$here/../$t"
  for who in nop oracle; do
    src=$(mktemp -d) out=$(mktemp -d)
    if [ $who = nop ]; then cp "$dir/workspace/kernel.c" "$src/"; else cp "$dir/solution/kernel.c" "$src/"; fi
    t0=$(date +%s.%N)
    SRC_DIR=$src OUT_DIR=$out TESTS_DIR="$dir/tests" SEED=$seed bash "$dir/tests/grade.sh" >/dev/null
    t1=$(date +%s.%N)
    python3 - "$out/result.json" "$t" "$who" "$(echo "$t1 - $t0" | bc)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
sp = r.get("spread") or {}
print(f"{sys.argv[2]:<18} {sys.argv[3]:<8} {r['score']:8.3f} {sp.get('p25') or 0:8.3f} {sp.get('p75') or 0:8.3f} {float(sys.argv[4]):8.1f} {r.get('reason','')}")
PY
    rm -rf "$src" "$out"
  done
done
echo "seed $seed, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
