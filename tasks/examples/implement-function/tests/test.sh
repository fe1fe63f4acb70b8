#!/usr/bin/env bash
# Verifier of implement-function: hidden tests over the workspace (the working directory).
# Prints "N passed, N failed"; exits 0 only when every test passes.
set -u
tests_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 -B "$tests_dir/run_tests.py"
