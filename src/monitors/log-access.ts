// Writing to a rollout's log from outside its runner (review decisions, alerts): only when no runner
// writes it (src/store/owner.ts), marked as ours meanwhile, every line synced before it returns.
import { UserError } from '../core/errors.js';
import { claimLog, logOwner } from '../store/owner.js';
import { TrajectoryWriter } from '../store/trajectory.js';

/** Open the log for appending; the caller must `close` what this returns. */
export function openForReview(trajectory: string, rolloutId: string): { log: TrajectoryWriter; close: () => void } {
  const owner = logOwner(trajectory);
  if (owner && owner.pid !== process.pid) {
    throw new UserError(`rollout ${rolloutId} is running (process ${owner.pid}): decide on its flags once it has stopped`);
  }
  const release = owner ? () => {} : claimLog(trajectory);
  let log: TrajectoryWriter;
  try {
    log = new TrajectoryWriter(trajectory, { fsync: true });
  } catch (err) {
    release();
    throw err;
  }
  // a crash's torn last line was cut off on opening: said in the log, as a resume would say it
  if (log.recovered.torn) log.append({ type: 'note', level: 'warning', message: `a torn last line (${log.recovered.torn.bytes} bytes, ${log.recovered.torn.reason}) was cut from the log to record a review` });
  return {
    log,
    close: () => {
      log.close();
      release();
    },
  };
}
