#!/usr/bin/env bash
# Oracle for fix-failing-test: median() must average the two middle values of an even-length input.
set -euo pipefail
python3 - <<'PY'
import re
path = "stats.py"
src = open(path).read()
fixed = src.replace(
    "    return s[n // 2]\n",
    "    mid = n // 2\n"
    "    if n % 2 == 1:\n"
    "        return s[mid]\n"
    "    return (s[mid - 1] + s[mid]) / 2\n",
)
if fixed == src:
    raise SystemExit("solve.sh: the line to fix was not found in stats.py")
open(path, "w").write(fixed)
PY
python3 -B -m unittest -q
