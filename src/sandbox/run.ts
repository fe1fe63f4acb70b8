// Run one process tree with limits and leave nothing behind. Shared by the bwrap and the
// unsandboxed implementations; they differ only in the argv they hand over.
//
// Launch chain (all exec'd in one pid, so the pid we hold is the final program, except that with a
// PID namespace the launcher's unshare forks once and waits, passing on the exit status):
//   setpriv --pdeathsig KILL -- [unshare --pid --fork --kill-child --]   die with this process
//                                                                         (launch.ts)
//   /bin/sh -c '<guard>; exec 2>&1; echo 0 > <cgroup>/tasks ...; exec "$@"'
//                                                                         check the runner is still
//                                                                         there, merge stderr into
//                                                                         stdout (true arrival
//                                                                         order), join the exec's
//                                                                         cgroups
//   prlimit --cpu --fsize [--as] [--nproc] --                             set rlimits (--as only
//                                                                         without a memory cgroup)
//   <argv>                                                                bwrap ... or /bin/sh -c cmd
// The process is spawned detached (its own session and process group). Kill = SIGKILL to the
// process group + SIGKILL to every pid in the cgroup. It happens on timeout, on abort, and also
// right after the launched program exits, so background children never outlive an exec. If this
// process dies instead, the kernel kills the tree (launch.ts).
import type { SandboxLimits } from '../core/types.js';
import { OutputCapture } from './capture.js';
import { acquireCgroup, type Controller } from './cgroup.js';
import type { HostCaps } from './host.js';
import { launcher } from './launch.js';
import { type Spawned, spawnTree, spawner } from './spawner.js';
import { DEFAULT_OUTPUT_BYTES, type ExecResult } from './sandbox.js';

export interface TreeSpec {
  /** Program (absolute path) and arguments. */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  limits: SandboxLimits;
  stdin?: string;
  signal?: AbortSignal;
  host: HostCaps;
  /** Processes the launcher itself keeps alive in the tree (bwrap: 2), added to `limits.processes`. */
  launcherProcesses: number;
  /** Put the tree in a cgroup even without a limit it would hold, to find every process at kill time. */
  trackWithCgroup: boolean;
  /** Bytes the launched program can read from file descriptor 3 (e.g. bwrap's seccomp program). */
  fd3?: Buffer;
  /** Run the tree in a PID namespace whose init dies with this process (bwrap; see launch.ts). */
  pidNamespace?: boolean;
}

const MIB = 1024 * 1024;
/** How long to wait for output pipes to close after the tree was killed. */
const DRAIN_MS = 2000;

/** Single-quote a string for /bin/sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function checkLimits(l: SandboxLimits): void {
  if (!(Number.isFinite(l.wall_time_sec) && l.wall_time_sec > 0)) throw new Error(`sandbox: wall_time_sec must be a positive number, got ${l.wall_time_sec}`);
  for (const k of ['cpu_time_sec', 'memory_mb', 'processes', 'file_size_mb', 'output_bytes', 'tmp_mb', 'cpus'] as const) {
    const v = l[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`sandbox: ${k} must be a non-negative number, got ${v}`);
  }
}

/** The prlimit arguments for the limits, or [] when none apply. */
function rlimitArgs(l: SandboxLimits, host: HostCaps, nproc: number | undefined, memoryInCgroup: boolean): string[] {
  if (!host.prlimit) return [];
  const args: string[] = [];
  // Soft limit first so the process gets SIGXCPU (exit 152) before the hard SIGKILL a second later.
  if (l.cpu_time_sec !== undefined) args.push(`--cpu=${Math.ceil(l.cpu_time_sec)}:${Math.ceil(l.cpu_time_sec) + 1}`);
  // Without a memory cgroup, the best left is each process's address space.
  if (l.memory_mb !== undefined && !memoryInCgroup) args.push(`--as=${Math.floor(l.memory_mb * MIB)}`);
  if (l.file_size_mb !== undefined) args.push(`--fsize=${Math.floor(l.file_size_mb * MIB)}`);
  if (nproc !== undefined) args.push(`--nproc=${nproc}`);
  return args.length ? [host.prlimit, ...args, '--'] : [];
}

interface Prepared {
  cgroup: ReturnType<typeof acquireCgroup> | null;
  via: ReturnType<typeof spawner>;
  file: string;
  argv: string[];
}

/** The tree's cgroup (acquired: release it) and the launch chain around `spec.argv`. */
function prepare(spec: TreeSpec): Prepared {
  const { limits, host } = spec;
  const maxProcs = limits.processes !== undefined ? Math.floor(limits.processes) + spec.launcherProcesses : undefined;
  const bases = host.cgroup?.bases ?? {};
  const wantCgroup =
    spec.trackWithCgroup ||
    (maxProcs !== undefined && bases.pids !== undefined) ||
    (limits.memory_mb !== undefined && bases.memory !== undefined) ||
    (limits.cpus !== undefined && bases.cpu !== undefined);
  const cgroup =
    host.cgroup && wantCgroup
      ? acquireCgroup(host.cgroup, {
          processes: maxProcs,
          memoryBytes: limits.memory_mb !== undefined ? limits.memory_mb * MIB : undefined,
          cpus: limits.cpus,
        })
      : null;
  // Without a pids cgroup, fall back to RLIMIT_NPROC (a no-op for root; `enforced` says so).
  const nproc = !cgroup?.has('pids') && maxProcs !== undefined && !host.isRoot ? maxProcs : undefined;
  // Join only the controllers this exec has limits in (each join is a write the launcher waits for);
  // the pids controller also finds every process at kill time.
  const needed: Controller[] = [];
  if (maxProcs !== undefined || spec.trackWithCgroup) needed.push('pids');
  if (limits.memory_mb !== undefined) needed.push('memory');
  if (limits.cpus !== undefined) needed.push('cpu');
  const join = cgroup ? `${cgroup.joinCommands(shQuote, needed).map((c) => `${c} || exit 125; `).join('')}` : '';
  // Spawned by the spawner process when there is one (spawner.ts: fork() from outlast's large heap
  // blocks its event loop); the launched tree is then tied to the spawner, which dies with outlast.
  const via = spawner(host.setpriv);
  const launch = launcher(host, `exec 2>&1; ${join}exec "$@"`, spec.pidNamespace === true, via?.pid ?? process.pid);
  return { cgroup, via, file: launch.file, argv: [...launch.args, ...rlimitArgs(limits, host, nproc, cgroup?.has('memory') ?? false), ...spec.argv] };
}

/** Kill = SIGKILL to the process group + SIGKILL to every pid in the cgroup. */
function killer(child: Spawned, cgroup: Prepared['cgroup']): () => void {
  return () => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // group already empty
      }
    }
    cgroup?.killAll();
  };
}

export async function runTree(spec: TreeSpec): Promise<ExecResult> {
  const { limits } = spec;
  checkLimits(limits);
  const started = performance.now();
  const cap = limits.output_bytes ?? DEFAULT_OUTPUT_BYTES;
  let captured = new OutputCapture(cap).result();
  const result = (over: Partial<ExecResult>): ExecResult => ({
    exit_code: null,
    signal: null,
    timed_out: false,
    duration_ms: performance.now() - started,
    ...captured,
    ...over,
  });
  if (spec.signal?.aborted) return result({ signal: 'SIGKILL', aborted: true });
  const { cgroup, via, file, argv } = prepare(spec);

  try {
    return await new Promise<ExecResult>((resolve, reject) => {
      const child = spawnTree({ file, args: argv, cwd: spec.cwd, env: spec.env, stdin: spec.stdin ?? '', fd3: spec.fd3, cap }, via);
      let timedOut = false;
      let aborted = false;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
      const killTree = killer(child, cgroup);
      const timer = setTimeout(() => {
        if (exit) return; // already finished, only draining
        timedOut = true;
        killTree();
      }, limits.wall_time_sec * 1000);
      const onAbort = (): void => {
        if (exit) return;
        aborted = true;
        killTree();
      };
      spec.signal?.addEventListener('abort', onAbort, { once: true });
      let drainTimer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        clearTimeout(timer);
        clearTimeout(drainTimer);
        spec.signal?.removeEventListener('abort', onAbort);
      };

      // Through the spawner the pid arrives a moment later: a timeout or abort before it kills then.
      child.on('spawn', () => {
        if (timedOut || aborted) killTree();
      });

      child.on('error', (err) => {
        cleanup();
        killTree();
        reject(err);
      });
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        // The launched program is done: whatever it left running goes now.
        killTree();
        // A process that escaped both the group and the cgroup may hold the pipes: stop waiting.
        drainTimer = setTimeout(() => child.drop(), DRAIN_MS);
      });
      child.on('close', (c: typeof captured) => {
        captured = c;
        cleanup();
        const e = exit ?? { code: null, signal: null };
        const oom = (cgroup?.oomKilled() ?? 0) > 0;
        resolve(result({ exit_code: e.code, signal: e.signal, timed_out: timedOut, ...(aborted ? { aborted: true } : {}), ...(oom ? { oom_killed: true } : {}) }));
      });
    });
  } finally {
    await cgroup?.release();
  }
}

/** A long-lived tree (session.ts): stdin stays open, output arrives as it comes. */
export interface StreamedTree {
  write(b: string | Buffer): void;
  /** Kill the whole tree (idempotent). */
  kill(): void;
  /** OOM kills in the tree's memory cgroup so far. */
  oomKills(): number;
  /** Settles when the launched program has exited and its output is done; the cgroup is released then. */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Start `spec` as a streamed tree: `first` written to its stdin, each output chunk handed to
 * `onData`. The tree has the same launch chain, limits and cgroup as runTree's (the wall time is the
 * caller's to enforce); when the launched program exits, whatever it left running is killed.
 */
export function startStreamedTree(spec: Omit<TreeSpec, 'stdin' | 'signal'>, first: string, onData: (b: Buffer) => void): StreamedTree {
  checkLimits(spec.limits);
  const { cgroup, via, file, argv } = prepare(spec);
  const child = spawnTree({ file, args: argv, cwd: spec.cwd, env: spec.env, stdin: first, fd3: spec.fd3, cap: 0, stream: true }, via);
  const kill = killer(child, cgroup);
  let killed = false;
  child.on('data', onData);
  child.on('spawn', () => killed && kill());
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    let exit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };
    let drain: NodeJS.Timeout | undefined;
    child.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      exit = { code, signal };
      kill();
      drain = setTimeout(() => child.drop(), DRAIN_MS);
    });
    const end = (): void => {
      clearTimeout(drain);
      void Promise.resolve(cgroup?.release()).finally(() => resolve(exit));
    };
    child.on('close', end);
    child.on('error', () => {
      kill();
      end();
    });
  });
  return {
    write: (b) => child.write(b),
    kill: () => {
      killed = true;
      kill();
    },
    oomKills: () => cgroup?.oomKilled() ?? 0,
    done,
  };
}
