// `--sandbox none`: for development on machines without bubblewrap. Commands run directly on the
// host with `/bin/sh -c`, cwd = the host workspace, the host environment scrubbed (BASE_ENV +
// opts.env only), and the same limits, output cap and tree kill as the bwrap sandbox (process
// group + a pids cgroup when one is writable, so even setsid'd background children are found).
// There is no filesystem or network isolation, and provenance records the run as unsandboxed.
//
// Paths cannot be remapped without namespaces, so:
//  - the workspace is the cwd, and OUTLAST_WORKDIR holds its real (host) path; commands that
//    hard-code the sandbox path (e.g. `/workspace/x`) will not find it;
//  - `mounts` are refused with a UserError. Faking them (symlinks or copies at /tests,
//    /logs/verifier on the host) would write into the host's root and could collide between
//    concurrent rollouts, so the honest answer is: a verifier that needs mounts needs bwrap.
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { UserError } from '../core/errors.js';
import { hostCaps, processLimitsEnforced, type HostCaps } from './host.js';
import { runTree } from './run.js';
import { BASE_ENV, type EnforcedLimits, type ExecOptions, type ExecResult, type Sandbox } from './sandbox.js';

export class UnsandboxedSandbox implements Sandbox {
  readonly mode = 'none' as const;
  readonly unsandboxed = true;
  readonly enforced: EnforcedLimits;

  constructor(private readonly host: HostCaps = hostCaps()) {
    this.enforced = { wall_time: true, network: false, filesystem: false, ...processLimitsEnforced(host), dedicated_uid: false, seccomp: false, tmp_size: false, dies_with_runner: false };
  }

  /** Commands run as outlast's own user here: nothing to hand over. */
  async adopt(): Promise<void> {}

  exec(opts: ExecOptions): Promise<ExecResult> {
    const m = opts.mounts?.[0];
    if (m) {
      return Promise.reject(
        new UserError(
          `--sandbox none cannot mount ${m.host} at ${m.target} (mounts need a sandbox): install bubblewrap (apt-get install bubblewrap) and use --sandbox bwrap`,
        ),
      );
    }
    if (!isAbsolute(opts.workspace) || !existsSync(opts.workspace)) {
      return Promise.reject(new Error(`sandbox: workspace must be an existing absolute path, got ${opts.workspace}`));
    }
    return runTree({
      argv: ['/bin/sh', '-c', opts.command],
      cwd: opts.workspace,
      env: { ...BASE_ENV, ...opts.env, OUTLAST_WORKDIR: opts.workspace },
      limits: opts.limits,
      stdin: opts.stdin,
      signal: opts.signal,
      host: this.host,
      launcherProcesses: 0,
      trackWithCgroup: true,
    });
  }
}
