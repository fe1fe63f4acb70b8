// Sandbox factory: `createSandbox('bwrap' | 'none')`. For bwrap it finds the binary and proves,
// once per process, that it can create the namespaces it needs, turning failures into one-line
// UserErrors the CLI prints as they are, and that its launcher can tie sandboxes to this process's
// life (launch.ts; without, sandboxes launch as before and `enforced` says so).
import { spawn } from 'node:child_process';
import { UserError, oneLine } from '../core/errors.js';
import type { SandboxMode } from '../core/types.js';
import { BwrapSandbox } from './bwrap.js';
import { findBinary, hostCaps, type HostCaps } from './host.js';
import { uidBase } from './identity.js';
import { diesWithRunner, launcher } from './launch.js';
import { UnsandboxedSandbox } from './none.js';
import type { Sandbox } from './sandbox.js';

export { BwrapSandbox } from './bwrap.js';
export { UnsandboxedSandbox } from './none.js';
export { OutputCapture, cutMarker } from './capture.js';
export { findBinary, hostCaps, type HostCaps } from './host.js';
export * from './sandbox.js';
export { asIdentity } from './bound.js';
export { openSession } from './session.js';
export { readAgentFile, type AgentFile } from './agent-file.js';
export { copyTree, removeTree, sandboxLinkPolicy, TreeRefused, DEFAULT_TREE_LIMITS, type CopyReport, type TreeLimits } from './tree.js';
export { anonymousIdentity, identityFor, type SandboxIdentity, type SandboxRole } from './identity.js';

export const BWRAP_MISSING =
  'bubblewrap (bwrap) is not installed: run `apt-get install bubblewrap`, or pass --sandbox none for unsandboxed development runs';

export interface CreateSandboxOptions {
  /** Path of the bwrap binary, or a name looked up on `searchPath`. Default: `bwrap`. */
  bwrap?: string;
  /** PATH-style directory list for the lookup. Default: process.env.PATH. */
  searchPath?: string;
  /** Run a trivial command in the sandbox first (cached per binary). Default: true. */
  probe?: boolean;
}

export async function createSandbox(mode: SandboxMode, opts: CreateSandboxOptions = {}): Promise<Sandbox> {
  if (mode === 'none') return new UnsandboxedSandbox();
  if (mode !== 'bwrap') throw new UserError(`unknown sandbox mode ${JSON.stringify(mode)}: expected bwrap or none`);
  const bwrap = findBinary(opts.bwrap ?? 'bwrap', opts.searchPath);
  if (!bwrap) throw new UserError(BWRAP_MISSING);
  const caps = hostCaps();
  if (caps.isRoot) {
    uidBase(); // a bad OUTLAST_UID_BASE is a one-line error now, not a failure of every rollout
    if (!caps.setpriv) throw new UserError('setpriv (util-linux) is missing: outlast needs it to run sandboxes as an unprivileged uid when it runs as root (apt-get install util-linux)');
  }
  if (opts.probe === false) return new BwrapSandbox(bwrap, caps);
  await probeBwrap(bwrap);
  // Where the launcher's PID namespace cannot be made (e.g. AppArmor restricting unshare's user
  // namespace but not bwrap's), launch as before; `enforced.dies_with_runner` then says false.
  return new BwrapSandbox(bwrap, (await probeLauncher(bwrap, caps)) ? caps : { ...caps, unshare: null });
}

const probes = new Map<string, Promise<void>>();

/**
 * Prove that bwrap can build a sandbox here (user namespaces may be disabled, e.g. by
 * kernel.unprivileged_userns_clone=0 or AppArmor). Resolves, or rejects with a one-line UserError.
 * Cached per binary path.
 */
export function probeBwrap(bwrap: string): Promise<void> {
  let p = probes.get(bwrap);
  if (!p) {
    p = runProbe(bwrap);
    probes.set(bwrap, p);
    p.catch(() => probes.delete(bwrap)); // let a later call retry after the user fixed it
  }
  return p;
}

const PROBE_ARGS = ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', '/bin/true'];

function runOnce(file: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.on('error', (e) => resolve({ code: null, stderr: e.message }));
    child.on('close', (c) => resolve({ code: c, stderr: err }));
  });
}

const launchProbes = new Map<string, Promise<boolean>>();

/** Whether bwrap runs under the launcher that ties it to this process (launch.ts). Cached per binary. */
export function probeLauncher(bwrap: string, caps: HostCaps): Promise<boolean> {
  if (!diesWithRunner(caps, true)) return Promise.resolve(false);
  let p = launchProbes.get(bwrap);
  if (!p) {
    const l = launcher(caps, 'exec "$@"', true);
    p = runOnce(l.file, [...l.args, bwrap, ...PROBE_ARGS]).then((r) => r.code === 0);
    launchProbes.set(bwrap, p);
  }
  return p;
}

async function runProbe(bwrap: string): Promise<void> {
  const { code, stderr } = await runOnce(bwrap, PROBE_ARGS);
  if (code === 0) return;
  const why = oneLine(stderr.split('\n').find((l) => l.trim()) ?? `exit code ${code}`);
  const hint = /namespace|permission|operation not permitted/i.test(why)
    ? ' (user namespaces look disabled: try `sysctl -w kernel.unprivileged_userns_clone=1` or `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`)'
    : '';
  throw new UserError(`bubblewrap (${bwrap}) cannot create a sandbox here: ${why}${hint}; pass --sandbox none for unsandboxed development runs`);
}
