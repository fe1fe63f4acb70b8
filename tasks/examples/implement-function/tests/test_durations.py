# Hidden tests for implement-function, run by tests/test.sh with the workspace as working directory.
import random
import unittest

from durations import format_duration, parse_duration

W, D, H, M = 604800, 86400, 3600, 60


class ParseTest(unittest.TestCase):
    def test_single_units(self):
        for text, want in [("45s", 45), ("2m", 120), ("3h", 3 * H), ("4d", 4 * D), ("2w", 2 * W), ("0s", 0)]:
            with self.subTest(text=text):
                self.assertEqual(parse_duration(text), want)

    def test_combined(self):
        self.assertEqual(parse_duration("1h30m"), 5400)
        self.assertEqual(parse_duration("1w1d1h1m1s"), W + D + H + M + 1)
        self.assertEqual(parse_duration("2d12h"), 2 * D + 12 * H)

    def test_whitespace(self):
        self.assertEqual(parse_duration("1d 12h"), D + 12 * H)
        self.assertEqual(parse_duration("  1h\t30m  "), 5400)

    def test_bare_integer(self):
        self.assertEqual(parse_duration("90"), 90)
        self.assertEqual(parse_duration(" 7 "), 7)

    def test_large_and_leading_zeros(self):
        self.assertEqual(parse_duration("90m"), 5400)
        self.assertEqual(parse_duration("100000s"), 100000)
        self.assertEqual(parse_duration("007m"), 420)

    def test_invalid(self):
        bad = ["", "   ", "h", "5x", "5H", "1h 1h", "1m1h", "30m1h", "-5s", "+5s", "1.5h", "1 h",
               "1h30", "abc", "5s!", "1h,30m", "1d 2d", "s5"]
        for text in bad:
            with self.subTest(text=text):
                with self.assertRaises(ValueError):
                    parse_duration(text)


class FormatTest(unittest.TestCase):
    def test_examples(self):
        for n, want in [(0, "0s"), (1, "1s"), (59, "59s"), (60, "1m"), (5400, "1h30m"), (86401, "1d1s"),
                        (W, "1w"), (W + D + H + M + 1, "1w1d1h1m1s"), (3 * W + 59, "3w59s")]:
            with self.subTest(n=n):
                self.assertEqual(format_duration(n), want)

    def test_invalid(self):
        for bad in [-1, 1.5, "60", None, True]:
            with self.subTest(value=bad):
                with self.assertRaises(ValueError):
                    format_duration(bad)


class RoundTripTest(unittest.TestCase):
    def test_round_trip(self):
        rng = random.Random(1234)
        for _ in range(500):
            n = rng.choice([rng.randrange(0, 120), rng.randrange(0, 10 * W)])
            with self.subTest(n=n):
                self.assertEqual(parse_duration(format_duration(n)), n)


if __name__ == "__main__":
    unittest.main()
