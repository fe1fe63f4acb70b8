// Provider outages, through the real runner: the scripted model behind a proxy that goes down
// (connection refused, or 503 to everything) for longer than the gateway's and the harness's quick
// retries. Within the outage patience the harness waits it out (outage.wait … outage.end) and the
// rollout ends exactly like an uninterrupted one, its wall-time limit not spent on the wait; past the
// patience it ends infra_error with the reason, and continuing it once the provider is back
// (retryInfra, what `outlast resume` does) completes it, again like an uninterrupted run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import type { Task } from '../../src/core/types.js';
// @ts-expect-error: plain JS fixture
import { makeStepPolicy } from './fixtures/step-policy.mjs';
import { cleanup, ofType, runViaRunner, snapshot, startEnv, stepTask, tmpdir, type Env } from './helpers.js';
import type { OutageKind } from '../helpers/flaky-upstream.js';

const STEPS = 6;
/** Short settings: tries every 50-400 ms; the gateway's own retries take milliseconds (helpers.ts). */
const FAST = { outage_backoff_ms: 100, outage_backoff_max_ms: 400 };

let env: Env;
let task: Task;
let baseline: { calls: unknown[]; score: number | null; workspace: Record<string, string> };

const callsOf = (events: TrajectoryEvent[]) => ofType(events, 'tool.call').filter((c) => !c.repeated).map((c) => [c.name, c.arguments]);
const finishedOf = (events: TrajectoryEvent[]) => ofType(events, 'rollout.finished').at(-1)!;

/** Take the provider down when the rollout's `n`th tool result is logged. */
function downAt(n: number, kind: OutageKind, ms?: number) {
  let seen = 0;
  return (e: TrajectoryEvent): void => {
    if (e.type === 'tool.result' && ++seen === n) env.upstream!.down(kind, ms);
  };
}

beforeAll(async () => {
  env = await startEnv({ script: makeStepPolicy({ steps: STEPS, bashEvery: 2 }), flaky: true });
  task = await stepTask({ steps: STEPS });
  const r = await runViaRunner(env, task, { settings: FAST });
  expect(r.result.outcome).toBe('completed');
  baseline = { calls: callsOf(r.events), score: r.result.score?.value ?? null, workspace: snapshot(r.workspace) };
  expect(baseline.calls).toHaveLength(STEPS + 1);
  expect(baseline.score).toBe(1);
});
afterAll(async () => {
  await env?.close();
  cleanup();
});

describe('an outage longer than the retries, back within the patience', () => {
  for (const kind of ['refuse', '503'] as const) {
    it(`(${kind}) is waited out: same tool calls, workspace and score; the wait logged and not charged to the wall-time limit`, { timeout: 60_000 }, async () => {
      // 4 s of wall time for the rollout, a 5 s outage in the middle: only a wait that is not charged fits.
      const r = await runViaRunner(env, task, { settings: FAST, limits: { wall_time_sec: 4, outage_patience_sec: 30 }, onEvent: downAt(2, kind, 5000) });
      expect(r.result.outcome, r.result.reason).toBe('completed');
      expect(callsOf(r.events)).toEqual(baseline.calls);
      expect(snapshot(r.workspace)).toEqual(baseline.workspace);
      expect(r.result.score?.value).toBe(baseline.score);

      const waits = ofType(r.events, 'outage.wait');
      // More tries than the quick ones: the outage outlasted them.
      expect(waits.length).toBeGreaterThan(3);
      expect(waits.map((w) => w.attempt)).toEqual(waits.map((_, i) => i + 1));
      expect(new Set(waits.map((w) => w.since)).size).toBe(1);
      for (const w of waits) expect(w.next_in_ms).toBeLessThanOrEqual(FAST.outage_backoff_max_ms);
      expect(waits[0]!.reason).toMatch(kind === '503' ? /503/ : /502|unreachable|connection|upstream/i);
      const [end] = ofType(r.events, 'outage.end');
      expect(end).toMatchObject({ since: waits[0]!.since, recovered: true, attempts: waits.length });
      expect(end!.waited_ms).toBeGreaterThanOrEqual(4500);
      // Every wait sits between the failure that opened the outage and its end, in the log's order.
      const seqEnd = end!.seq;
      expect(waits.every((w) => w.seq < seqEnd)).toBe(true);

      const fin = finishedOf(r.events);
      expect(fin.totals.outage_ms).toBeGreaterThanOrEqual(end!.waited_ms);
      expect(fin.totals.working_ms).toBeLessThanOrEqual(fin.totals.wall_ms - end!.waited_ms);
      expect(fin.totals.harness_ms).toBeGreaterThan(5000); // longer than the wall-time limit: the wait did not count
    });
  }
});

describe('an outage past the patience', () => {
  it('ends infra_error with the reason; continued once the provider is back, it ends like an uninterrupted run', { timeout: 60_000 }, async () => {
    const home = tmpdir('outlast-home-');
    const r = await runViaRunner(env, task, { home, settings: FAST, limits: { outage_patience_sec: 2 }, onEvent: downAt(3, 'refuse') });
    expect(r.result.outcome).toBe('infra_error');
    expect(r.result.reason).toMatch(/provider outage: model calls failed for \d+s, past the outage patience of 2s .*outlast resume/);
    expect(ofType(r.events, 'outage.end')).toEqual([expect.objectContaining({ recovered: false })]);
    expect(ofType(r.events, 'verifier.result')).toEqual([]); // infrastructure failed: nothing graded
    expect(finishedOf(r.events).totals.outage_ms).toBeGreaterThanOrEqual(2000);

    // Not continued unless asked: a finished rollout.
    await env.upstream!.up();
    const again = await runViaRunner(env, task, { home, settings: FAST, limits: { outage_patience_sec: 2 } });
    expect(again.result).toMatchObject({ already_finished: true, outcome: 'infra_error' });

    const resumed = await runViaRunner(env, task, { home, settings: FAST, limits: { outage_patience_sec: 2 }, retryInfra: true });
    expect(resumed.result.outcome, resumed.result.reason).toBe('completed');
    expect(resumed.result.already_finished).toBe(false);
    expect(callsOf(resumed.events)).toEqual(baseline.calls);
    expect(snapshot(resumed.workspace)).toEqual(baseline.workspace);
    expect(resumed.result.score?.value).toBe(baseline.score);
    const finishes = ofType(resumed.events, 'rollout.finished');
    expect(finishes.map((f) => f.outcome)).toEqual(['infra_error', 'completed']);
    expect(ofType(resumed.events, 'rollout.started').at(-1)).toMatchObject({ resumed: true });
    expect(resumed.events.map((e) => e.seq)).toEqual(resumed.events.map((_, i) => i));
  });
});
