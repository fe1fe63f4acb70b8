# Hidden tests of fix-failing-test. The agent's stats.py is never imported here: each function is
# called out of process, as the agent, through outlast's agent-run helper (the outlast_agent module,
# docs/task-format.md); only the inputs go there, the expected values stay here. Prints one line per
# test and "N passed, N failed"; writes /logs/verifier/reward.json with reward = passed / total.
from outlast_agent import Case, Iter, grade

CASES = [
    Case("test_median_odd").equal("median", [[9, 2, 7, 4, 5]], 5),
    Case("test_median_even").equal("median", [[10, 2, 8, 4]], 6),
    Case("test_median_even_floats").approx("median", [[0.5, 1.5]], 1.0),
    Case("test_median_two_equal").equal("median", [[3, 3]], 3),
    Case("test_median_negative").equal("median", [[-5, -1, -3, -2]], -2.5),
    Case("test_median_single").equal("median", [[42]], 42),
    Case("test_median_does_not_mutate").unchanged("median", [[3, 1, 2, 4]]),
    Case("test_median_accepts_iterables").equal("median", [Iter([1, 2, 3, 4, 5, 6])], 3.5).equal("median", [(7, 1)], 4),
    Case("test_median_empty").raises("median", [[]], "ValueError"),
    Case("test_mean").approx("mean", [[1, 2, 3, 4, 5, 6]], 3.5),
    Case("test_mode_tie").equal("mode", [[3, 1, 3, 1, 2]], 1),
    Case("test_spread").equal("spread", [[2.5, -2.5]], 5.0),
]

if __name__ == "__main__":
    raise SystemExit(grade("stats", CASES))
