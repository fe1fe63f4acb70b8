// Time across attempts. A rollout stopped before it finished (a crash, Ctrl-C, a full disk) and
// continued by `outlast resume` runs in several attempts: each runs from its `rollout.started` to the
// last event before the next one (the current attempt: to now). A rollout's times are the sums over
// its attempts, so the time between a stop and its resume counts for nobody, and a rollout killed at
// 95% still reports its whole duration. Pure: a fold over trajectory events, in log order.
import type { TrajectoryEvent } from './events.js';

export interface AttemptTimes {
  /** How many attempts the log shows (each `rollout.started` opens one; at least 1 once any event is seen). */
  attempts: number;
  /** Wall time summed over the attempts. */
  wall_ms: number;
  /** Time in the harness phase (`phase harness started` to its end), summed over the attempts. */
  harness_ms: number;
  /** Time grading (`phase snapshot started` to `phase verify` done or failed), summed over the attempts. */
  verify_ms: number;
}

/** Folds events into AttemptTimes; feed it the log (and then each new event) in order. */
export class AttemptClock {
  private count = 0;
  private closed = { wall: 0, harness: 0, verify: 0 };
  private start: number | null = null;
  private last = 0;
  private harnessFrom: number | null = null;
  private verifyFrom: number | null = null;

  observe(e: TrajectoryEvent): void {
    const t = Date.parse(e.t);
    if (!Number.isFinite(t)) return;
    if (e.type === 'rollout.started') {
      this.closeAttempt();
      this.count++;
      this.start = t;
    } else if (this.start === null) {
      // a log that does not begin with rollout.started (hand-written, or cut): its first event opens it
      this.count = Math.max(1, this.count);
      this.start = t;
    }
    if (e.type === 'phase') {
      if (e.phase === 'harness') {
        if (e.status === 'started') this.harnessFrom = t;
        else this.harnessFrom = this.closeSpan(this.harnessFrom, t, 'harness');
      } else if (e.phase === 'snapshot' && e.status === 'started') {
        this.verifyFrom ??= t;
      } else if ((e.phase === 'verify' && e.status !== 'started') || (e.phase === 'snapshot' && e.status === 'failed') || e.phase === 'finish') {
        this.verifyFrom = this.closeSpan(this.verifyFrom, t, 'verify');
      }
    }
    if (t > this.last) this.last = t;
  }

  /** The sums so far; the current attempt runs to `nowMs` (default: its last event). */
  times(nowMs?: number): AttemptTimes {
    const end = Math.max(this.last, nowMs ?? this.last);
    const open = (from: number | null): number => (from === null ? 0 : Math.max(0, end - from));
    return {
      attempts: this.count,
      wall_ms: this.closed.wall + open(this.start),
      harness_ms: this.closed.harness + open(this.harnessFrom),
      verify_ms: this.closed.verify + open(this.verifyFrom),
    };
  }

  private closeSpan(from: number | null, t: number, which: 'harness' | 'verify'): null {
    if (from !== null) this.closed[which] += Math.max(0, t - from);
    return null;
  }

  /** The attempt in progress ended with its last event: add its spans. */
  private closeAttempt(): void {
    if (this.start === null) return;
    const end = this.last;
    this.closed.wall += Math.max(0, end - this.start);
    this.harnessFrom = this.closeSpan(this.harnessFrom, end, 'harness');
    this.verifyFrom = this.closeSpan(this.verifyFrom, end, 'verify');
  }
}

/** AttemptTimes of a whole log (the last attempt ending at its last event, or at `nowMs`). */
export function attemptTimes(events: Iterable<TrajectoryEvent>, nowMs?: number): AttemptTimes {
  const c = new AttemptClock();
  for (const e of events) c.observe(e);
  return c.times(nowMs);
}
