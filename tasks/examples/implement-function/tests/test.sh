#!/usr/bin/env bash
# Verifier of implement-function: the hidden tests, calling the agent's durations.py through
# agent-run. Writes /logs/verifier/reward.json (task.toml: score_from = "reward").
set -u
exec python3 -P /tests/grade.py
