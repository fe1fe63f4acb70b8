// Answers the gateway writes itself: JSON bodies and errors in the client's protocol, and the
// Refusal a stage throws to stop a call before it is forwarded. Every error the gateway sends
// carries `x-outlast-failure` (see status.ts) so a harness can tell an outage from its own mistake.
import type http from 'node:http';
import type { GatewayFailureKind } from '../core/events.js';
import { type ErrorKind, GatewayError } from './ir.js';
import type { Codec } from './protocols/index.js';

const JSON_TYPE = 'application/json';

/** A call the gateway will not forward: status, error kind in the client's protocol, why, and whose fault. */
export class Refusal extends GatewayError {
  constructor(
    status: number,
    kind: ErrorKind,
    message: string,
    readonly failure: GatewayFailureKind = 'request',
    readonly headers: Record<string, string> = {},
  ) {
    super(status, kind, message);
  }

  /** A converter's GatewayError (400 for untranslatable input) as a refusal of the request. */
  static from(e: GatewayError): Refusal {
    return e instanceof Refusal ? e : new Refusal(e.status, e.kind, e.message, 'request');
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

/** An error in the client's protocol; mid-stream, as the protocol's in-stream error event. */
export function sendError(res: http.ServerResponse, codec: Codec, status: number, kind: ErrorKind, message: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end(codec.streamError(kind, message));
    return;
  }
  sendJson(res, status, codec.errorBody(kind, message), extra);
}

export function sendRefusal(res: http.ServerResponse, codec: Codec, r: Refusal): void {
  sendError(res, codec, r.status, r.kind, r.message, { 'x-outlast-failure': r.failure, ...(r.failure === 'budget' ? { 'x-outlast-budget': 'exhausted' } : {}), ...r.headers });
}
