// The interface every protocol module implements: requests, responses and stream events to and from
// the IR, plus the protocol's error shapes.
import type { Protocol } from '../../core/types.js';
import type { ErrorKind, IRRequest, IRResponse, IRStreamEvent } from '../ir.js';

export interface StreamDecoder {
  /** One SSE event (its `event:` name, if any, and `data:` text) → IR events. Throws on malformed data. */
  push(event: string | undefined, data: string): IRStreamEvent[];
  /** True once the protocol's own end marker was seen ([DONE], message_stop, response.completed). */
  readonly done: boolean;
}

export interface StreamEncoder {
  /** IR event → SSE text to send to the client ('' when nothing is due yet). */
  push(ev: IRStreamEvent): string;
  /** Closing SSE text (finish reason, usage, end marker). */
  end(): string;
}

export interface ParseOptions {
  /**
   * The protocol the request will be sent to. When it is the client's own protocol the body is
   * passed through, and features the IR cannot hold are ignored instead of refused.
   */
  target: Protocol;
}

export interface Codec {
  protocol: Protocol;
  /** Path under the endpoint's base URL (which ends in /v1 or the provider's equivalent). */
  path: string;
  /** Validate a client request and convert it; throws GatewayError (400) on malformed or untranslatable input. */
  parseRequest(body: unknown, opts: ParseOptions): IRRequest;
  /** Build an upstream request body from the IR (without `model`, which the gateway sets). */
  buildRequest(ir: IRRequest, from: Protocol): Record<string, unknown>;
  /** Convert an upstream (non-streaming) response body. Throws GatewayError on a body it cannot read. */
  parseResponse(body: unknown): IRResponse;
  /** Build the client's (non-streaming) response body. */
  buildResponse(r: IRResponse, req: IRRequest): unknown;
  createDecoder(): StreamDecoder;
  createEncoder(req: IRRequest): StreamEncoder;
  /** Error body in this protocol's shape. */
  errorBody(kind: ErrorKind, message: string): unknown;
  /** An in-stream error event in this protocol's shape (SSE text). */
  streamError(kind: ErrorKind, message: string): string;
}

export function sse(data: unknown, event?: string): string {
  return (event ? `event: ${event}\n` : '') + `data: ${JSON.stringify(data)}\n\n`;
}
