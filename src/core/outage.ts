// Provider outages as the trajectory records them (docs/trajectory-format.md: `outage.wait`,
// `outage.end`): the patience a rollout has for them, the backoff between tries, and the fold that
// says how long a rollout has waited on its provider, which is not working time (nor wall time for
// the wall-time limit). Pure: the log is the source of truth, so the waits survive a resume.
import type { TrajectoryEvent } from './events.js';
import type { Limits } from './types.js';

/** How long model calls that fail for infrastructure reasons are retried when `[limits]` says nothing. */
export const DEFAULT_OUTAGE_PATIENCE_SEC = 1800;

/** The rollout's outage patience in milliseconds (`outage_patience_sec`, else the default). */
export function outagePatienceMs(limits: Limits): number {
  return (limits.outage_patience_sec ?? DEFAULT_OUTAGE_PATIENCE_SEC) * 1000;
}

/** Wait before try number `attempt` (1-based) of an outage: base·2^(attempt-1) capped at `maxMs`, times a jitter in [0.5, 1). */
export function outageBackoffMs(attempt: number, baseMs: number, maxMs: number, rand: () => number = Math.random): number {
  const nominal = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal * (0.5 + rand() * 0.5));
}

/**
 * Time spent waiting on the provider, folded over a rollout's events in order. An outage opens at
 * its first `outage.wait` (at the wait's `since`) and closes at its `outage.end` (`waited_ms`), or,
 * when the runner stopped during it, at the last event before the next `rollout.started`. The
 * gateway's own retry waits (`model.response.retry_wait_ms`) count outside outages only: inside
 * one, the outage's span already holds them.
 */
export class WaitClock {
  private closedMs = 0;
  private openSince: number | null = null;
  private lastT = 0;
  /** Milliseconds the gateway spent between retries of calls outside outages. */
  retryWaitMs = 0;

  /** @param capMs the most one outage may count (a harness that never ends one must not stop the clock forever). */
  constructor(private readonly capMs = Infinity) {}

  observe(e: TrajectoryEvent): void {
    const t = Date.parse(e.t);
    switch (e.type) {
      case 'rollout.started':
        if (this.openSince !== null) this.close(this.lastT - this.openSince);
        break;
      case 'outage.wait':
        if (this.openSince === null) this.openSince = Date.parse(e.since);
        break;
      case 'outage.end':
        if (this.openSince !== null) this.close(e.waited_ms);
        break;
      case 'model.response':
        if (this.openSince === null) this.retryWaitMs += e.retry_wait_ms;
        break;
      default:
        break;
    }
    if (t > this.lastT) this.lastT = t;
  }

  /** When the outage in progress began (ms since the epoch), or null when none is. */
  get since(): number | null {
    return this.openSince;
  }

  /** Milliseconds of outages so far, the one in progress counted up to `nowMs`. */
  outageMs(nowMs: number): number {
    return this.closedMs + (this.openSince === null ? 0 : this.clamp(nowMs - this.openSince));
  }

  private close(ms: number): void {
    this.closedMs += this.clamp(ms);
    this.openSince = null;
  }

  private clamp(ms: number): number {
    return Math.min(this.capMs, Math.max(0, ms));
  }
}
