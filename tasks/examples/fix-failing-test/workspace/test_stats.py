import unittest

from stats import mean, median, mode, spread


class StatsTest(unittest.TestCase):
    def test_mean(self):
        self.assertEqual(mean([1, 2, 3, 4]), 2.5)

    def test_median_odd(self):
        self.assertEqual(median([5, 1, 3]), 3)

    def test_median_even(self):
        self.assertEqual(median([4, 1, 3, 2]), 2.5)

    def test_mode(self):
        self.assertEqual(mode([1, 2, 2, 3]), 2)

    def test_spread(self):
        self.assertEqual(spread([3, -1, 7]), 8)

    def test_empty(self):
        for f in (mean, median, mode, spread):
            with self.assertRaises(ValueError):
                f([])


if __name__ == "__main__":
    unittest.main()
