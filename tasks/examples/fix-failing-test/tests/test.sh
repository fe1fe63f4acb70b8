#!/usr/bin/env bash
# Verifier of fix-failing-test: the hidden tests, calling the agent's stats.py through agent-run.
# Writes /logs/verifier/reward.json (task.toml: score_from = "reward").
set -u
exec python3 -P /tests/grade.py
