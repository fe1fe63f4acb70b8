// Stage 6, send: the upstream request through the shared undici pool with the retry policy, under
// the call's deadline. The request event is written while the upstream works on the call.
import type { Agent } from 'undici';
import type { GatewaySettings } from '../../models/config.js';
import { UpstreamAborted, UpstreamFailure, type UpstreamResponse, postUpstream } from '../upstream.js';
import type { UpstreamRequest } from './build.js';
import type { CallDeadline } from './deadline.js';

export type SendResult = { ok: true; up: UpstreamResponse } | { ok: false; failure: UpstreamFailure } | { ok: false; gone: UpstreamAborted };

export async function send(agent: Agent, req: UpstreamRequest, settings: GatewaySettings, deadline: CallDeadline, whileWaiting: () => void): Promise<SendResult> {
  const pending = postUpstream(agent, req.url, req.headers, req.body, settings, deadline.signal);
  pending.catch(() => {});
  whileWaiting();
  try {
    return { ok: true, up: await pending };
  } catch (e) {
    if (e instanceof UpstreamAborted) return { ok: false, gone: e };
    if (e instanceof UpstreamFailure) return { ok: false, failure: e };
    return { ok: false, failure: new UpstreamFailure(`upstream request failed: ${(e as Error).message}`, 0, 0, false) };
  }
}
