// The Sandbox interface: run a command over a workspace with limits, capture its output, and leave
// nothing running afterwards. Implementations: bwrap.ts (bubblewrap), none.ts (unsandboxed, for
// development only; recorded as such in provenance).
import type { SandboxLimits, SandboxMode } from '../core/types.js';

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
}

/** Which limits this sandbox really enforces on this machine (recorded in provenance). */
export type EnforcedLimits = Record<'wall_time' | 'cpu_time' | 'memory' | 'processes' | 'file_size' | 'network' | 'filesystem', boolean>;

export interface Sandbox {
  readonly mode: SandboxMode;
  /** True when commands run without isolation (`--sandbox none`). */
  readonly unsandboxed: boolean;
  readonly enforced: EnforcedLimits;
  exec(opts: ExecOptions): Promise<ExecResult>;
}

/** Default output cap: 64 KiB head + tail. */
export const DEFAULT_OUTPUT_BYTES = 64 * 1024;

/** Base environment of every sandboxed command: nothing from the host. */
export const BASE_ENV: Record<string, string> = {
  PATH: '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin',
  HOME: '/tmp',
  LANG: 'C.UTF-8',
  TERM: 'dumb',
};
