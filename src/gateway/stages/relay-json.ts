// Stage 7 for a non-streaming call: read the whole upstream answer (within the call's deadline),
// meter it, convert it to the client's protocol when the protocols differ, scrub it, send it.
import type http from 'node:http';
import type { Readable } from 'node:stream';
import { type IRResponse } from '../ir.js';
import type { CallMeter } from '../meter.js';
import type { Codec } from '../protocols/index.js';
import { sendError } from '../respond.js';
import type { RolloutState } from '../rollouts.js';
import type { Scrubber } from '../secrets.js';
import { ResponseTooLarge, readText } from '../upstream.js';
import type { CallDeadline } from './deadline.js';
import type { ParsedCall } from './parse.js';
import type { CallOutcome } from './record.js';

/** End the response with `text`; resolves true once all of it was handed to the OS, false if the client left first. */
export function endResponse(res: http.ServerResponse, text: string): Promise<boolean> {
  return new Promise((resolve) => {
    const done = () => resolve(res.writableFinished);
    res.once('close', done);
    res.end(text, done);
  });
}

export const CLIENT_GONE: CallOutcome = { status: 499, error: { message: 'client closed the connection', infra: false, kind: 'client_gone' } };

/** A failure after the upstream answered 2xx (cut, malformed, deadline): told to the client, recorded as infra. */
export function cutShort(deadline: CallDeadline, fallback: string): { message: string; kind: 'deadline' | 'unavailable'; status: number } {
  const m = deadline.message;
  return m ? { message: m, kind: 'deadline', status: 504 } : { message: fallback, kind: 'unavailable', status: 502 };
}

export interface RelayParts {
  res: http.ServerResponse;
  client: Codec;
  upstream: Codec;
  call: ParsedCall;
  meter: CallMeter;
  ro: RolloutState;
  scrubber: Scrubber;
  deadline: CallDeadline;
  callId: string;
  /** Keeps the response body when bodies are recorded. */
  keep?: (text: string) => void;
}

export async function relayJson(p: RelayParts, body: Readable): Promise<CallOutcome> {
  const { res, client, call } = p;
  let text: string;
  try {
    text = await readText(body);
  } catch (e) {
    if (p.deadline.stopped === 'client_gone') return CLIENT_GONE;
    const f = cutShort(p.deadline, e instanceof ResponseTooLarge ? e.message : `upstream response cut: ${(e as Error).message}`);
    sendError(res, client, f.status, f.status === 504 ? 'timeout' : 'upstream', `outlast gateway: ${f.message}`, { 'x-outlast-failure': f.kind });
    return { status: f.status, error: { message: f.message, infra: true, kind: f.kind } };
  }
  let ir: IRResponse;
  try {
    ir = p.upstream.parseResponse(JSON.parse(text));
  } catch (e) {
    const message = `upstream sent a malformed response (${(e as Error).message.slice(0, 200)})`;
    sendError(res, client, 502, 'upstream', 'outlast gateway: upstream sent a malformed response', { 'x-outlast-failure': 'unavailable' });
    return { status: 502, error: { message, infra: true, kind: 'unavailable' } };
  }
  p.meter.observeResponse(ir);
  if (!call.same && client.protocol !== 'anthropic') p.ro.rememberReasoning(ir.content);
  const out = p.scrubber.scrub(call.same ? text : JSON.stringify(client.buildResponse(ir, call.ir)));
  p.keep?.(out);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out), 'x-outlast-call-id': p.callId });
  return (await endResponse(res, out)) ? { status: 200 } : CLIENT_GONE;
}
