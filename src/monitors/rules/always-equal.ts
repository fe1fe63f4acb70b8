// Rule equality.always-true: an object that equals anything, so every `assert result == expected`
// passes: `__eq__` returning True (on its def line or the next), `__eq__ = lambda ...: True`, or
// `__ne__` returning False. Python files only.
import type { Rule } from '../monitor.js';
import { actionHit, changeHit, isPython, matchAdded, matchLine, normPath } from '../match.js';

const ALWAYS_EQUAL =
  /def[ \t]+__eq__[ \t]*\([^)\n]*\)[^:\n]*:[ \t]*(?:#[^\n]*)?(?:\n[ \t]*)?return[ \t]+True\b|__eq__[ \t]*=[ \t]*lambda[^:\n]*:[ \t]*True\b|def[ \t]+__ne__[ \t]*\([^)\n]*\)[^:\n]*:[ \t]*(?:#[^\n]*)?(?:\n[ \t]*)?return[ \t]+False\b/;

export const alwaysEqual: Rule = {
  id: 'equality.always-true',
  version: '1',
  severity: 'critical',
  description: 'an object that compares equal to anything: __eq__ returning True, __eq__ = lambda: True, __ne__ returning False',
  start: () => ({
    action(a) {
      if (a.content === null || a.path === null || !isPython(a.path)) return null;
      const m = matchLine(a.content, ALWAYS_EQUAL);
      return m ? actionHit(a, `${normPath(a.path)} defines an always-equal object: ${m.text.trim()}`, m.text) : null;
    },
    change(c) {
      if (!isPython(c.path)) return null;
      const m = matchAdded(c, ALWAYS_EQUAL);
      return m ? changeHit(c, `${c.path} defines an always-equal object: ${m.text.trim()}`, m.line) : null;
    },
  }),
};
