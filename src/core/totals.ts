// Totals derived from trajectory events. Pure functions: the log is the source of truth, so
// budgets and totals are always recomputed from it (which is what makes them survive a restart).
import type { TrajectoryEvent } from './events.js';
import type { Usage } from './types.js';
import { addUsage, zeroUsage } from './usage.js';

export interface ModelTotals {
  calls: number;
  usage: Usage;
  cost_usd: number;
  /** Time spent waiting on upstream retries (excluded from working time). */
  retry_wait_ms: number;
  /** Calls in flight when an attempt stopped (model.unmetered), with their estimates: never in `usage` or `cost_usd`. */
  unmetered: { calls: number; usage: Usage; cost_usd: number };
}

export function modelTotals(events: Iterable<TrajectoryEvent>): ModelTotals {
  const t: ModelTotals = { calls: 0, usage: zeroUsage(), cost_usd: 0, retry_wait_ms: 0, unmetered: { calls: 0, usage: zeroUsage(), cost_usd: 0 } };
  for (const e of events) {
    if (e.type === 'model.unmetered') {
      t.unmetered.calls++;
      t.unmetered.usage = addUsage(t.unmetered.usage, e.usage);
      t.unmetered.cost_usd += e.cost_usd;
      continue;
    }
    if (e.type !== 'model.response') continue;
    t.calls++;
    t.usage = addUsage(t.usage, e.usage);
    t.cost_usd += e.cost_usd;
    t.retry_wait_ms += e.retry_wait_ms;
  }
  return t;
}
