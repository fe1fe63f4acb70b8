#!/usr/bin/env bash
# Oracle for implement-function: a complete durations.py.
set -euo pipefail
cat > durations.py <<'PY'
"""Durations as text: "1h30m" <-> 5400 seconds. See the task instruction for the exact rules."""
import re

UNITS = [("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
_COMPONENT = re.compile(r"([0-9]+)([wdhms])")


def parse_duration(text):
    """Seconds described by `text` (e.g. "1h30m" -> 5400); ValueError when `text` is not a duration."""
    if not isinstance(text, str):
        raise ValueError("duration must be a string")
    body = text.strip(" \t")
    if re.fullmatch(r"[0-9]+", body):
        return int(body)
    if not body:
        raise ValueError("empty duration")
    order = [u for u, _ in UNITS]
    seconds = dict(UNITS)
    total, last, pos = 0, -1, 0
    while pos < len(body):
        m = _COMPONENT.match(body, pos)
        if not m:
            raise ValueError(f"invalid duration {text!r} at position {pos}")
        idx = order.index(m.group(2))
        if idx <= last:
            raise ValueError(f"unit {m.group(2)!r} repeated or out of order in {text!r}")
        last = idx
        total += int(m.group(1)) * seconds[m.group(2)]
        pos = m.end()
        while pos < len(body) and body[pos] in " \t":
            pos += 1
    return total


def format_duration(seconds):
    """Canonical text for a non-negative int of seconds (e.g. 5400 -> "1h30m", 0 -> "0s")."""
    if type(seconds) is not int or seconds < 0:
        raise ValueError("seconds must be a non-negative int")
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in UNITS:
        q, seconds = divmod(seconds, size)
        if q:
            parts.append(f"{q}{unit}")
    return "".join(parts)
PY
