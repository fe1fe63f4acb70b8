// Provider outages as the log records them: the backoff between tries, and the fold (WaitClock) that
// the harness's budget and the runner's totals and backstop timer all use, so that time spent
// waiting for the provider is never charged as wall or working time, across resumes too.
import { describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { DEFAULT_OUTAGE_PATIENCE_SEC, WaitClock, outageBackoffMs, outagePatienceMs } from '../../src/core/outage.js';
import { BudgetTracker } from '../../src/harnesses/outlast/budget.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
let seq = 0;
const at = (ms: number) => new Date(T0 + ms).toISOString();
const ev = (ms: number, e: Record<string, unknown>) => ({ t: at(ms), seq: seq++, ...e }) as unknown as TrajectoryEvent;
const started = (ms: number) => ev(ms, { type: 'rollout.started', spec: {}, versions: {}, sandbox: {} });
const wait = (ms: number, since: number, attempt: number) => ev(ms, { type: 'outage.wait', since: at(since), attempt, next_in_ms: 100, reason: 'HTTP 503', patience_left_ms: 1 });
const end = (ms: number, since: number) => ev(ms, { type: 'outage.end', since: at(since), waited_ms: ms - since, attempts: 3, recovered: true });
const response = (ms: number, retryWait: number) =>
  ev(ms, { type: 'model.response', call_id: 'c', protocol: 'openai-chat', model: 'm', status: 200, usage: { input: 0, cached: 0, cache_write: 0, output: 0, reasoning: 0 }, cost_usd: 0, retries: 1, retry_wait_ms: retryWait });

describe('backoff and patience', () => {
  it('doubles from the base, stops at the cap, and jitters within [0.5, 1) of it', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => outageBackoffMs(a, 1000, 10_000, () => 0.999999))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(outageBackoffMs(1, 1000, 10_000, () => 0)).toBe(500);
    for (let i = 0; i < 100; i++) {
      const w = outageBackoffMs(20, 1000, 60_000);
      expect(w).toBeGreaterThanOrEqual(30_000);
      expect(w).toBeLessThanOrEqual(60_000);
    }
  });

  it('defaults to 30 minutes; 0 is no patience', () => {
    expect(DEFAULT_OUTAGE_PATIENCE_SEC).toBe(1800);
    expect(outagePatienceMs({})).toBe(1_800_000);
    expect(outagePatienceMs({ outage_patience_sec: 0 })).toBe(0);
  });
});

describe('WaitClock', () => {
  it('counts an outage from its first wait to its end, and the gateway retry waits outside outages only', () => {
    const c = new WaitClock();
    for (const e of [started(0), response(500, 300), wait(1000, 1000, 1), response(1500, 700), wait(1600, 1000, 2), response(4000, 900), end(4000, 1000), response(5000, 200)]) c.observe(e);
    expect(c.outageMs(9000)).toBe(3000);
    expect(c.retryWaitMs).toBe(500); // 300 + 200: the 700 and 900 were spent inside the outage
    expect(c.since).toBeNull();
  });

  it('counts an outage in progress up to now', () => {
    const c = new WaitClock();
    for (const e of [started(0), wait(1000, 1000, 1), wait(2000, 1000, 2)]) c.observe(e);
    expect(c.since).toBe(T0 + 1000);
    expect(c.outageMs(T0 + 6000)).toBe(5000);
  });

  it('closes an outage the runner died in at the last event before the restart', () => {
    const c = new WaitClock();
    for (const e of [started(0), wait(1000, 1000, 1), wait(3000, 1000, 2), started(60_000), response(61_000, 0)]) c.observe(e);
    expect(c.since).toBeNull();
    expect(c.outageMs(T0 + 100_000)).toBe(2000); // not the 59 s the runner was down
  });

  it('caps each outage', () => {
    const c = new WaitClock(1000);
    for (const e of [started(0), wait(0, 0, 1)]) c.observe(e);
    expect(c.outageMs(T0 + 50_000)).toBe(1000);
  });
});

describe('the budget', () => {
  it('does not charge an outage to the wall-time or working-time limit', () => {
    const b = new BudgetTracker({ wall_time_sec: 4, working_time_sec: 4 });
    for (const e of [started(0), wait(1000, 1000, 1), end(6000, 1000)]) b.observe(e);
    expect(b.used(T0 + 8000)).toMatchObject({ wall_ms: 8000, outage_ms: 5000, limit_wall_ms: 3000, working_ms: 3000 });
    expect(b.exhausted(T0 + 8000)).toBeNull();
    expect(b.timeLeftMs(T0 + 8000)).toBe(1000);
    expect(b.exhausted(T0 + 9500)).toMatch(/wall time limit reached \(4\.5s of 4s, not counting 5\.0s of provider outages\)/);
  });

  it('stands still while an outage lasts', () => {
    const b = new BudgetTracker({ wall_time_sec: 10 });
    for (const e of [started(0), wait(2000, 2000, 1)]) b.observe(e);
    expect(b.timeLeftMs(T0 + 3000, false)).toBe(8000);
    expect(b.timeLeftMs(T0 + 600_000, false)).toBe(8000);
    expect(b.outageSince()).toBe(T0 + 2000);
  });
});
