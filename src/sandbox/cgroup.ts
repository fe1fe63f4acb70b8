// Per-exec pids cgroups. Their job: cap the number of processes of one exec's tree (RLIMIT_NPROC
// is per user and ignored for root), and list every process of the tree so that all of them can be
// killed, even ones that left the process group with setsid. cgroup v1 (a `pids` hierarchy) and
// cgroup v2 (a `cgroup2` mount with the pids controller) are both handled; when neither is
// writable, detectPidsCgroup() returns null and callers fall back to rlimits and process groups.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PidsCgroupRoot {
  version: 1 | 2;
  /** Directory under which per-exec cgroups are created, e.g. /sys/fs/cgroup/pids/outlast. */
  base: string;
}

/** Find a pids cgroup hierarchy we can create children in; null when there is none. */
export function detectPidsCgroup(mountsFile = '/proc/self/mounts'): PidsCgroupRoot | null {
  let mounts: string;
  try {
    mounts = readFileSync(mountsFile, 'utf8');
  } catch {
    return null;
  }
  const candidates: PidsCgroupRoot[] = [];
  for (const line of mounts.split('\n')) {
    const [, dir, fstype, options] = line.split(' ');
    if (!dir || !fstype) continue;
    const mountPoint = dir.replace(/\\040/g, ' ');
    if (fstype === 'cgroup' && (options ?? '').split(',').includes('pids')) {
      candidates.push({ version: 1, base: join(mountPoint, 'outlast') });
    } else if (fstype === 'cgroup2') {
      candidates.push({ version: 2, base: join(mountPoint, 'outlast') });
    }
  }
  for (const c of candidates.sort((a, b) => a.version - b.version)) {
    if (prepareBase(c)) return c;
  }
  return null;
}

/** Create the base directory (and on v2 delegate the pids controller) and prove it works. */
function prepareBase(root: PidsCgroupRoot): boolean {
  try {
    if (root.version === 2) {
      const parent = join(root.base, '..');
      if (!readFileSync(join(parent, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('pids')) return false;
      writeFileSync(join(parent, 'cgroup.subtree_control'), '+pids');
      mkdirSync(root.base, { recursive: true });
      writeFileSync(join(root.base, 'cgroup.subtree_control'), '+pids');
    } else {
      mkdirSync(root.base, { recursive: true });
    }
    sweepStale(root);
    const probe = new PidsCgroup(root); // proves mkdir and pids.max work; nothing joins it
    try {
      writeFileSync(join(probe.dir, 'pids.max'), '1');
      readFileSync(join(probe.dir, 'pids.current'), 'utf8');
    } finally {
      rmdirSync(probe.dir);
    }
    return true;
  } catch {
    return false;
  }
}

/** Remove empty cgroups left behind by outlast processes that no longer exist. */
function sweepStale(root: PidsCgroupRoot): void {
  for (const name of readdirSync(root.base)) {
    const owner = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!owner || existsSync(`/proc/${owner}`)) continue;
    const dir = join(root.base, name);
    try {
      killAllIn(dir);
      rmdirSync(dir);
    } catch {
      // still busy or not ours: leave it
    }
  }
}

let counter = 0;

/**
 * Idle, empty cgroups kept for reuse. Measured on cgroup v1 here: removing a cgroup right after its
 * processes died and creating a fresh one for the next exec costs several milliseconds per exec
 * (the kernel's cgroup teardown contends with the next attach); reusing an empty one costs ~0.
 */
const pool: PidsCgroup[] = [];
const POOL_MAX = 32;
let exitHook = false;

/** A cgroup for one exec, from the pool or new, with `pids.max` set (no cap when undefined). */
export function acquirePidsCgroup(root: PidsCgroupRoot, maxProcesses?: number): PidsCgroup {
  const idle = pool.pop();
  const cg = idle ?? new PidsCgroup(root);
  try {
    writeFileSync(join(cg.dir, 'pids.max'), maxProcesses === undefined ? 'max' : String(maxProcesses));
  } catch (err) {
    rmdirSync(cg.dir);
    throw err;
  }
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of pool.splice(0)) {
        try {
          rmdirSync(c.dir);
        } catch {
          // swept by the next outlast process (sweepStale)
        }
      }
    });
  }
  return cg;
}

/** One exec's cgroup. Acquire it, have the launcher join it (joinFile), then release it. */
export class PidsCgroup {
  readonly dir: string;
  /**
   * How a single-threaded shell moves itself in: `echo <joinValue> > <joinFile>`. On v1 that is
   * "0" (= the writing thread) into `tasks`: moving one thread skips the global threadgroup lock,
   * whose RCU grace period otherwise costs ~10-15 ms per exec here (measured: bench/RESULTS.md).
   * On v2 it is the shell's pid ($$) into cgroup.procs.
   */
  readonly joinFile: string;
  readonly joinValue: string;

  constructor(root: PidsCgroupRoot) {
    counter += 1;
    this.dir = join(root.base, `${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(this.dir);
    this.joinFile = join(this.dir, root.version === 1 ? 'tasks' : 'cgroup.procs');
    this.joinValue = root.version === 1 ? '0' : '$$';
  }

  /** SIGKILL every process in the cgroup; returns how many were signalled. */
  killAll(): number {
    return killAllIn(this.dir);
  }

  /**
   * Kill whatever is left, wait until the cgroup is empty, and put it back in the pool (or remove
   * it). Throws when processes refuse to die within the deadline.
   */
  async release(deadlineMs = 2000): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (this.killAll() > 0) {
      if (Date.now() > until) throw new Error(`sandbox: processes in cgroup ${this.dir} would not die`);
      await sleep(2);
    }
    // Killed processes not yet reaped by their parent still hold a pids charge: do not reuse then.
    if (pool.length < POOL_MAX && readFileSync(join(this.dir, 'pids.current'), 'utf8').trim() === '0') {
      pool.push(this);
      return;
    }
    for (;;) {
      try {
        rmdirSync(this.dir);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || Date.now() > until) {
          throw new Error(`sandbox: cannot remove cgroup ${this.dir}: ${(err as Error).message}`);
        }
      }
      await sleep(2);
    }
  }
}

function killAllIn(dir: string): number {
  let pids: number[];
  try {
    pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length;
}

