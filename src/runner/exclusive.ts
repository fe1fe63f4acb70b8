// Rollouts share the machine, except exclusive ones — tasks graded by timing (the `speedup`
// verifier), whose agent evaluations and final grade would be distorted by anything running beside
// them — which run alone. A waiting exclusive rollout holds back new shared ones, so it is not starved.
import type { Task } from '../core/types.js';

/** Whether a task must run with nothing else on the machine. */
export function runsExclusively(task: Task): boolean {
  return task.verifier.kind === 'speedup';
}

export class ExclusiveGate {
  private shared = 0;
  private held = false;
  private waitingExclusive = 0;
  private waiters: (() => void)[] = [];

  /** Wait for a turn; returns the function that gives it back. */
  async acquire(exclusive: boolean): Promise<() => void> {
    if (exclusive) this.waitingExclusive++;
    while (exclusive ? this.held || this.shared > 0 : this.held || this.waitingExclusive > 0) {
      await new Promise<void>((r) => this.waiters.push(r));
    }
    if (exclusive) {
      this.waitingExclusive--;
      this.held = true;
      return () => this.release(() => (this.held = false));
    }
    this.shared++;
    return () => this.release(() => this.shared--);
  }

  private release(undo: () => void): void {
    undo();
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }
}
