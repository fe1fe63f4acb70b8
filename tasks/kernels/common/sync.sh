#!/bin/bash
# Copy the shared files of the kernels suite into every kernel task (each task dir must stay
# self-contained). Run after editing anything in tasks/kernels/common/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for t in "$here"/../*/; do
  [ -f "$t/task.toml" ] || continue
  for f in bench.h check_kernel.py; do cp "$here/$f" "$t/workspace/$f"; cp "$here/$f" "$t/tests/$f"; done
  cp "$here/eval.sh" "$here/Makefile" "$t/workspace/"
  cp "$here/grade.sh" "$t/tests/"
  cp "$t/workspace/kernel.conf" "$t/tests/kernel.conf"
  cp "$t/workspace/kernel.h" "$t/tests/kernel.h"
  cp "$t/workspace/driver.c" "$t/tests/driver.c"
  cp "$t/workspace/reference.c" "$t/tests/reference.c"
done
