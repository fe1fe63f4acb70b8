# Run the hidden tests against the workspace (the current directory) and print one summary line,
# "N passed, N failed", that outlast's command verifier reads. Exit status 0 only when all pass.
# A test method counts once, however many of its subTests fail.
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.getcwd())
suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py", top_level_dir=here)
result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
bad = result.failures + result.errors
failed_ids = {getattr(test, "test_case", test).id() for test, _ in bad}
failed = len(failed_ids) + len(result.unexpectedSuccesses)
passed = max(result.testsRun - len(result.skipped) - failed, 0)
if result.testsRun == 0:
    failed = 1  # nothing ran: that is a failure, not a pass
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
