// Stage 1, authenticate: the gateway token (Authorization: Bearer or x-api-key) names the rollout.
// Nothing is read or forwarded for a request without a known token; it is answered 401 and, having
// no rollout to belong to, only logged.
import type http from 'node:http';
import { Refusal } from '../respond.js';
import type { RolloutState } from '../rollouts.js';

export function tokenOf(req: http.IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!.trim();
  }
  const k = req.headers['x-api-key'];
  if (typeof k === 'string' && k) return k.trim();
  return null;
}

export function authenticate(req: http.IncomingMessage, rollouts: ReadonlyMap<string, RolloutState>): RolloutState {
  const token = tokenOf(req);
  const ro = token ? rollouts.get(token) : undefined;
  if (ro) return ro;
  throw new Refusal(401, 'authentication', token ? 'invalid gateway token' : 'missing gateway token (send Authorization: Bearer <token> or x-api-key)', 'request');
}
