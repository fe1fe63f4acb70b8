// Per-exec cgroups: the limits that hold for a sandbox's whole process tree, not per process.
//   pids    caps the number of processes and threads (RLIMIT_NPROC is per user and ignored for root)
//           and lists every process of the tree so all can be killed, setsid'd ones included;
//   memory  caps the memory of the whole tree, tmpfs files (/tmp, /dev/shm) included, and counts
//           the OOM kills so a result can say the limit was hit;
//   cpu     an optional CPU quota (cores' worth of CPU time per period).
// cgroup v1 (one hierarchy per controller, as on this project's CI machines) and cgroup v2 (one
// hierarchy, controllers enabled in subtree_control) are both handled. detectCgroups() finds which
// controllers this process can create children in; a controller it cannot use is simply absent, and
// the sandbox falls back (rlimits, process groups) and says so in `enforced`.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type Controller = 'pids' | 'memory' | 'cpu';
const CONTROLLERS: readonly Controller[] = ['pids', 'memory', 'cpu'];

export interface CgroupRoots {
  version: 1 | 2;
  /** Where per-exec cgroups of each usable controller go, e.g. /sys/fs/cgroup/memory/outlast (v1); on v2 every entry is the same directory. */
  bases: Partial<Record<Controller, string>>;
}

/** Find the controllers we can create children in; null when there is none. */
export function detectCgroups(mountsFile = '/proc/self/mounts'): CgroupRoots | null {
  let mounts: string;
  try {
    mounts = readFileSync(mountsFile, 'utf8');
  } catch {
    return null;
  }
  const v1: Partial<Record<Controller, string>> = {};
  const v2: string[] = [];
  for (const line of mounts.split('\n')) {
    const [, dir, fstype, options] = line.split(' ');
    if (!dir || !fstype) continue;
    const mountPoint = dir.replace(/\\040/g, ' ');
    if (fstype === 'cgroup') {
      const opts = (options ?? '').split(',');
      for (const c of CONTROLLERS) if (opts.includes(c) && !v1[c]) v1[c] = join(mountPoint, 'outlast');
    } else if (fstype === 'cgroup2') v2.push(mountPoint);
  }
  const bases: Partial<Record<Controller, string>> = {};
  for (const c of CONTROLLERS) if (v1[c] && prepareV1(c, v1[c]!)) bases[c] = v1[c];
  if (Object.keys(bases).length > 0) return { version: 1, bases };
  for (const mp of v2) {
    const got = prepareV2(join(mp, 'outlast'));
    if (got.length > 0) return { version: 2, bases: Object.fromEntries(got.map((c) => [c, join(mp, 'outlast')])) };
  }
  return null;
}

/** The v1 files a probe must be able to write for a controller. */
const V1_PROBE: Record<Controller, [file: string, value: string]> = {
  pids: ['pids.max', '1'],
  memory: ['memory.limit_in_bytes', String(64 * 1024 * 1024)],
  cpu: ['cpu.cfs_quota_us', '100000'],
};

function prepareV1(c: Controller, base: string): boolean {
  try {
    mkdirSync(base, { recursive: true });
    sweepStale(base);
    const probe = join(base, `probe-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(probe);
    try {
      const [file, value] = V1_PROBE[c];
      writeFileSync(join(probe, file), value);
    } finally {
      rmdirSync(probe);
    }
    return true;
  } catch {
    return false;
  }
}

/** Delegate what the parent offers of our controllers to `base` and its children; returns those that work. */
function prepareV2(base: string): Controller[] {
  try {
    const parent = join(base, '..');
    const offered = readFileSync(join(parent, 'cgroup.controllers'), 'utf8').split(/\s+/);
    const want = CONTROLLERS.filter((c) => offered.includes(c));
    if (want.length === 0) return [];
    writeFileSync(join(parent, 'cgroup.subtree_control'), want.map((c) => `+${c}`).join(' '));
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, 'cgroup.subtree_control'), want.map((c) => `+${c}`).join(' '));
    sweepStale(base);
    const enabled = readFileSync(join(base, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
    return want.filter((c) => enabled.includes(c));
  } catch {
    return [];
  }
}

/** Remove empty cgroups left behind by outlast processes that no longer exist. */
function sweepStale(base: string): void {
  for (const name of readdirSync(base)) {
    const owner = Number(/^(?:probe-)?(\d+)-/.exec(name)?.[1]);
    if (!owner || existsSync(`/proc/${owner}`)) continue;
    const dir = join(base, name);
    try {
      killAllIn(dir);
      rmdirSync(dir);
    } catch {
      // still busy or not ours: leave it
    }
  }
}

/** What one exec's cgroup enforces; undefined = no limit. */
export interface CgroupLimits {
  processes?: number;
  memoryBytes?: number;
  /** CPU quota in cores (e.g. 1.5). */
  cpus?: number;
}

let counter = 0;

/**
 * Idle, empty cgroups kept for reuse. Measured on cgroup v1 here: removing a cgroup right after its
 * processes died and creating a fresh one for the next exec costs several milliseconds per exec
 * (the kernel's cgroup teardown contends with the next attach); reusing an empty one costs ~0.
 */
const pool: SandboxCgroup[] = [];
const POOL_MAX = 32;
let exitHook = false;
const CPU_PERIOD_US = 100_000;

/** A cgroup for one exec (from the pool or new) with its limits set. */
export function acquireCgroup(roots: CgroupRoots, limits: CgroupLimits): SandboxCgroup {
  const cg = pool.pop() ?? new SandboxCgroup(roots);
  try {
    cg.apply(limits);
  } catch (err) {
    cg.remove();
    throw err;
  }
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of pool.splice(0)) c.remove();
    });
  }
  return cg;
}

/** One exec's cgroup: a directory per controller (v1) or one directory (v2). */
export class SandboxCgroup {
  /** The directory of each controller this cgroup has. */
  readonly dirs: Partial<Record<Controller, string>>;
  private readonly version: 1 | 2;
  private oomBaseline = 0;

  constructor(roots: CgroupRoots) {
    counter += 1;
    const name = `${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
    this.version = roots.version;
    this.dirs = {};
    const made: string[] = [];
    try {
      for (const [c, base] of Object.entries(roots.bases) as Array<[Controller, string]>) {
        const dir = join(base, name);
        if (!made.includes(dir)) {
          mkdirSync(dir);
          made.push(dir);
        }
        this.dirs[c] = dir;
      }
    } catch (err) {
      for (const d of made) rmdirSync(d);
      throw err;
    }
  }

  /** The distinct directories (one per v1 controller, one on v2). */
  private get distinct(): string[] {
    return [...new Set(Object.values(this.dirs))];
  }

  /**
   * The shell commands with which a single-threaded launcher shell moves itself in. On v1 it writes
   * "0" (= the writing thread) into each `tasks` file: moving one thread skips the global
   * threadgroup lock, whose RCU grace period otherwise costs ~10-15 ms per exec here (measured:
   * bench/RESULTS.md). On v2 it writes its pid ($$) into cgroup.procs.
   */
  joinCommands(quote: (s: string) => string, only: readonly Controller[] = CONTROLLERS): string[] {
    const dirs = [...new Set(only.map((c) => this.dirs[c]).filter((d): d is string => d !== undefined))];
    return dirs.map((d) => (this.version === 1 ? `echo 0 > ${quote(join(d, 'tasks'))}` : `echo $$ > ${quote(join(d, 'cgroup.procs'))}`));
  }

  /** Which limits this cgroup holds (by controller). */
  has(c: Controller): boolean {
    return this.dirs[c] !== undefined;
  }

  apply(l: CgroupLimits): void {
    const v1 = this.version === 1;
    const pids = this.dirs.pids;
    if (pids) writeFileSync(join(pids, 'pids.max'), l.processes === undefined ? 'max' : String(Math.floor(l.processes)));
    const mem = this.dirs.memory;
    if (mem) {
      if (v1) {
        const memsw = join(mem, 'memory.memsw.limit_in_bytes');
        const swap = existsSync(memsw);
        // memsw must stay >= the memory limit: open it up first, then set both.
        if (swap) writeFileSync(memsw, '-1');
        writeFileSync(join(mem, 'memory.limit_in_bytes'), l.memoryBytes === undefined ? '-1' : String(Math.floor(l.memoryBytes)));
        if (swap && l.memoryBytes !== undefined) writeFileSync(memsw, String(Math.floor(l.memoryBytes)));
      } else {
        writeFileSync(join(mem, 'memory.max'), l.memoryBytes === undefined ? 'max' : String(Math.floor(l.memoryBytes)));
        const swapMax = join(mem, 'memory.swap.max');
        if (existsSync(swapMax)) writeFileSync(swapMax, l.memoryBytes === undefined ? 'max' : '0');
      }
      this.oomBaseline = this.oomKills();
    }
    const cpu = this.dirs.cpu;
    if (cpu) {
      const quota = l.cpus === undefined ? undefined : Math.max(1000, Math.round(l.cpus * CPU_PERIOD_US));
      if (v1) {
        writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
        writeFileSync(join(cpu, 'cpu.cfs_quota_us'), quota === undefined ? '-1' : String(quota));
      } else {
        writeFileSync(join(cpu, 'cpu.max'), `${quota === undefined ? 'max' : quota} ${CPU_PERIOD_US}`);
      }
    }
  }

  /** OOM kills inside this cgroup since its limits were applied. */
  oomKilled(): number {
    return this.has('memory') ? this.oomKills() - this.oomBaseline : 0;
  }

  private oomKills(): number {
    const mem = this.dirs.memory!;
    try {
      const text = readFileSync(join(mem, this.version === 1 ? 'memory.oom_control' : 'memory.events'), 'utf8');
      return Number(/^oom_kill (\d+)/m.exec(text)?.[1] ?? 0);
    } catch {
      return 0;
    }
  }

  /** SIGKILL every process in the cgroup; returns how many were signalled. */
  killAll(): number {
    let n = 0;
    for (const d of this.distinct) n = Math.max(n, killAllIn(d));
    return n;
  }

  /**
   * Kill whatever is left, wait until the cgroup is empty, and put it back in the pool (or remove
   * it). Throws when processes refuse to die within the deadline.
   */
  async release(deadlineMs = 2000): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (this.killAll() > 0) {
      if (Date.now() > until) throw new Error(`sandbox: processes in cgroup ${this.distinct[0]} would not die`);
      await sleep(2);
    }
    // Killed processes not yet reaped by their parent still hold a pids charge: do not reuse then.
    const pids = this.dirs.pids;
    const idle = !pids || readFileSync(join(pids, 'pids.current'), 'utf8').trim() === '0';
    if (pool.length < POOL_MAX && idle) {
      pool.push(this);
      return;
    }
    for (const d of this.distinct) {
      for (;;) {
        try {
          rmdirSync(d);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || Date.now() > until) throw new Error(`sandbox: cannot remove cgroup ${d}: ${(err as Error).message}`);
        }
        await sleep(2);
      }
    }
  }

  /** Remove the directories now (best effort; a leftover is swept by the next outlast process). */
  remove(): void {
    for (const d of this.distinct) {
      try {
        rmdirSync(d);
      } catch {
        // swept later (sweepStale)
      }
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
