"""Summary statistics over sequences of numbers."""


def mean(xs):
    """Arithmetic mean of a non-empty sequence."""
    xs = list(xs)
    if not xs:
        raise ValueError("mean of empty data")
    return sum(xs) / len(xs)


def median(xs):
    """Middle value of a non-empty sequence; the mean of the two middle values when its length is even."""
    s = sorted(xs)
    n = len(s)
    if n == 0:
        raise ValueError("median of empty data")
    return s[n // 2]


def mode(xs):
    """Most common value of a non-empty sequence; ties go to the smallest value."""
    counts = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    if not counts:
        raise ValueError("mode of empty data")
    best = max(counts.values())
    return min(x for x, c in counts.items() if c == best)


def spread(xs):
    """Difference between the largest and the smallest value of a non-empty sequence."""
    xs = list(xs)
    if not xs:
        raise ValueError("spread of empty data")
    return max(xs) - min(xs)
