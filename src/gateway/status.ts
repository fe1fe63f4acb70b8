// What an upstream's HTTP status means, decided once: whether the call is worth another attempt,
// whose fault a failure is, and the error kind the client is told. The upstream client's retry loop,
// the recorder and the relay all ask here. Pure; no I/O.
import type { GatewayFailureKind } from '../core/events.js';
import type { ErrorKind } from './ir.js';

/**
 * - `ok`: 2xx.
 * - `unavailable`: the provider is overloaded or down (408, 429, 5xx, 529): retried, then infra.
 * - `misconfigured`: the endpoint's configuration is wrong (a redirect, 404/405 on the API path, a
 *   refused key: 401/403): never retried, infra (not the agent's fault), with a hint for the user.
 * - `client`: the request itself was refused (400, 413, 422, other 4xx): the caller's fault.
 */
export type UpstreamStatusClass = 'ok' | 'unavailable' | 'misconfigured' | 'client';

export function classifyStatus(status: number): UpstreamStatusClass {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429 || status >= 500) return 'unavailable';
  if ((status >= 300 && status < 400) || status === 401 || status === 403 || status === 404 || status === 405) return 'misconfigured';
  return 'client';
}

export function isRetryableStatus(status: number): boolean {
  return classifyStatus(status) === 'unavailable';
}

/** Whether a failure with this upstream status is the infrastructure's fault (never the agent's). */
export function isInfraStatus(status: number): boolean {
  const c = classifyStatus(status);
  return c === 'unavailable' || c === 'misconfigured';
}

/** A one-line hint for the user when the endpoint looks misconfigured. */
export function misconfigurationHint(status: number): string {
  if (status >= 300 && status < 400) return 'the upstream redirected the call: check base_url (it must be the API base, e.g. https://api.openai.com/v1)';
  if (status === 404 || status === 405) return 'the upstream has no such API path or model: check base_url (does it end in /v1?) and upstream_model';
  return 'the upstream refused the key: check the variable named by api_key_env';
}

export function kindForStatus(status: number): ErrorKind {
  if (status === 401) return 'authentication';
  if (status === 403) return 'permission';
  if (status === 404) return 'not_found';
  if (status === 413) return 'too_large';
  if (status === 429) return 'rate_limit';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 529 || status === 503) return 'overloaded';
  if (status >= 500) return 'upstream';
  return 'invalid_request';
}

/**
 * What the gateway tells a client about why a call failed, in the `x-outlast-failure` header:
 * `unavailable` and `deadline` are worth waiting for; `misconfigured` needs the user; `budget` and
 * `request` are final for the caller; `gateway` is the gateway's own overload (retry shortly).
 */
export type FailureKind = GatewayFailureKind;

export function failureKindForStatus(status: number): FailureKind {
  const c = classifyStatus(status);
  return c === 'unavailable' ? 'unavailable' : c === 'misconfigured' ? 'misconfigured' : 'request';
}
