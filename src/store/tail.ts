// The end of a rollout's trajectory without reading all of it: the last `rollout.finished` event in
// its final bytes (a finished log ends with it), for the views that show why a rollout ended.
import fs from 'node:fs';
import type { RolloutFinishedEvent } from '../core/events.js';

/** How much of the end of a log is read. A `rollout.finished` line is well under this. */
const TAIL_BYTES = 256 * 1024;

/** The last `rollout.finished` event of the log at `file`, or null (none in its last bytes, or no file). */
export function lastFinished(file: string): RolloutFinishedEvent | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const n = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, size - n);
    const lines = buf.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= (n < size ? 1 : 0); i--) {
      const l = lines[i]!;
      if (!l.includes('"rollout.finished"')) continue;
      try {
        const e = JSON.parse(l) as { type?: string };
        if (e.type === 'rollout.finished') return e as RolloutFinishedEvent;
      } catch {
        // a torn or foreign line: keep looking
      }
    }
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
