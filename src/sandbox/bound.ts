// A view of a sandbox in which every exec runs as one identity (identity.ts): the runner hands the
// harness the agent's view and the verifier the verifier's, so neither can run anything as the other.
import type { SandboxIdentity } from './identity.js';
import type { Sandbox } from './sandbox.js';

export function asIdentity(sandbox: Sandbox, identity: SandboxIdentity): Sandbox & { identity: SandboxIdentity } {
  const base = sandbox.identity ? sandbox.base ?? sandbox : sandbox;
  return {
    mode: base.mode,
    unsandboxed: base.unsandboxed,
    enforced: base.enforced,
    identity,
    base,
    exec: (opts) => base.exec({ ...opts, identity }),
    adopt: (dir) => base.adopt(dir, identity),
    ...(base.session ? { session: (opts) => base.session!({ ...opts, identity }) } : {}),
  };
}
