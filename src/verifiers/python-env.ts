// Python hardening for the processes a verification runs (the grading code and the agent's code run
// through agent-run). Hardening, not a guarantee: it closes the cheap ways a workspace changes what
// Python runs, while code the tests import on purpose still runs (docs/security.md).
//   PYTHONSAFEPATH=1          the script's directory or the cwd (the agent's workspace) is not put
//                             first on sys.path: a workspace `pytest.py` cannot shadow pytest
//                             under `python3 -m pytest` (Python 3.11+; `-P` on our own command lines)
//   PYTHONDONTWRITEBYTECODE=1 nothing is written next to the sources
//   PYTHONPYCACHEPREFIX       byte code is read from (and would be written to) a private directory
//                             under the sandbox's /tmp, never from the workspace's __pycache__/: an
//                             unchecked-hash .pyc there cannot stand in for the .py beside it
export const PYTHON_HARDENING: Readonly<Record<string, string>> = {
  PYTHONSAFEPATH: '1',
  PYTHONDONTWRITEBYTECODE: '1',
  PYTHONPYCACHEPREFIX: '/tmp/outlast-pycache',
};
