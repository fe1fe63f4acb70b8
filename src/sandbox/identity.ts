// Who a sandboxed process is. When outlast runs as root, every sandboxed process runs as a dedicated,
// unprivileged host uid, never as root: the agent of a rollout as one uid, the verifier of that rollout
// as another, both in the rollout's own group (so the verifier can read and write the workspace copy
// it grades, and the agent's code, run out of process, cannot write the verifier's reward directory).
// When outlast runs as a normal user there is one uid to run as (the user's), and the separation rests
// on the namespaces alone (docs/security.md says what that means).
//
// The uids come from a range that no account uses: OUTLAST_UID_BASE (default 0x70000000 =
// 1879048192) + 2n for the agent and + 2n + 1 for the verifier, n = a hash of the rollout id in
// [1, 2^23) (n = 0 is the anonymous identity of an exec that names none). Concurrent rollouts therefore have distinct uids (per-uid kernel state such as the user
// keyring is not shared between them); the same rollout gets the same uids on resume.
import { createHash } from 'node:crypto';
import { UserError } from '../core/errors.js';

export type SandboxRole = 'agent' | 'verifier';

export interface SandboxIdentity {
  role: SandboxRole;
  uid: number;
  /** Primary group: the rollout's group, shared by its agent and its verifier. */
  gid: number;
  /** Supplementary groups (none). */
  groups: number[];
}

/** Default first uid of the range (no account on a normal machine is up there). */
export const DEFAULT_UID_BASE = 0x7000_0000;
/** Rollout slots in the range: uids BASE .. BASE + 2 * SLOTS - 1. */
const SLOTS = 2 ** 23;

/** The base of the uid range (OUTLAST_UID_BASE, else the default); a one-line error when it is bad. */
export function uidBase(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.OUTLAST_UID_BASE;
  if (raw === undefined || raw === '') return DEFAULT_UID_BASE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1000 || n + 2 * SLOTS > 2 ** 31 - 2) {
    throw new UserError(`OUTLAST_UID_BASE must be an integer from 1000 to ${2 ** 31 - 2 - 2 * SLOTS}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** The identity of `role` in the rollout (or other unit of isolation) named by `key`. */
export function identityFor(key: string, role: SandboxRole, base = uidBase()): SandboxIdentity {
  const n = 1 + (createHash('sha256').update(key).digest().readUInt32BE(0) % (SLOTS - 1)); // 0 is the anonymous identity
  const agent = base + 2 * n;
  const uid = role === 'agent' ? agent : agent + 1;
  return { role, uid, gid: agent, groups: [] };
}

/** The identity an exec runs as when its caller names none: an agent of no rollout. */
export function anonymousIdentity(base = uidBase()): SandboxIdentity {
  return { role: 'agent', uid: base, gid: base, groups: [] };
}
