# Hidden tests of implement-function. The agent's durations.py is never imported here: each function
# is called out of process, as the agent, through outlast's agent-run helper (the outlast_agent
# module, docs/task-format.md); only the inputs go there, the expected values stay here. Prints one
# line per test and "N passed, N failed"; writes /logs/verifier/reward.json (reward = passed / total).
import random

from outlast_agent import Call, Case, grade

W, D, H, M = 604800, 86400, 3600, 60


def case(name, fn, pairs):
    c = Case(name)
    for arg, want in pairs:
        c.equal(fn, [arg], want)
    return c


def invalid(name, fn, args):
    c = Case(name)
    for a in args:
        c.raises(fn, [a], "ValueError")
    return c


def round_trips(seed, n):
    rng = random.Random(seed)
    c = Case("test_round_trip")
    for _ in range(n):
        x = rng.choice([rng.randrange(0, 120), rng.randrange(0, 10 * W)])
        c.equal("parse_duration", [Call("format_duration", [x])], x)
    return c


CASES = [
    case("test_single_units", "parse_duration", [("45s", 45), ("2m", 120), ("3h", 3 * H), ("4d", 4 * D), ("2w", 2 * W), ("0s", 0)]),
    case("test_combined", "parse_duration", [("1h30m", 5400), ("1w1d1h1m1s", W + D + H + M + 1), ("2d12h", 2 * D + 12 * H)]),
    case("test_whitespace", "parse_duration", [("1d 12h", D + 12 * H), ("  1h\t30m  ", 5400)]),
    case("test_bare_integer", "parse_duration", [("90", 90), (" 7 ", 7)]),
    case("test_large_and_leading_zeros", "parse_duration", [("90m", 5400), ("100000s", 100000), ("007m", 420)]),
    invalid("test_parse_invalid", "parse_duration", ["", "   ", "h", "5x", "5H", "1h 1h", "1m1h", "30m1h", "-5s", "+5s", "1.5h",
                                                     "1 h", "1h30", "abc", "5s!", "1h,30m", "1d 2d", "s5"]),
    case("test_format_examples", "format_duration", [(0, "0s"), (1, "1s"), (59, "59s"), (60, "1m"), (5400, "1h30m"), (86401, "1d1s"),
                                                     (W, "1w"), (W + D + H + M + 1, "1w1d1h1m1s"), (3 * W + 59, "3w59s")]),
    invalid("test_format_invalid", "format_duration", [-1, 1.5, "60", None, True]),
    round_trips(1234, 500),
]

if __name__ == "__main__":
    raise SystemExit(grade("durations", CASES))
