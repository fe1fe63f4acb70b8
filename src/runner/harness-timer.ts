// The runner's backstop on a harness that overruns its wall-time limit: it fires once the harness has
// run for `limitMs` (its limit plus a grace), not counting time the rollout spent waiting for its
// provider in an outage (outage.wait … outage.end, src/core/outage.ts), which the harness's own
// budget does not count either. Each outage counts at most its patience plus a grace, so a harness
// that never ends one is still stopped.
import type { TrajectoryEvent } from '../core/events.js';
import { WaitClock } from '../core/outage.js';

/** Extra time an outage may run past its patience before the backstop counts it as working time. */
const OUTAGE_GRACE_MS = 5 * 60_000;

export class HarnessTimer {
  private timer: NodeJS.Timeout | null = null;
  private readonly waits: WaitClock;
  private readonly started = Date.now();
  private stopped = false;

  constructor(
    private readonly limitMs: number,
    outagePatienceMs: number,
    private readonly onExpire: () => void,
  ) {
    this.waits = new WaitClock(outagePatienceMs + OUTAGE_GRACE_MS);
    this.arm();
  }

  /** Feed every event the harness appends from now on. */
  observe(e: TrajectoryEvent): void {
    this.waits.observe(e);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private arm(): void {
    if (this.stopped) return;
    const now = Date.now();
    const left = this.limitMs - (now - this.started - this.waits.outageMs(now));
    if (left <= 0) {
      this.stopped = true;
      this.onExpire();
      return;
    }
    this.timer = setTimeout(() => this.arm(), left);
    this.timer.unref();
  }
}
