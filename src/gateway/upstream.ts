// The upstream HTTP client (undici): one keep-alive pool for all endpoints, and the retry loop.
// Retried, with exponential backoff and jitter, bounded: 429 (honouring Retry-After / retry-after-ms),
// 5xx, connection errors, and timeouts before the first byte. Each retry is counted and the time spent
// waiting between attempts is recorded separately from the time spent on attempts.
import { Agent, errors as undiciErrors, request } from 'undici';
import type { GatewaySettings } from '../models/config.js';

export type RetryPolicy = Pick<GatewaySettings, 'max_retries' | 'backoff_base_ms' | 'backoff_max_ms' | 'max_retry_after_ms' | 'connect_timeout_ms' | 'first_byte_timeout_ms' | 'idle_timeout_ms'>;

type Body = Awaited<ReturnType<typeof request>>['body'];

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body stream; only for 2xx responses. */
  body: Body | null;
  /** The body text of a non-2xx response (read in full; error bodies are small). */
  errorText: string | null;
  retries: number;
  retry_wait_ms: number;
}

/** No response could be obtained (connection refused, timeouts), after all retries. */
export class UpstreamFailure extends Error {
  readonly retries: number;
  readonly retry_wait_ms: number;
  readonly timeout: boolean;
  constructor(message: string, retries: number, retry_wait_ms: number, timeout: boolean) {
    super(message);
    this.retries = retries;
    this.retry_wait_ms = retry_wait_ms;
    this.timeout = timeout;
  }
}

/** The call was aborted (the client went away); carries what was already spent on retries. */
export class UpstreamAborted extends Error {
  constructor(
    readonly retries: number,
    readonly retry_wait_ms: number,
  ) {
    super('aborted');
  }
}

export function createAgent(policy: Pick<RetryPolicy, 'connect_timeout_ms'>): Agent {
  return new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connect: { timeout: policy.connect_timeout_ms } });
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** Wait asked for by Retry-After (seconds or an HTTP date) or retry-after-ms, in ms; null when absent. */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | null {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = first(headers['retry-after']);
  if (ra === undefined || ra.trim() === '') return null;
  const secs = Number(ra);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(ra);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return null;
}

/** Backoff before retry number `attempt` (0-based): base·2^attempt capped, times a jitter factor in [0.5, 1). */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, 'backoff_base_ms' | 'backoff_max_ms'>, rand = Math.random): number {
  const nominal = Math.min(policy.backoff_max_ms, policy.backoff_base_ms * 2 ** attempt);
  return nominal * (0.5 + rand() * 0.5);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(err: unknown): { message: string; timeout: boolean } {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const timeout = err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.ConnectTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
  const what = timeout ? 'timed out before the first byte' : `connection failed (${code ?? e.message ?? 'unknown error'})`;
  return { message: `upstream ${what}`, timeout };
}

/**
 * POST `body` to `url`, retrying per `policy`. Resolves with the first 2xx response (body still
 * streaming), or the last non-2xx response (body read); rejects with UpstreamFailure when no
 * response came at all, or with UpstreamAborted (retries and waiting so far) when `signal` fires.
 */
export async function postUpstream(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<UpstreamResponse> {
  let retries = 0;
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    let wait: number;
    try {
      const res = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: agent,
        headersTimeout: policy.first_byte_timeout_ms,
        bodyTimeout: policy.idle_timeout_ms,
        signal,
      });
      if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, headers: res.headers, body: res.body, errorText: null, retries, retry_wait_ms: waited };
      let text = '';
      try {
        text = await res.body.text();
      } catch {
        text = '';
      }
      if (!isRetryableStatus(res.statusCode) || attempt >= policy.max_retries) return { status: res.statusCode, headers: res.headers, body: null, errorText: text, retries, retry_wait_ms: waited };
      const ra = res.statusCode === 429 || res.statusCode === 503 ? retryAfterMs(res.headers) : null;
      wait = ra !== null ? Math.min(ra, policy.max_retry_after_ms) : backoffMs(attempt, policy);
    } catch (err) {
      if (signal?.aborted) throw new UpstreamAborted(retries, waited);
      const d = describe(err);
      if (attempt >= policy.max_retries) throw new UpstreamFailure(`${d.message} after ${retries} retr${retries === 1 ? 'y' : 'ies'}`, retries, waited, d.timeout);
      wait = backoffMs(attempt, policy);
    }
    const t = performance.now();
    try {
      await sleep(wait, signal);
    } catch {
      throw new UpstreamAborted(retries, waited + (performance.now() - t));
    }
    waited += performance.now() - t;
    retries++;
  }
}
