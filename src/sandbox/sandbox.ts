// The Sandbox interface: run a command over a workspace with limits, capture its output, and leave
// nothing running afterwards. Implementations: bwrap.ts (bubblewrap), none.ts (unsandboxed, for
// development only; recorded as such in provenance).
import type { SandboxLimits, SandboxMode } from '../core/types.js';
import type { SandboxIdentity } from './identity.js';

/** A directory of the host made visible inside the sandbox. */
export interface Mount {
  /** Absolute path on the host. */
  host: string;
  /** Absolute path inside the sandbox. */
  target: string;
  readonly: boolean;
}

export interface ExecOptions {
  /** Shell command line, run with `/bin/sh -c` (use `bash -c` inside it if you need bash). */
  command: string;
  /** The workspace: mounted read-write at `workdir`, also the working directory. */
  workspace: string;
  /** Where the workspace appears inside the sandbox, e.g. `/workspace` or `/app`. */
  workdir: string;
  /** Extra mounts (e.g. pristine tests/ read-only at /tests, a fresh /logs/verifier). */
  mounts?: Mount[];
  /** Environment of the command. The host's environment is never passed through. */
  env?: Record<string, string>;
  limits: SandboxLimits;
  /** Data written to the command's stdin (stdin is empty otherwise). */
  stdin?: string;
  /** Abort the run early (kills the whole process tree). */
  signal?: AbortSignal;
  /**
   * Who the processes run as (see identity.ts). Honoured when outlast runs as root (a dedicated
   * unprivileged uid; default: the anonymous agent identity); otherwise every process runs as the
   * user running outlast, inside a user namespace.
   */
  identity?: SandboxIdentity;
}

export interface ExecResult {
  /** Exit code, or null when killed by a signal (timeout included). */
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  duration_ms: number;
  /** stdout and stderr interleaved in arrival order, capped: head and tail kept. */
  output: string;
  /** Bytes cut from the middle of the output (0 when nothing was cut). */
  truncated_bytes: number;
  /** True when `signal` aborted the run (the tree was killed; `timed_out` stays false). */
  aborted?: boolean;
  /** True when the kernel killed a process of the tree for going over the sandbox's memory limit. */
  oom_killed?: boolean;
}

/** Which limits and walls this sandbox really enforces on this machine (recorded in provenance). */
export type EnforcedLimits = Record<
  | 'wall_time'
  | 'cpu_time'
  /** Some memory limit (the whole tree's, or each process's address space). */
  | 'memory'
  /** The memory limit covers the whole tree, tmpfs files included (a memory cgroup). */
  | 'memory_tree'
  | 'processes'
  | 'file_size'
  | 'cpu_quota'
  | 'network'
  | 'filesystem'
  /** Processes run as a dedicated unprivileged uid (outlast runs as root), not as outlast's own uid. */
  | 'dedicated_uid'
  /** The seccomp filter (seccomp.ts) is on. */
  | 'seccomp'
  /** /tmp and /dev/shm are size-limited tmpfs. */
  | 'tmp_size'
  /** The whole process tree dies with the outlast process that launched it, whenever it dies (launch.ts). */
  | 'dies_with_runner',
  boolean
>;

/** What stays the same across the commands of a session (see session.ts). */
export interface SessionOptions {
  workspace: string;
  workdir: string;
  mounts?: Mount[];
  /** Environment of every command (commands may add their own). */
  env?: Record<string, string>;
  /** The whole session's limits (memory, processes, CPUs, /tmp size; CPU time and file size per process); `wall_time_sec` is per command. */
  limits: SandboxLimits;
  identity?: SandboxIdentity;
}

/** One command of a session: run like ExecOptions.command, with empty stdin. */
export interface SessionCommand {
  command: string;
  /** Added to the session's environment for this command. */
  env?: Record<string, string>;
  wall_time_sec: number;
  output_bytes?: number;
  signal?: AbortSignal;
}

/**
 * Commands run one after another in one long-lived sandbox, each as an exec would run it: its own
 * shell, fresh /tmp and /dev/shm, nothing it started left running after it, the same result.
 * What a session saves is the sandbox's setup and teardown per command.
 */
export interface SandboxSession {
  exec(cmd: SessionCommand): Promise<ExecResult>;
  /** Stop the session (idempotent); a later exec starts a new one. */
  close(): Promise<void>;
}

export interface Sandbox {
  readonly mode: SandboxMode;
  /** True when commands run without isolation (`--sandbox none`). */
  readonly unsandboxed: boolean;
  readonly enforced: EnforcedLimits;
  /** Set on a view bound to one identity (bound.ts): every exec of the view runs as it. */
  readonly identity?: SandboxIdentity;
  /** The sandbox a bound view was made from. */
  readonly base?: Sandbox;
  exec(opts: ExecOptions): Promise<ExecResult>;
  /**
   * Hand a directory the host made (a workspace, a scratch or result directory) to an identity, so
   * that its sandboxed processes can read and write it: when processes run as a dedicated uid, the
   * tree's owner becomes that uid; otherwise this does nothing. Default identity: the anonymous one.
   */
  adopt(dir: string, identity?: SandboxIdentity): Promise<void>;
  /** A long-lived sandbox for many commands (session.ts); absent: openSession runs each command as an exec. */
  session?(opts: SessionOptions): SandboxSession;
}

/** Default size of the sandbox's private /tmp and /dev/shm (each), when the task does not set one. */
export const DEFAULT_TMP_MB = 1024;

/** Default output cap: 64 KiB head + tail. */
export const DEFAULT_OUTPUT_BYTES = 64 * 1024;

/** Base environment of every sandboxed command: nothing from the host. */
export const BASE_ENV: Record<string, string> = {
  PATH: '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin',
  HOME: '/tmp',
  LANG: 'C.UTF-8',
  TERM: 'dumb',
};
