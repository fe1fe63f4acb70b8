#!/bin/bash
# grade.sh — the grader of an outlast kernels task, run by the `speedup` verifier in a fresh
# sandbox. It builds ONLY the candidate's kernel source(s) with this directory's driver, reference
# copy, header and flags (the agent's Makefile, driver and header copies are never used), checks the
# kernel rules (check_kernel.py), runs the driver on the hidden workloads and writes the result JSON
# to $OUT_DIR/result.json. On any failure it writes {"score":0,"correct":false,"reason":...}.
#
# Environment: SOURCES (file names in SRC_DIR, default "kernel.c"), SRC_DIR (default: cwd),
# TESTS_DIR (default: this script's directory), OUT_DIR (default /out), SEED, NONCE,
# WORKLOADS (file in TESTS_DIR, default workloads.txt), BUDGET, MIN_REPEATS, MAX_REPEATS.
set -u
T=${TESTS_DIR:-$(cd "$(dirname "$0")" && pwd)}
SRC_DIR=${SRC_DIR:-$PWD}
OUT_DIR=${OUT_DIR:-/out}
SOURCES=${SOURCES:-kernel.c}
SEED=${SEED:-1}
NONCE=${NONCE:-}
WORKLOADS=${WORKLOADS:-workloads.txt}
# shellcheck source=/dev/null
. "$T/kernel.conf" # ENTRY, CFLAGS, LDLIBS, BUDGET_DEFAULT
BUDGET=${BUDGET:-$BUDGET_DEFAULT}
MIN_REPEATS=${MIN_REPEATS:-6}
MAX_REPEATS=${MAX_REPEATS:-24}
RESULT="$OUT_DIR/result.json"
B=$(mktemp -d)
trap 'rm -rf "$B"' EXIT

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
[ -f "$T/$WORKLOADS" ] || fail "no workloads file $WORKLOADS in the tests directory"
mkdir "$B/cand"
objs=()
for s in $SOURCES; do
  case "$s" in */* | .* | *[!A-Za-z0-9._-]*) fail "bad source name: $s" ;; esac
  [ -f "$SRC_DIR/$s" ] && [ ! -L "$SRC_DIR/$s" ] || fail "the workspace has no regular file $s"
  cp "$SRC_DIR/$s" "$B/cand/$s"
  # shellcheck disable=SC2086
  if ! gcc $CFLAGS -I"$T" -c "$B/cand/$s" -o "$B/cand/$s.o" 2>"$B/cc.log"; then
    fail "$s does not compile: $(grep -m3 -E 'error' "$B/cc.log" | sed "s#$B/cand/##g" | tr '\n' ' ' | cut -c1-600)"
  fi
  objs+=("$B/cand/$s.o")
done
if [ "${#objs[@]}" -eq 1 ]; then cp "${objs[0]}" "$B/cand.o"; else ld -r -o "$B/cand.o" "${objs[@]}" || fail "cannot link the kernel sources"; fi
srcs=()
for s in $SOURCES; do srcs+=("$B/cand/$s"); done
# shellcheck disable=SC2086
if ! python3 "$T/check_kernel.py" "$ENTRY" "$B/cand.o" "${srcs[@]}" -- $CFLAGS -I"$T" >"$B/check.log" 2>&1; then
  fail "kernel rules: $(sed "s#$B/cand/##g" "$B/check.log" | tr '\n' ' ' | cut -c1-600)"
fi
# shellcheck disable=SC2086
gcc $CFLAGS -D"$ENTRY=ref_$ENTRY" -I"$T" -c "$T/reference.c" -o "$B/ref.o" || fail "internal: the reference does not compile"
# shellcheck disable=SC2086
gcc $CFLAGS -I"$T" -c "$T/driver.c" -o "$B/driver.o" || fail "internal: the driver does not compile"
# shellcheck disable=SC2086
gcc $CFLAGS -o "$B/grader" "$B/driver.o" "$B/ref.o" "$B/cand.o" $LDLIBS 2>"$B/ld.log" || fail "the kernel does not link: $(head -c 400 "$B/ld.log")"
rm -f "$RESULT"
OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)} "$B/grader" --workloads "$T/$WORKLOADS" --seed "$SEED" --nonce "$NONCE" --out "$RESULT" \
  --budget "$BUDGET" --min-repeats "$MIN_REPEATS" --max-repeats "$MAX_REPEATS"
rc=$?
[ $rc -eq 0 ] || fail "the grading run died (exit status $rc$([ $rc -gt 128 ] && echo ", signal $((rc - 128))")): the kernel crashed or was killed"
[ -s "$RESULT" ] || fail "internal: the driver wrote no result"
exit 0
