#!/usr/bin/env bash
# Verifier of clean-csv: partial credit in /logs/verifier/reward.json ("reward" = rows exactly right
# over the larger of rows expected and rows written, x0.9 if unsorted); passing needs reward 1.
set -u
tests_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 -P -B "$tests_dir/grade.py" /logs/verifier
