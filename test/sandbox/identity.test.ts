// Sandbox identities: the uids the agent and the verifier of a rollout run as when outlast is root.
import { describe, expect, it } from 'vitest';
import { isUserError } from '../../src/core/errors.js';
import { anonymousIdentity, DEFAULT_UID_BASE, identityFor, uidBase } from '../../src/sandbox/identity.js';

describe('sandbox identities', () => {
  it('give a rollout an agent and a verifier uid, distinct, unprivileged, sharing one group, the same on resume', () => {
    const a = identityFor('exp-1/task--outlast--m--r1', 'agent');
    const v = identityFor('exp-1/task--outlast--m--r1', 'verifier');
    expect(a.uid).not.toBe(v.uid);
    expect(a.gid).toBe(v.gid);
    expect(Math.min(a.uid, v.uid)).toBeGreaterThanOrEqual(DEFAULT_UID_BASE);
    expect(Math.max(a.uid, v.uid)).toBeLessThan(2 ** 31 - 1);
    expect(identityFor('exp-1/task--outlast--m--r1', 'agent')).toEqual(a);
    expect(anonymousIdentity().uid).not.toBe(a.uid);
  });

  it('keep concurrent rollouts apart', () => {
    const uids = new Set(Array.from({ length: 1000 }, (_, i) => identityFor(`rollout-${i}`, 'agent').uid));
    expect(uids.size).toBeGreaterThan(995);
  });

  it('take their range from OUTLAST_UID_BASE, and refuse a bad one in one line', () => {
    expect(uidBase({ OUTLAST_UID_BASE: '200000' })).toBe(200000);
    for (const bad of ['12', 'x', '-5', String(2 ** 31)]) {
      let err: unknown;
      try {
        uidBase({ OUTLAST_UID_BASE: bad });
      } catch (e) {
        err = e;
      }
      expect(isUserError(err), bad).toBe(true);
    }
  });
});
