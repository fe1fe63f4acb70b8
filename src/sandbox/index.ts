// Sandbox factory: `createSandbox('bwrap' | 'none')`. For bwrap it finds the binary and proves,
// once per process, that it can create the namespaces it needs, turning failures into one-line
// UserErrors the CLI prints as they are.
import { spawn } from 'node:child_process';
import { UserError, oneLine } from '../core/errors.js';
import type { SandboxMode } from '../core/types.js';
import { BwrapSandbox } from './bwrap.js';
import { findBinary, hostCaps } from './host.js';
import { uidBase } from './identity.js';
import { UnsandboxedSandbox } from './none.js';
import type { Sandbox } from './sandbox.js';

export { BwrapSandbox } from './bwrap.js';
export { UnsandboxedSandbox } from './none.js';
export { OutputCapture, cutMarker } from './capture.js';
export { findBinary, hostCaps, type HostCaps } from './host.js';
export * from './sandbox.js';
export { asIdentity } from './bound.js';
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
  const sandbox = new BwrapSandbox(bwrap, caps);
  if (opts.probe !== false) await probeBwrap(bwrap);
  return sandbox;
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

async function runProbe(bwrap: string): Promise<void> {
  const args = ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', '/bin/true'];
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(bwrap, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.on('error', (e) => resolve({ code: null, stderr: e.message }));
    child.on('close', (c) => resolve({ code: c, stderr: err }));
  });
  if (code === 0) return;
  const why = oneLine(stderr.split('\n').find((l) => l.trim()) ?? `exit code ${code}`);
  const hint = /namespace|permission|operation not permitted/i.test(why)
    ? ' (user namespaces look disabled: try `sysctl -w kernel.unprivileged_userns_clone=1` or `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`)'
    : '';
  throw new UserError(`bubblewrap (${bwrap}) cannot create a sandbox here: ${why}${hint}; pass --sandbox none for unsandboxed development runs`);
}
