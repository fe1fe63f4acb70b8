// Stage 7 for a failed call: the upstream's error status and message, or the gateway's own failure
// (no response, a deadline), told to the client in its protocol, scrubbed of keys, with only an
// allowlisted, validated Retry-After of the upstream's headers, and classified once (status.ts).
import type http from 'node:http';
import { upstreamErrorMessage } from '../ir.js';
import type { Codec } from '../protocols/index.js';
import { sendError, sendJson } from '../respond.js';
import type { Scrubber } from '../secrets.js';
import { classifyStatus, failureKindForStatus, isInfraStatus, kindForStatus, misconfigurationHint } from '../status.js';
import type { UpstreamFailure, UpstreamResponse } from '../upstream.js';
import type { CallOutcome } from './record.js';

/** Retry-After, only when it is a number of seconds or an HTTP date. */
function retryAfter(headers: UpstreamResponse['headers']): Record<string, string> {
  const v = headers['retry-after'];
  const s = Array.isArray(v) ? v[0] : v;
  if (typeof s !== 'string') return {};
  const t = s.trim();
  if (/^\d{1,6}(\.\d{1,3})?$/.test(t) || (/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(t) && Number.isFinite(Date.parse(t)))) return { 'retry-after': t };
  return {};
}

/** Relay a non-2xx upstream answer; returns how the call ended. */
export function relayUpstreamError(res: http.ServerResponse, client: Codec, same: boolean, up: UpstreamResponse, scrubber: Scrubber): CallOutcome {
  const text = scrubber.scrub(up.errorText ?? '');
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const cls = classifyStatus(up.status);
  const base = upstreamErrorMessage(parsed, `upstream answered HTTP ${up.status}`);
  const message = cls === 'misconfigured' ? `${base} (${misconfigurationHint(up.status)})` : base;
  const kind = failureKindForStatus(up.status);
  const headers = { ...retryAfter(up.headers), 'x-outlast-failure': kind };
  if (cls === 'misconfigured') {
    // The client's own key (a gateway token) is fine: tell it the upstream is misconfigured, not "401".
    sendError(res, client, 502, 'upstream', `outlast gateway: upstream HTTP ${up.status}: ${message}`, headers);
  } else if (same && parsed !== null) sendJson(res, up.status, parsed, headers);
  else sendError(res, client, up.status, kindForStatus(up.status), message, headers);
  return { status: up.status, error: { message: `upstream HTTP ${up.status}: ${message}`, infra: isInfraStatus(up.status), kind } };
}

/** No upstream answer at all (connection failures, timeouts, the call's deadline). */
export function relayNoResponse(res: http.ServerResponse, client: Codec, e: UpstreamFailure): CallOutcome {
  const status = e.timeout ? 504 : 502;
  const kind = e.deadline ? 'deadline' : 'unavailable';
  sendError(res, client, status, e.timeout ? 'timeout' : 'upstream', `outlast gateway: ${e.message}`, { 'x-outlast-failure': kind });
  return { status, error: { message: e.message, infra: true, kind } };
}
