// Recording a person's decision on a flag: a `review.decision` event appended to the flag's rollout
// log (synced before this returns), with the reviewer, a note and the time from the flag to the
// decision. Never while a runner is writing that log (src/store/owner.ts): two writers would
// interleave their lines' seqs. A crashed runner's log is free, so a decision after a kill is fine.
import { UserError } from '../core/errors.js';
import type { ReviewDecisionEvent } from '../core/events.js';
import { openForReview } from './log-access.js';

export interface Decision {
  trajectory: string;
  rollout_id: string;
  flag_id: string;
  decision: ReviewDecisionEvent['decision'];
  reviewer: string;
  note?: string;
}

/** Append the decision; returns the event and where it was written (for the store's index). */
export function recordDecision(d: Decision, now = Date.now()): { event: ReviewDecisionEvent; where: { offset: number; length: number } } {
  if (!d.reviewer.trim()) throw new UserError('a decision needs a reviewer: pass --reviewer or set $USER');
  const { log, close } = openForReview(d.trajectory, d.rollout_id);
  try {
    const flag = log.existing.find((e) => e.type === 'monitor.flag' && e.flag_id === d.flag_id);
    if (!flag) throw new UserError(`rollout ${d.rollout_id} has no flag ${d.flag_id}`);
    let where = { offset: 0, length: 0 };
    log.onEvent((_e, w) => (where = w));
    const event = log.append({
      type: 'review.decision',
      flag_id: d.flag_id,
      decision: d.decision,
      reviewer: d.reviewer.trim(),
      ...(d.note?.trim() ? { note: d.note.trim() } : {}),
      ...(flag.type === 'monitor.flag' ? { rule_id: flag.rule_id } : {}),
      after_ms: Math.max(0, now - Date.parse(flag.t)),
    }) as ReviewDecisionEvent;
    return { event, where };
  } finally {
    close();
  }
}
