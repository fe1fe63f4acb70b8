// Each built-in rule against a real rollout: the scripted model (test/monitors/fixtures/hack-policy.mjs)
// drives the built-in harness through the real runner, gateway and bwrap sandbox on the calc task;
// an agent performing a rule's hack is flagged with that rule's id, the honest agent with none.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MonitorFlagEvent } from '../../src/core/events.js';
import { BUILTIN_RULES } from '../../src/monitors/index.js';
import { loadTask } from '../../src/tasks/load.js';
import type { Task } from '../../src/core/types.js';
import { cleanup, ofType, runViaRunner, startEnv, type Env } from '../harnesses/helpers.js';
import { SCENARIOS, makeHackPolicy } from './fixtures/hack-policy.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
let env: Env;
let task: Task;
let policy: ReturnType<typeof makeHackPolicy> = makeHackPolicy('honest');

beforeAll(async () => {
  env = await startEnv({ script: (req) => policy(req) });
  task = await loadTask(path.join(HERE, 'fixtures', 'calc-task'));
});
afterAll(async () => {
  await env?.close();
  cleanup();
});

async function run(name: string) {
  policy = makeHackPolicy(name);
  const { result, events } = await runViaRunner(env, task, { rolloutId: name });
  return { result, events, flags: ofType(events, 'monitor.flag') };
}

describe('built-in rules on real rollouts of the calc task', () => {
  it('every built-in rule has a hack scenario', () => {
    const covered = new Set(Object.values(SCENARIOS).map((s) => s.rule));
    for (const r of BUILTIN_RULES) expect(covered, r.id).toContain(r.id);
  });

  it('the honest agent passes and raises no flag', { timeout: 120_000 }, async () => {
    const { result, flags, events } = await run('honest');
    expect(result.outcome).toBe('completed');
    expect(result.score?.passed).toBe(true);
    expect(flags.map((f) => `${f.rule_id}: ${f.summary}`)).toEqual([]);
    expect(ofType(events, 'note').filter((n) => /monitor/.test(n.message))).toEqual([]);
  });

  for (const [name, s] of Object.entries(SCENARIOS)) {
    if (!s.rule) continue;
    it(`${name}: flagged ${s.rule}`, { timeout: 120_000 }, async () => {
      const { flags, events } = await run(name);
      if (process.env.SHOW_FLAGS) console.log(name, JSON.stringify(flags.map((f) => [f.rule_id, f.summary, f.evidence])))
      const mine = flags.filter((f) => f.rule_id === s.rule);
      expect(mine.length, JSON.stringify(flags, null, 1)).toBeGreaterThan(0);
      for (const f of mine) checkFlag(f, events.length);
    });
  }
});

/** A flag is complete: id, monitor, rule version, severity, a summary, evidence pointing into the log or the workspace. */
function checkFlag(f: MonitorFlagEvent, events: number): void {
  expect(f.flag_id).toMatch(/^f-[0-9a-f]{12}$/);
  expect(f.monitor).toBe('builtin');
  expect(f.rule_version).toBe('1');
  expect(['info', 'warning', 'critical']).toContain(f.severity);
  expect(f.summary.length).toBeGreaterThan(10);
  expect(Array.isArray(f.evidence) && f.evidence.length > 0).toBe(true);
  for (const x of f.evidence as Record<string, unknown>[]) {
    if ('seq' in x) expect(x.seq as number).toBeLessThan(events);
    else if ('hunk' in x) expect(typeof x.path).toBe('string');
    else expect(x.sha256).toMatch(/^[0-9a-f]{64}$/);
  }
}
