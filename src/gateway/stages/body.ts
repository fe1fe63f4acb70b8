// Stage 2, read the body: bounded in size (max_body_bytes, 413), in time (body_timeout_ms: a body
// dribbled in slowly is cut off, 408), and across all requests in flight (max_buffered_bytes: a
// ByteBudget shared by the gateway's listeners, 503 when full). Into the rollout's reused buffers
// when given a sink (body-pool.ts), else into one new buffer.
import type http from 'node:http';
import { Refusal } from '../respond.js';

/** Bytes held by request bodies being read or forwarded, across the gateway. */
export class ByteBudget {
  used = 0;
  constructor(readonly limit: number) {}

  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

export interface BodyLimits {
  max_body_bytes: number;
  body_timeout_ms: number;
}

export interface ReadBody {
  raw: Buffer;
  /** Give the body's bytes back to the budget (once the call no longer needs them). */
  release(): void;
}

/** Where the chunks go. */
export interface BodySink {
  push(c: Buffer): void;
  /** The whole body. */
  end(): Buffer;
  /** The read failed. */
  abort(): void;
  /** The call is over: the body's buffer may be used again. */
  done?(raw: Buffer): void;
}

function concatSink(): BodySink {
  const chunks: Buffer[] = [];
  return { push: (c) => void chunks.push(c), end: () => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)), abort: () => void (chunks.length = 0) };
}

const overloaded = () => new Refusal(503, 'overloaded', 'outlast gateway: too many request bytes in flight; retry shortly', 'gateway', { 'retry-after': '1', connection: 'close' });

export function readBody(req: http.IncomingMessage, limits: BodyLimits, budget: ByteBudget, sink: BodySink = concatSink()): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.max_body_bytes) {
      req.resume();
      return reject(new Refusal(413, 'too_large', `request body of ${declared} bytes exceeds the gateway limit of ${limits.max_body_bytes} bytes`, 'request', { connection: 'close' }));
    }
    let held = 0;
    let settled = false;
    const fail = (e: Refusal | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      budget.give(held);
      sink.abort();
      req.removeAllListeners('data');
      req.resume();
      reject(e);
    };
    const timer = setTimeout(() => fail(new Refusal(408, 'timeout', `request body not received within ${limits.body_timeout_ms} ms`, 'request', { connection: 'close' })), limits.body_timeout_ms);
    req.on('data', (c: Buffer) => {
      if (settled) return;
      if (held + c.length > limits.max_body_bytes) return fail(new Refusal(413, 'too_large', `request body exceeds the gateway limit of ${limits.max_body_bytes} bytes`, 'request', { connection: 'close' }));
      if (!budget.take(c.length)) return fail(overloaded());
      held += c.length;
      sink.push(c);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const raw = sink.end();
      let given = false;
      resolve({ raw, release: () => (given ? undefined : ((given = true), budget.give(held), sink.done?.(raw))) });
    });
    const gone = () => fail(new Refusal(499, 'invalid_request', 'the client closed the connection before its request body arrived', 'client_gone'));
    req.on('error', gone);
    req.on('aborted', gone);
  });
}
