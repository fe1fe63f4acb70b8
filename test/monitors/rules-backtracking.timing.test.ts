// The built-in rules on adversarial text: an agent chooses what rules scan, so no pattern may
// backtrack over a long input. 1 MB of filler after each pattern's start must take one pass.
import { expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { change } from '../../src/monitors/diff.js';
import { builtinMonitor } from '../../src/monitors/index.js';

const at = { t: '2026-01-01T00:00:00.000Z' };
const call = (name: string, args: Record<string, unknown>): TrajectoryEvent => ({ ...at, seq: 0, type: 'tool.call', call_id: 'c', name, arguments: args });
const bash = (command: string) => call('bash', { command });
const write = (path: string, content: string) => call('write_file', { path, content });
const added = (path: string, text: string) => change(path, 'added', 'file', null, Buffer.from(text));

it('cost one pass over adversarial text: 1 MB of blanks after a pattern start returns at once', () => {
  const m = builtinMonitor();
  const t0 = performance.now();
  for (const text of ['os._exit(' + ' '.repeat(1 << 20), 'def __eq__(' + 'a'.repeat(1 << 20), '\n'.repeat(1 << 20) + '[tool.pytest', 'pytest -k' + ' '.repeat(1 << 20)]) {
    m.event!(write('calc.py', text));
    m.event!(bash(text));
    m.changes!([added('calc.py', text), added('pyproject.toml', text)]);
  }
  // not a timing assertion of speed: a backtracking pattern would take minutes here, one pass milliseconds
  expect(performance.now() - t0).toBeLessThan(20_000);
});
