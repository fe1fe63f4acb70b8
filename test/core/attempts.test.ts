// The pure folds behind numbers across attempts: AttemptClock (times summed over attempts, the
// pauses between them excluded) and the estimate of a call in flight at a crash (core/unmetered.ts).
import { describe, expect, it } from 'vitest';
import { attemptTimes } from '../../src/core/attempts.js';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { estimateUnmetered, unansweredRequests } from '../../src/core/unmetered.js';

const at = (s: number): string => new Date(Date.UTC(2026, 11, 1, 0, 0, s)).toISOString();
let seq = 0;
const ev = (s: number, e: Record<string, unknown>): TrajectoryEvent => ({ t: at(s), seq: seq++, ...e }) as unknown as TrajectoryEvent;
const phase = (s: number, p: string, status: string) => ev(s, { type: 'phase', phase: p, status });
const usage = (input: number, output: number) => ({ input, cached: 0, cache_write: 0, output, reasoning: 0 });

describe('AttemptClock', () => {
  it('sums attempts without the pause between them, and the harness and grading spans within them', () => {
    seq = 0;
    const log = [
      ev(0, { type: 'rollout.started' }),
      phase(1, 'harness', 'started'),
      ev(50, { type: 'tool.result' }), // killed here: attempt 1 = 50 s, harness 49 s
      ev(1000, { type: 'rollout.started', resumed: true }), // 950 s later
      phase(1001, 'harness', 'started'),
      phase(1031, 'harness', 'done'),
      phase(1031, 'snapshot', 'started'),
      phase(1040, 'verify', 'done'),
      ev(1041, { type: 'rollout.finished' }),
    ];
    expect(attemptTimes(log)).toEqual({ attempts: 2, wall_ms: 91_000, harness_ms: 79_000, verify_ms: 9_000 });
    // the attempt in progress runs to now
    expect(attemptTimes(log.slice(0, 5), Date.parse(at(1011))).wall_ms).toBe(61_000);
    expect(attemptTimes([])).toEqual({ attempts: 0, wall_ms: 0, harness_ms: 0, verify_ms: 0 });
  });
});

describe('a call in flight at a crash', () => {
  it('is found once, and estimated from the request size or from the call before it', () => {
    seq = 0;
    const log = [
      ev(0, { type: 'model.request', call_id: 'a' }),
      ev(1, { type: 'model.response', call_id: 'a', status: 200, usage: usage(1000, 100) }),
      ev(2, { type: 'tool.result', output: 'x'.repeat(400) }),
      ev(3, { type: 'model.request', call_id: 'b' }),
    ];
    const open = unansweredRequests(log);
    expect(open.map((r) => r.call_id)).toEqual(['b']);
    const pricing = { input: 2, cached_input: 0.5, cache_write: 2, output: 8 };
    const est = estimateUnmetered(log, open[0]!, pricing);
    expect(est).toEqual({ usage: usage(1100 + 100, 100), cost_usd: (1200 * 2 + 100 * 8) / 1e6, basis: 'previous_call' });
    const sized = estimateUnmetered(log, { ...open[0]!, request_bytes: 8000 }, null);
    expect(sized).toEqual({ usage: usage(2000, 100), cost_usd: 0, basis: 'request_bytes' });
    expect(estimateUnmetered(log, log[0] as never, null).basis).toBe('none');
    // recorded: not found again
    expect(unansweredRequests([...log, ev(9, { type: 'model.unmetered', call_id: 'b' })])).toEqual([]);
  });
});
