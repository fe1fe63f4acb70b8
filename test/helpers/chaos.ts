// Helpers for tests that kill a real `outlast` runner at chosen moments: watch a rollout's log as it
// is written and SIGKILL the runner a set delay after an event, and find processes a dead runner
// left behind (by uid, by a path in their command line, by the runner's cgroups).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TrajectoryEvent } from '../../src/core/events.js';

/** The trajectory of the (only) rollout under `home`, or null while there is none. */
export function trajectoryFile(home: string): string | null {
  const exps = path.join(home, 'experiments');
  let ids: string[];
  try {
    ids = fs.readdirSync(exps);
  } catch {
    return null;
  }
  for (const id of ids) {
    const rollouts = path.join(exps, id, 'rollouts');
    let names: string[];
    try {
      names = fs.readdirSync(rollouts);
    } catch {
      continue;
    }
    for (const r of names) {
      const f = path.join(rollouts, r, 'trajectory.jsonl');
      if (fs.existsSync(f)) return f;
    }
  }
  return null;
}

export interface Kill {
  /** The event the kill was aimed after. */
  event: TrajectoryEvent;
  /** Milliseconds from the event's time to the SIGKILL (the aim, or later when the event was seen late). */
  offset_ms: number;
}

/**
 * The first event of the rollout's log under `home` that `match` accepts, as soon as it is written
 * (polled every millisecond); null when `child` exits first.
 */
export async function waitForEvent(home: string, match: (e: TrajectoryEvent) => boolean, child?: ChildProcess): Promise<TrajectoryEvent | null> {
  let exited = child ? child.exitCode !== null || child.signalCode !== null : false;
  const onExit = (): void => {
    exited = true;
  };
  child?.once('exit', onExit);
  let file: string | null = null;
  let read = 0;
  let rest = '';
  try {
    for (;;) {
      if (exited) return null;
      file ??= trajectoryFile(home);
      if (file) {
        let text = '';
        try {
          const fd = fs.openSync(file, 'r');
          try {
            const size = fs.fstatSync(fd).size;
            if (size > read) {
              const buf = Buffer.alloc(size - read);
              fs.readSync(fd, buf, 0, buf.length, read);
              read = size;
              text = buf.toString('utf8');
            }
          } finally {
            fs.closeSync(fd);
          }
        } catch {
          /* not there yet */
        }
        const lines = (rest + text).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          let e: TrajectoryEvent;
          try {
            e = JSON.parse(line) as TrajectoryEvent;
          } catch {
            continue;
          }
          if (match(e)) return e;
        }
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  } finally {
    child?.off('exit', onExit);
  }
}

/**
 * SIGKILL `child` `delayMs` after the first event of the log that `match` accepts (after its `t`;
 * at once when it was seen later than that). Resolves null when the child exited first.
 */
export async function killAfterEvent(child: ChildProcess, home: string, match: (e: TrajectoryEvent) => boolean, delayMs: number): Promise<Kill | null> {
  const e = await waitForEvent(home, match, child);
  if (!e) return null;
  const wait = Date.parse(e.t) + delayMs - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  if (child.exitCode !== null || child.signalCode !== null) return null;
  child.kill('SIGKILL');
  return { event: e, offset_ms: Date.now() - Date.parse(e.t) };
}

/** A predicate that accepts the `n`th event (1-based) that `match` accepts. */
export function nth(n: number, match: (e: TrajectoryEvent) => boolean): (e: TrajectoryEvent) => boolean {
  let seen = 0;
  return (e) => match(e) && ++seen === n;
}

export interface Leftover {
  pid: number;
  uid: number;
  cmdline: string;
}

/**
 * Processes that belong to a dead runner's sandboxes: run as one of `uids`, or with one of `marks`
 * (e.g. the run's home directory, which every launcher's and bwrap's argv names) in their command
 * line, or in a cgroup outlast made for process `runnerPid`.
 */
export function leftovers(o: { uids?: number[]; marks?: string[]; runnerPid?: number }): Leftover[] {
  const out: Leftover[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let status: string;
    let cmdline: string;
    let cgroup = '';
    try {
      status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (o.runnerPid !== undefined) cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (/^State:\s+Z/m.test(status)) continue; // a zombie runs nothing
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
    const hit =
      (o.uids ?? []).includes(uid) ||
      (o.marks ?? []).some((m) => cmdline.includes(m)) ||
      (o.runnerPid !== undefined && cgroup.includes(`/outlast/${o.runnerPid}-`));
    if (hit) out.push({ pid, uid, cmdline: cmdline.slice(0, 200) });
  }
  return out;
}

/** SIGKILL what `leftovers` found (so one failing case does not disturb the next). */
export function killAll(procs: Leftover[]): void {
  for (const p of procs) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
