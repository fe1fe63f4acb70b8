"""Durations as text: "1h30m" <-> 5400 seconds. See the task instruction for the exact rules."""


def parse_duration(text):
    """Seconds described by `text` (e.g. "1h30m" -> 5400); ValueError when `text` is not a duration."""
    raise NotImplementedError("parse_duration")


def format_duration(seconds):
    """Canonical text for a non-negative int of seconds (e.g. 5400 -> "1h30m", 0 -> "0s")."""
    raise NotImplementedError("format_duration")
