// Recording a person's decision on a flag: a `review.decision` event appended to the flag's rollout
// log (synced before this returns), with the reviewer, a note and the time from the flag to the
// decision. Never while a runner is writing that log (src/store/owner.ts): two writers would
// interleave their lines' seqs. A crashed runner's log is free, so a decision after a kill is fine.
import { UserError } from '../core/errors.js';
import type { ReviewDecisionEvent } from '../core/events.js';
import { logOwner } from '../store/owner.js';
import { TrajectoryWriter } from '../store/trajectory.js';

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
  const owner = logOwner(d.trajectory);
  if (owner && owner.pid !== process.pid) {
    throw new UserError(`rollout ${d.rollout_id} is running (process ${owner.pid}): decide on its flags once it has stopped`);
  }
  if (!d.reviewer.trim()) throw new UserError('a decision needs a reviewer: pass --reviewer or set $USER');
  const log = new TrajectoryWriter(d.trajectory, { fsync: true });
  try {
    const flag = log.existing.find((e) => e.type === 'monitor.flag' && e.flag_id === d.flag_id);
    if (!flag) throw new UserError(`rollout ${d.rollout_id} has no flag ${d.flag_id}`);
    // a crash's torn last line was cut off on opening: said in the log, as a resume would say it
    if (log.recovered.torn) log.append({ type: 'note', level: 'warning', message: `a torn last line (${log.recovered.torn.bytes} bytes, ${log.recovered.torn.reason}) was cut from the log to record a review decision` });
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
    log.close();
  }
}
