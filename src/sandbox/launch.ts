// How a sandbox's process tree is tied to the life of the outlast process that launched it, so that
// a runner killed with SIGKILL at any moment (even while bwrap is still setting up) leaves nothing
// running. bwrap's own --die-with-parent is not enough: bwrap arms it in its outer process only
// after clone() and in the sandbox's init only after its mounts are made, so a runner killed in those
// milliseconds leaves a sandbox running the agent's command with no wall-time limit.
//
// The launcher, as exec'd in the one process the runner spawns:
//   setpriv --pdeathsig KILL --            the kernel SIGKILLs this process when the runner's
//                                          spawning thread dies (libuv forks in the thread that
//                                          calls spawn: the main thread, or a worker's)
//   unshare --pid --fork --kill-child --   (bwrap only) a PID namespace whose init (the forked
//                                          child) the kernel SIGKILLs when the process above dies;
//                                          when an init dies, the kernel kills every process of its
//                                          namespace, bwrap's nested one included. As a normal
//                                          user, also --user --map-current-user (a PID namespace
//                                          needs one; the user keeps its uid inside).
//   /bin/sh -c '<guard>; ...; exec "$@"'   the guard checks, after every death signal is armed,
//                                          that the runner is still there (a death signal armed
//                                          after the parent died never fires): its parent is the
//                                          runner (without unshare), or its parent's parent is (the
//                                          namespace's init, whose getppid() is 0, reads both from
//                                          /proc). Otherwise it exits 125 before anything runs.
// Each death signal survives the execs that follow (none is setuid or file-capable), so the chain is
// armed before the first instruction of bwrap runs. unshare waits for its child and passes on its
// exit status or signal; one exception: a child killed by SIGKILL from outside (the OOM killer
// choosing bwrap's own process; nothing in the sandbox can see it) ends unshare with exit 1 and a
// line on stderr, as util-linux cannot re-raise SIGKILL. Where setpriv or unshare is missing, the old
// chain runs and `enforced.dies_with_runner` says false. Unsandboxed commands (`--sandbox none`) get
// the first and last steps only: the command dies with the runner, children it started in the
// background are found in its cgroup by the next outlast process (cgroup.ts: sweepStale).
import type { HostCaps } from './host.js';

export interface Launch {
  /** The program to spawn. */
  file: string;
  /** Its arguments, ending with `-c <script> outlast-sandbox` for the launcher shell (then the caller's argv). */
  args: string[];
  /** True when the whole tree dies with this process by construction (a PID namespace; see the top of this file). */
  diesWithRunner: boolean;
}

/** dash: set $p to the PPid of the process whose status file is $1 (builtins only, no fork). */
const PPID_OF = 'pp() { p=; while read -r k v; do if [ "$k" = PPid: ]; then p=$v; return 0; fi; done < "$1"; }';

/** The guard the launcher shell runs first (see the top of this file). */
export function guard(runnerPid: number, inPidNamespace: boolean): string {
  if (!inPidNamespace) return `[ "$PPID" = ${runnerPid} ] || exit 125`;
  return `${PPID_OF}; pp /proc/self/status; pp "/proc/$p/status"; [ "$p" = ${runnerPid} ] || exit 125`;
}

/**
 * The launcher for a shell `script` (which ends in `exec "$@"`), tied to this process's life.
 * `pidNamespace`: wrap the tree in a PID namespace whose init dies with the launcher (for bwrap,
 * whose own setup window it closes; not for unsandboxed commands, which keep the host's PIDs).
 */
export function launcher(host: HostCaps, script: string, pidNamespace: boolean, runnerPid = process.pid): Launch {
  const unshare = pidNamespace ? host.unshare : null;
  if (!host.setpriv || (pidNamespace && !unshare)) return { file: '/bin/sh', args: ['-c', script, 'outlast-sandbox'], diesWithRunner: false };
  const ns = unshare ? [unshare, ...(host.isRoot ? [] : ['--user', '--map-current-user']), '--pid', '--fork', '--kill-child=KILL', '--'] : [];
  return {
    file: host.setpriv,
    args: ['--pdeathsig', 'KILL', '--', ...ns, '/bin/sh', '-c', `${guard(runnerPid, unshare !== null)}; ${script}`, 'outlast-sandbox'],
    diesWithRunner: unshare !== null,
  };
}

/**
 * Whether a launched tree dies with the runner by construction on this host (recorded in
 * `enforced.dies_with_runner`). Without a PID namespace only the launched program itself does: its
 * background children outlive it until the next outlast process sweeps its cgroups (cgroup.ts).
 */
export function diesWithRunner(host: HostCaps, pidNamespace: boolean): boolean {
  return pidNamespace && host.setpriv !== null && host.unshare !== null;
}
