// Flags and their review state, folded from a rollout's events (pure): each `monitor.flag` with the
// `review.decision`s on it and its alerts' delivery attempts, in log order. The last decision counts: `confirmed` and `dismissed`
// close a flag, `needs_info` leaves it in the queue; a flag without one is open ("unreviewed").
import type { AlertEvent, MonitorFlagEvent, ReviewDecisionEvent, TrajectoryEvent } from './events.js';

export type FlagState = 'open' | 'needs_info' | 'confirmed' | 'dismissed';

export interface FlagReview {
  flag: MonitorFlagEvent;
  decisions: ReviewDecisionEvent[];
  state: FlagState;
  /** Delivery attempts of its alert (src/monitors/alerts.ts). */
  alerts: AlertEvent[];
}

/** The flags of a log with their decisions, in the order they were raised. */
export function flagReviews(events: Iterable<TrajectoryEvent>): FlagReview[] {
  const byId = new Map<string, FlagReview>();
  for (const e of events) {
    if (e.type === 'monitor.flag') {
      if (!byId.has(e.flag_id)) byId.set(e.flag_id, { flag: e, decisions: [], state: 'open', alerts: [] });
    } else if (e.type === 'review.decision') {
      const r = byId.get(e.flag_id);
      if (!r) continue;
      r.decisions.push(e);
      r.state = e.decision;
    } else if (e.type === 'alert') byId.get(e.flag_id)?.alerts.push(e);
  }
  return [...byId.values()];
}

/** Still waiting for a person: no decision yet, or more information asked for. */
export const isPending = (s: FlagState): boolean => s === 'open' || s === 'needs_info';

export const SEVERITY_RANK: Record<MonitorFlagEvent['severity'], number> = { critical: 0, warning: 1, info: 2 };
