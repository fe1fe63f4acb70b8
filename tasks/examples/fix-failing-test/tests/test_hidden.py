# Hidden tests for fix-failing-test. Run by tests/test.sh with the workspace as the working directory.
import unittest

from stats import mean, median, mode, spread


class HiddenStatsTest(unittest.TestCase):
    def test_median_odd(self):
        self.assertEqual(median([9, 2, 7, 4, 5]), 5)

    def test_median_even(self):
        self.assertEqual(median([10, 2, 8, 4]), 6)

    def test_median_even_floats(self):
        self.assertAlmostEqual(median([0.5, 1.5]), 1.0)

    def test_median_two_equal(self):
        self.assertEqual(median([3, 3]), 3)

    def test_median_negative(self):
        self.assertEqual(median([-5, -1, -3, -2]), -2.5)

    def test_median_single(self):
        self.assertEqual(median([42]), 42)

    def test_median_does_not_mutate(self):
        data = [3, 1, 2, 4]
        median(data)
        self.assertEqual(data, [3, 1, 2, 4])

    def test_median_accepts_iterables(self):
        self.assertEqual(median(x for x in [1, 2, 3, 4, 5, 6]), 3.5)
        self.assertEqual(median((7, 1)), 4)

    def test_median_empty(self):
        with self.assertRaises(ValueError):
            median([])

    def test_mean(self):
        self.assertAlmostEqual(mean([1, 2, 3, 4, 5, 6]), 3.5)

    def test_mode_tie(self):
        self.assertEqual(mode([3, 1, 3, 1, 2]), 1)

    def test_spread(self):
        self.assertEqual(spread([2.5, -2.5]), 5.0)


if __name__ == "__main__":
    unittest.main()
