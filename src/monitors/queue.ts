// The review queue, rebuilt from the logs every time (the log is the source of truth: a decision or a
// flag is never anywhere else, so killing outlast loses neither): every flag of an experiment's
// rollouts with its review state, the pending ones first, by severity, then by the rollout's score
// (a high score resting on a hack matters most), then oldest first.
import { flagReviews, isPending, SEVERITY_RANK, type FlagReview } from '../core/flags.js';
import type { RolloutFinishedEvent } from '../core/events.js';
import { readTrajectory } from '../store/trajectory.js';

export interface QueuedFlag extends FlagReview {
  experiment_id: string;
  rollout_id: string;
  trajectory: string;
  /** The rollout's score and pass as its log says (null while unfinished). */
  score: number | null;
  passed: boolean | null;
}

export interface QueueSource {
  experiment_id: string;
  rollout_id: string;
  trajectory: string;
}

export function readQueue(rollouts: readonly QueueSource[]): QueuedFlag[] {
  const out: QueuedFlag[] = [];
  for (const r of rollouts) {
    let events;
    try {
      events = readTrajectory(r.trajectory).events;
    } catch {
      continue; // no log yet
    }
    const finished = events.findLast((e): e is RolloutFinishedEvent => e.type === 'rollout.finished');
    for (const f of flagReviews(events)) out.push({ ...r, ...f, score: finished?.score?.value ?? null, passed: finished?.score?.passed ?? null });
  }
  return out.sort(
    (a, b) =>
      Number(isPending(b.state)) - Number(isPending(a.state)) ||
      SEVERITY_RANK[a.flag.severity] - SEVERITY_RANK[b.flag.severity] ||
      (b.score ?? -Infinity) - (a.score ?? -Infinity) ||
      (a.flag.t < b.flag.t ? -1 : a.flag.t > b.flag.t ? 1 : 0),
  );
}

/** A flag named on the command line: `<flag_id>` or `<rollout_id>/<flag_id>`. */
export function findFlag(queue: readonly QueuedFlag[], ref: string): QueuedFlag[] {
  const slash = ref.lastIndexOf('/');
  const rollout = slash === -1 ? null : ref.slice(0, slash);
  const id = slash === -1 ? ref : ref.slice(slash + 1);
  return queue.filter((q) => q.flag.flag_id === id && (rollout === null || q.rollout_id === rollout));
}
