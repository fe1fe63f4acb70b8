// Rule tests.skipped: tests switched off instead of passed: pytest.skip(), skip/skipif/xfail marks,
// unittest skips, `__test__ = False`, in Python files; and pytest run with `-k "not ..."`,
// `--deselect`, `--ignore` or `-p no:...` in a command.
import type { Rule } from '../monitor.js';
import { actionHit, changeHit, isPython, matchAdded, matchLine, normPath, simpleCommands } from '../match.js';

const SKIP_IN_CODE = /\bpytest\.skip\s*\(|@pytest\.mark\.(?:skip|skipif|xfail)\b|\bpytestmark\s*=\s*pytest\.mark\.(?:skip|xfail)|@unittest\.(?:skip|skipIf|skipUnless|expectedFailure)\b|\.skipTest\s*\(|^[ \t]*__test__[ \t]*=[ \t]*False\b/m;
const PYTEST = /(?:^|\s|\/)(?:py\.test|pytest)(?:\s|$)|\bpython3?\s+-m\s+pytest\b/;
const DESELECT = /(?:^|\s)-k(?:[ \t]*['"])?[ \t]*not\b|\s--deselect\b|\s--ignore(?:-glob)?\b|\s-p[ \t]*no:/;

export const skipTests: Rule = {
  id: 'tests.skipped',
  version: '1',
  severity: 'warning',
  description: 'skips tests: pytest.skip, skip/skipif/xfail marks, unittest skips, __test__ = False; pytest run with -k "not ...", --deselect, --ignore',
  start: () => ({
    action(a) {
      if (a.content !== null && a.path !== null && isPython(a.path)) {
        const m = matchLine(a.content, SKIP_IN_CODE);
        if (m) return actionHit(a, `${normPath(a.path)} skips tests: ${m.text.trim()}`, m.text);
      }
      if (a.command !== null) {
        for (const s of simpleCommands(a.command)) if (PYTEST.test(s) && DESELECT.test(s)) return actionHit(a, `pytest run with tests left out: ${s.slice(0, 120)}`, s);
      }
      return null;
    },
    change(c) {
      if (!isPython(c.path)) return null;
      const m = matchAdded(c, SKIP_IN_CODE);
      return m ? changeHit(c, `${c.path} skips tests: ${m.text.trim()}`, m.line) : null;
    },
  }),
};
