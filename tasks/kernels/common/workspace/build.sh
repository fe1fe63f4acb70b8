#!/bin/bash
# build.sh — build a kernel's three executables: the grader (driver + grader, no kernel), the
# reference's worker and the candidate's worker (driver + worker + one kernel each), checking the
# candidate against the kernel rules (check_kernel.py) in between. Shared by eval.sh and grade.sh.
#
# usage: build.sh TASK_FILES SRC_DIR BUILD_DIR "SOURCES"
#   TASK_FILES: the task's pristine files (driver.c, kernel.h, reference.c, kernel.conf, and this
#   family's shared files); SRC_DIR: where the candidate's SOURCES are (plain file names).
# Exit 0 when built. Exit 1 when the candidate's fault (does not compile, breaks a rule, does not
# link): the last line of stdout is the reason. Exit 2 on an internal error (same last line).
set -u
T=$1 SRC_DIR=$2 B=$3 SOURCES=$4
# shellcheck source=/dev/null
. "$T/build.conf"
# shellcheck source=/dev/null
. "$T/kernel.conf"
fail() { echo "$2"; exit "$1"; }
cc() { timeout "${COMPILE_TIMEOUT}s" gcc "$@"; }
mkdir -p "$B/cand" || fail 2 "internal: cannot create $B"
objs=()
srcs=()
for s in $SOURCES; do
  case "$s" in */* | .* | *[!A-Za-z0-9._-]*) fail 1 "bad source name: $s" ;; esac
  [ -f "$SRC_DIR/$s" ] && [ ! -L "$SRC_DIR/$s" ] || fail 1 "the workspace has no regular file $s"
  cp "$SRC_DIR/$s" "$B/cand/$s"
  # shellcheck disable=SC2086
  cc $CFLAGS $WORKER_CFLAGS -I"$T" -c "$B/cand/$s" -o "$B/cand/$s.o" 2>"$B/cc.log"
  rc=$?
  [ $rc -eq 124 ] && fail 1 "$s: compiling took longer than ${COMPILE_TIMEOUT} s"
  [ $rc -eq 0 ] || fail 1 "$s does not compile: $(grep -m3 -E 'error' "$B/cc.log" | sed "s#$B/cand/##g" | tr '\n' ' ' | cut -c1-600)"
  objs+=("$B/cand/$s.o")
  srcs+=("$B/cand/$s")
done
[ ${#objs[@]} -gt 0 ] || fail 1 "no kernel sources"
if [ ${#objs[@]} -eq 1 ]; then cp "${objs[0]}" "$B/cand.o"; else ld -r -o "$B/cand.o" "${objs[@]}" || fail 1 "cannot link the kernel sources together"; fi
# the trusted parts, from the task's pristine files, compiled in parallel while the rules are checked
jobs=()
bg() { # bg NAME gcc-args...: compile in the background, log to $B/NAME.log
  local name=$1
  shift
  cc "$@" >"$B/$name.log" 2>&1 &
  jobs+=("$!:$name")
}
# shellcheck disable=SC2086
{
  bg ref $CFLAGS $WORKER_CFLAGS -D"$ENTRY=ref_$ENTRY" -I"$T" -c "$T/reference.c" -o "$B/ref.o"
  bg driver-cand $CFLAGS $WORKER_CFLAGS -DKERNEL_ENTRY="$ENTRY" -I"$T" -c "$T/driver.c" -o "$B/driver-cand.o"
  bg driver-ref $CFLAGS $WORKER_CFLAGS -DKERNEL_ENTRY="ref_$ENTRY" -I"$T" -c "$T/driver.c" -o "$B/driver-ref.o"
  bg worker $CFLAGS $WORKER_CFLAGS -I"$T" -c "$T/worker.c" -o "$B/worker.o"
  bg driver-grader $CFLAGS -DKERNEL_ENTRY="$ENTRY" -ffunction-sections -I"$T" -c "$T/driver.c" -o "$B/driver-grader.o"
  bg grader $CFLAGS -I"$T" -c "$T/grader.c" -o "$B/grader.o"
  bg workers $CFLAGS -I"$T" -c "$T/workers.c" -o "$B/workers.o"
}
# shellcheck disable=SC2086
python3 "$T/check_kernel.py" "$ENTRY" "$B/cand.o" "${srcs[@]}" -- $CFLAGS -I"$T" >"$B/check.log" 2>&1
if [ $? -ne 0 ]; then
  for j in "${jobs[@]}"; do kill "${j%%:*}" 2>/dev/null; done
  wait
  fail 1 "kernel rules: $(sed "s#$B/cand/##g" "$B/check.log" | tr '\n' ' ' | cut -c1-600)"
fi
broken=""
for j in "${jobs[@]}"; do wait "${j%%:*}" || broken="${j#*:}"; done
[ -z "$broken" ] || fail 2 "internal: the grader does not build ($broken): $(grep -m3 -E 'error' "$B/$broken.log" | tr '\n' ' ' | cut -c1-400)"
# shellcheck disable=SC2086
{
  cc $CFLAGS -Wl,--gc-sections -o "$B/grader" "$B/grader.o" "$B/workers.o" "$B/driver-grader.o" $LDLIBS >"$B/link-grader.log" 2>&1 &
  g=$!
  cc $CFLAGS $WORKER_LDFLAGS -o "$B/worker-ref" "$B/worker.o" "$B/driver-ref.o" "$B/ref.o" $LDLIBS >"$B/link-ref.log" 2>&1 &
  r=$!
  cc $CFLAGS $WORKER_LDFLAGS -o "$B/worker-cand" "$B/worker.o" "$B/driver-cand.o" "$B/cand.o" $LDLIBS >"$B/ld.log" 2>&1
  c=$?
  wait $g || fail 2 "internal: the grader does not link: $(head -c 400 "$B/link-grader.log")"
  wait $r || fail 2 "internal: the reference's worker does not link: $(head -c 400 "$B/link-ref.log")"
  [ $c -eq 0 ] || fail 1 "the kernel does not link: $(sed "s#$B/##g" "$B/ld.log" | tr '\n' ' ' | cut -c1-400)"
}
exit 0
