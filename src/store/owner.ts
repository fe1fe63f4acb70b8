// Who has a rollout's log open for writing: the runner marks the log it writes (`<file>.owner`: its
// process id and start time) and clears the mark when it closes the log, so that another process
// (`outlast review`) never appends to a log a running rollout is writing. A mark left by a process
// that died (a crash, kill -9) is stale: its pid is gone, or is another process by its start time.
import fs from 'node:fs';

interface Mark {
  pid: number;
  /** Start time of the process (Linux: clock ticks since boot, /proc/<pid>/stat field 22), or null. */
  started: string | null;
}

function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after its last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Mark `file` as written by this process; returns the function that clears the mark. */
export function claimLog(file: string): () => void {
  const mark = `${file}.owner`;
  try {
    fs.writeFileSync(mark, JSON.stringify({ pid: process.pid, started: startTime(process.pid) } satisfies Mark));
  } catch {
    return () => {}; // no room for the mark (a full disk): the log itself says what happens next
  }
  return () => {
    try {
      const m = JSON.parse(fs.readFileSync(mark, 'utf8')) as Mark;
      if (m.pid === process.pid) fs.rmSync(mark, { force: true });
    } catch {
      /* gone already */
    }
  };
}

/** The live process writing `file`, or null when none (no mark, or a stale one). */
export function logOwner(file: string): { pid: number } | null {
  let m: Mark;
  try {
    m = JSON.parse(fs.readFileSync(`${file}.owner`, 'utf8')) as Mark;
  } catch {
    return null;
  }
  if (typeof m.pid !== 'number' || !alive(m.pid)) return null;
  if (m.started !== null && startTime(m.pid) !== m.started) return null;
  return { pid: m.pid };
}
