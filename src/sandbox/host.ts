// What this machine offers for enforcing limits, detected once per process and cached:
// `prlimit` (util-linux) for rlimits, a writable pids cgroup for process counts and tree kills.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { detectPidsCgroup, type PidsCgroupRoot } from './cgroup.js';

export interface HostCaps {
  /** Absolute path of `prlimit`, or null when it is missing (no CPU/memory/file-size limits). */
  prlimit: string | null;
  /** Where per-exec pids cgroups go, or null when no pids cgroup is writable. */
  cgroup: PidsCgroupRoot | null;
  /** Running with uid 0: the kernel then ignores RLIMIT_NPROC. */
  isRoot: boolean;
}

/** Resolve a program name on a PATH-style list of directories (or check an absolute path). */
export function findBinary(name: string, searchPath: string = process.env.PATH ?? ''): string | null {
  const candidates = isAbsolute(name) ? [name] : searchPath.split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** Standard system directories, searched for helper tools after the caller's PATH. */
const SYSTEM_PATH = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(delimiter);

let cached: HostCaps | undefined;

/** Detect once and cache. */
export function hostCaps(): HostCaps {
  if (!cached) {
    cached = {
      prlimit: findBinary('prlimit', `${process.env.PATH ?? ''}${delimiter}${SYSTEM_PATH}`),
      cgroup: detectPidsCgroup(),
      isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    };
  }
  return cached;
}

/** Which rlimit-style limits the host can enforce (shared by both sandbox modes). */
export function processLimitsEnforced(caps: HostCaps): { cpu_time: boolean; memory: boolean; file_size: boolean; processes: boolean } {
  const rl = caps.prlimit !== null;
  return {
    cpu_time: rl,
    memory: rl,
    file_size: rl,
    // A pids cgroup caps the tree; failing that, RLIMIT_NPROC works for non-root users only
    // (and then counts all of that user's processes, not just this tree).
    processes: caps.cgroup !== null || (rl && !caps.isRoot),
  };
}
