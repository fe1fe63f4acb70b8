#!/usr/bin/env bash
# Harbor-style verifier: writes 1 (pass) or 0 (fail) to /logs/verifier/reward.txt.
set -u
mkdir -p /logs/verifier
if python3 -P -B /tests/check_summary.py /tests/access_log /app/summary.json; then
  echo 1 > /logs/verifier/reward.txt
else
  echo 0 > /logs/verifier/reward.txt
fi
