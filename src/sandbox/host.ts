// What this machine offers for enforcing limits, detected once per process and cached:
// `prlimit` (util-linux) for rlimits, writable cgroups (pids, memory, cpu) for limits on the whole
// tree, `setpriv` (util-linux) to drop to an unprivileged uid when outlast runs as root and, with
// `unshare` (util-linux), to tie every sandbox to the runner's life (launch.ts).
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { detectCgroups, type CgroupRoots } from './cgroup.js';

export interface HostCaps {
  /** Absolute path of `prlimit`, or null when it is missing (no CPU/memory/file-size limits). */
  prlimit: string | null;
  /** Where per-exec cgroups go (the controllers we can use), or null when none is writable. */
  cgroup: CgroupRoots | null;
  /** Running with uid 0: the kernel then ignores RLIMIT_NPROC, and sandboxes drop to a dedicated uid. */
  isRoot: boolean;
  /** Absolute path of `setpriv`, or null when it is missing. */
  setpriv: string | null;
  /** Absolute path of `unshare` (util-linux), or null when it is missing (launch.ts). */
  unshare: string | null;
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
      cgroup: detectCgroups(),
      isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
      setpriv: findBinary('setpriv', `${process.env.PATH ?? ''}${delimiter}${SYSTEM_PATH}`),
      unshare: findBinary('unshare', `${process.env.PATH ?? ''}${delimiter}${SYSTEM_PATH}`),
    };
  }
  return cached;
}

/** Which resource limits the host can enforce (shared by both sandbox modes). */
export function processLimitsEnforced(caps: HostCaps): {
  cpu_time: boolean;
  memory: boolean;
  memory_tree: boolean;
  file_size: boolean;
  processes: boolean;
  cpu_quota: boolean;
} {
  const rl = caps.prlimit !== null;
  const cg = caps.cgroup?.bases ?? {};
  return {
    cpu_time: rl,
    // The memory cgroup limits the whole tree (tmpfs files included); failing that, RLIMIT_AS limits
    // each process on its own.
    memory: cg.memory !== undefined || rl,
    memory_tree: cg.memory !== undefined,
    file_size: rl,
    // A pids cgroup caps the tree; failing that, RLIMIT_NPROC works for non-root users only
    // (and then counts all of that user's processes, not just this tree).
    processes: cg.pids !== undefined || (rl && !caps.isRoot),
    cpu_quota: cg.cpu !== undefined,
  };
}
