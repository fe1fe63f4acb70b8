// The runner's backstop timer on a harness: it fires after the limit, not counting provider outages
// (as the harness's own budget does not), and each outage counts only up to its patience (plus a
// grace), so a harness stuck in one is still stopped.
import { describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { HarnessTimer } from '../../src/runner/harness-timer.js';

const now = () => new Date().toISOString();
const wait = (): TrajectoryEvent => ({ t: now(), seq: 0, type: 'outage.wait', since: now(), attempt: 1, next_in_ms: 100, reason: 'HTTP 503', patience_left_ms: 1000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HarnessTimer', () => {
  it('fires after its limit', async () => {
    let fired = 0;
    const t = new HarnessTimer(100, 1000, () => fired++);
    await sleep(400);
    expect(fired).toBe(1);
    t.stop();
  });

  it('does not fire during an outage, and fires once the outage is over and the limit spent', async () => {
    let fired = 0;
    const t = new HarnessTimer(300, 60_000, () => fired++);
    const w = wait();
    t.observe(w);
    await sleep(800);
    expect(fired).toBe(0);
    const since = Date.parse(w.t);
    t.observe({ t: now(), seq: 1, type: 'outage.end', since: w.t, waited_ms: Date.now() - since, attempts: 3, recovered: true });
    await sleep(1200);
    expect(fired).toBe(1);
    t.stop();
  });

  it('stopped, never fires', async () => {
    let fired = 0;
    const t = new HarnessTimer(50, 0, () => fired++);
    t.stop();
    await sleep(200);
    expect(fired).toBe(0);
  });
});
