// The upstream HTTP client (undici): one keep-alive pool for all endpoints, and the retry loop.
// Retried, with exponential backoff and jitter, bounded: what status.ts calls `unavailable` (429,
// honouring Retry-After / retry-after-ms, 408, 5xx), connection errors, and timeouts before the
// first byte. Never past the call's deadline (its signal). Each retry is counted and the time spent
// waiting between attempts is recorded separately from the time spent on attempts. Compressed
// answers (gzip, deflate, br) are decoded.
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { Agent, errors as undiciErrors, request } from 'undici';
import { outageBackoffMs } from '../core/outage.js';
import type { GatewaySettings } from '../models/config.js';
import { DeadlineExceeded } from './stages/deadline.js';
import { isRetryableStatus } from './status.js';

export type RetryPolicy = Pick<GatewaySettings, 'max_retries' | 'backoff_base_ms' | 'backoff_max_ms' | 'max_retry_after_ms' | 'connect_timeout_ms' | 'first_byte_timeout_ms' | 'idle_timeout_ms'>;

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The (decoded) body stream; only for 2xx responses. */
  body: Readable | null;
  /** The body text of a non-2xx response (read in full, at most 64 KiB kept). */
  errorText: string | null;
  retries: number;
  retry_wait_ms: number;
}

/** No response could be obtained (connection refused, timeouts, the call's deadline), after all retries. */
export class UpstreamFailure extends Error {
  constructor(
    message: string,
    readonly retries: number,
    readonly retry_wait_ms: number,
    readonly timeout: boolean,
    readonly deadline = false,
  ) {
    super(message);
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

/** Backoff before retry number `attempt` (0-based): base·2^attempt capped, times a jitter factor in [0.5, 1) (the harness's outage backoff, src/core/outage.ts). */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, 'backoff_base_ms' | 'backoff_max_ms'>, rand = Math.random): number {
  return outageBackoffMs(attempt + 1, policy.backoff_base_ms, policy.backoff_max_ms, rand);
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

/** The body decoded per its content-encoding. */
export function decoded(body: Readable, encoding: string | string[] | undefined): Readable {
  const enc = (Array.isArray(encoding) ? encoding[0] : encoding)?.trim().toLowerCase();
  const z = enc === 'gzip' || enc === 'x-gzip' ? zlib.createGunzip() : enc === 'deflate' ? zlib.createInflate() : enc === 'br' ? zlib.createBrotliDecompress() : null;
  if (!z) return body;
  body.on('error', (e) => z.destroy(e));
  return body.pipe(z);
}

/** The largest non-streamed answer the gateway reads (a hostile upstream could send forever). */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class ResponseTooLarge extends Error {}

/**
 * All of a stream as text. With `keep`, only the first `keep` characters are kept (error bodies);
 * over `max` bytes the stream is destroyed and ResponseTooLarge thrown.
 */
export async function readText(body: Readable, keep = Infinity, max = MAX_RESPONSE_BYTES): Promise<string> {
  const td = new TextDecoder();
  let s = '';
  let bytes = 0;
  for await (const c of body) {
    bytes += (c as Uint8Array).length;
    if (bytes > max) {
      body.destroy();
      throw new ResponseTooLarge(`upstream response exceeds ${max} bytes`);
    }
    if (s.length < keep) s += td.decode(c as Uint8Array, { stream: true });
  }
  return s.length > keep ? s.slice(0, keep) : s;
}

function aborted(signal: AbortSignal | undefined, retries: number, waited: number): Error {
  const r: unknown = signal?.reason;
  if (r instanceof DeadlineExceeded) return new UpstreamFailure(`${r.message} after ${retries} retr${retries === 1 ? 'y' : 'ies'}`, retries, waited, true, true);
  return new UpstreamAborted(retries, waited);
}

/**
 * POST `body` (text, a buffer, or pieces sent one after another) to `url`, retrying per `policy`. Resolves with the first 2xx response (body still
 * streaming), or the last non-2xx response (body read); rejects with UpstreamFailure when no
 * response came at all (or the deadline in `signal` fired), or UpstreamAborted when the client left.
 */
export async function postUpstream(agent: Agent, url: string, headers: Record<string, string>, body: string | Buffer | readonly Buffer[], policy: RetryPolicy, signal?: AbortSignal): Promise<UpstreamResponse> {
  let retries = 0;
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    let wait: number;
    try {
      const res = await request(url, { method: 'POST', headers, body: Array.isArray(body) ? Readable.from(body, { objectMode: false }) : (body as string | Buffer), dispatcher: agent, headersTimeout: policy.first_byte_timeout_ms, bodyTimeout: policy.idle_timeout_ms, signal });
      const stream = decoded(res.body, res.headers['content-encoding']);
      if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, headers: res.headers, body: stream, errorText: null, retries, retry_wait_ms: waited };
      const text = await readText(stream, 65536).catch(() => '');
      if (!isRetryableStatus(res.statusCode) || attempt >= policy.max_retries) return { status: res.statusCode, headers: res.headers, body: null, errorText: text, retries, retry_wait_ms: waited };
      const ra = res.statusCode === 429 || res.statusCode === 503 ? retryAfterMs(res.headers) : null;
      wait = ra !== null ? Math.min(ra, policy.max_retry_after_ms) : backoffMs(attempt, policy);
    } catch (err) {
      if (signal?.aborted) throw aborted(signal, retries, waited);
      const d = describe(err);
      if (attempt >= policy.max_retries) throw new UpstreamFailure(`${d.message} after ${retries} retr${retries === 1 ? 'y' : 'ies'}`, retries, waited, d.timeout);
      wait = backoffMs(attempt, policy);
    }
    const t = performance.now();
    try {
      await sleep(wait, signal);
    } catch {
      throw aborted(signal, retries, waited + (performance.now() - t));
    }
    waited += performance.now() - t;
    retries++;
  }
}
