// One streaming model call through the gateway, in the endpoint's native protocol. The request body
// and the stream are handled by the gateway's own protocol codecs (src/gateway/protocols), so the
// harness has no second protocol layer: the codec writes the wire body (wire.ts), and the codec's
// stream decoder turns the SSE events back into IR events.
import { createParser } from 'eventsource-parser';
import type { NewEvent, ToolCallRef } from '../../core/events.js';
import type { Usage } from '../../core/types.js';
import { type IRPart, fullUsage, isObj } from '../../gateway/ir.js';
import { CODECS } from '../../gateway/protocols/index.js';
import type { ModelAccess } from '../harness.js';
import { parseArguments } from './state.js';

export interface ToolCallOut {
  id: string;
  name: string;
  /** Argument JSON text as the model produced it. */
  arguments: string;
}

export interface Reply {
  text: string;
  /** Reasoning blocks in order (Anthropic's with their signatures; redacted ones as data). */
  reasoning: Extract<IRPart, { type: 'reasoning' | 'redacted_reasoning' }>[];
  tool_calls: ToolCallOut[];
  finish_reason: string | null;
  usage: Usage | null;
  /** The gateway's call id (`x-outlast-call-id`), which names the call's model.request/response events. */
  call_id: string | null;
}

/** A failed call: `budget` (the gateway refused: over budget), `infra` (upstream/network; worth another try), `request` (the request itself was refused). */
export class ModelCallError extends Error {
  constructor(
    readonly kind: 'budget' | 'infra' | 'request',
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** POST one streaming request (`body`: JSON in the endpoint's protocol, whole or in pieces, see wire.ts) and read the reply. */
export async function callModel(model: ModelAccess, body: string | Uint8Array | readonly Uint8Array[], signal: AbortSignal): Promise<Reply> {
  const protocol = model.endpoint.protocol;
  const codec = CODECS[protocol];
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${model.token}` };
  if (protocol === 'anthropic') {
    headers['anthropic-version'] = '2023-06-01';
    headers['x-api-key'] = model.token;
  }
  let res: Response;
  try {
    res = await fetch(`${model.gateway_url}/v1${codec.path}`, { method: 'POST', headers, ...bodyInit(body), signal });
  } catch (e) {
    if (signal.aborted) throw e;
    throw new ModelCallError('infra', `gateway unreachable: ${(e as Error).message}`);
  }
  if (res.status !== 200 || !res.body) {
    const text = await res.text().catch(() => '');
    const msg = errorMessage(text) ?? `HTTP ${res.status}`;
    if (res.headers.get('x-outlast-budget') === 'exhausted') throw new ModelCallError('budget', msg, res.status);
    // The gateway says why (x-outlast-failure, src/gateway/status.ts): an outage is worth waiting for;
    // a misconfigured endpoint (wrong key, base_url) is not: it ends the rollout infra_error at once.
    const failure = res.headers.get('x-outlast-failure');
    if (failure === 'misconfigured') throw new ModelCallError('request', `model endpoint misconfigured (HTTP ${res.status}): ${msg}`, res.status);
    const infra = failure === 'unavailable' || failure === 'deadline' || failure === 'gateway' || res.status === 429 || res.status >= 500;
    throw new ModelCallError(infra ? 'infra' : 'request', `model call failed (HTTP ${res.status}): ${msg}`, res.status);
  }

  const reply: Reply = { text: '', reasoning: [], tool_calls: [], finish_reason: null, usage: null, call_id: res.headers.get('x-outlast-call-id') };
  const decoder = codec.createDecoder();
  let usage: Partial<Usage> | null = null;
  let streamError: string | null = null;
  let bad: string | null = null;
  const parser = createParser({
    onEvent: (msg) => {
      if (bad) return;
      let evs;
      try {
        evs = decoder.push(msg.event, msg.data);
      } catch (e) {
        bad = (e as Error).message;
        return;
      }
      for (const ev of evs) {
        switch (ev.type) {
          case 'text':
            reply.text += ev.text;
            break;
          case 'reasoning': {
            const last = reply.reasoning[reply.reasoning.length - 1];
            if (last && last.type === 'reasoning' && last.signature === undefined) last.text += ev.text;
            else reply.reasoning.push({ type: 'reasoning', text: ev.text });
            break;
          }
          case 'reasoning_signature': {
            const last = reply.reasoning[reply.reasoning.length - 1];
            if (last && last.type === 'reasoning' && last.signature === undefined) last.signature = ev.signature;
            else reply.reasoning.push({ type: 'reasoning', text: '', signature: ev.signature });
            break;
          }
          case 'redacted_reasoning':
            reply.reasoning.push({ type: 'redacted_reasoning', data: ev.data });
            break;
          case 'tool_call_start':
            reply.tool_calls[ev.index] = { id: ev.id, name: ev.name, arguments: '' };
            break;
          case 'tool_call_args': {
            const c = reply.tool_calls[ev.index];
            if (c) c.arguments += ev.arguments;
            break;
          }
          case 'finish':
            reply.finish_reason = ev.reason;
            break;
          case 'usage':
            usage = { ...(usage ?? {}), ...ev.usage };
            break;
          case 'error':
            streamError = ev.message;
            break;
          default:
            break;
        }
      }
    },
  });
  const td = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(td.decode(chunk, { stream: true }));
  } catch (e) {
    if (signal.aborted) throw e;
    throw new ModelCallError('infra', `model stream broke: ${(e as Error).message}`);
  }
  if (bad) throw new ModelCallError('infra', `malformed model stream: ${bad}`);
  if (streamError) throw new ModelCallError('infra', `model stream error: ${streamError}`);
  if (!decoder.done && reply.finish_reason === null) throw new ModelCallError('infra', 'model stream ended before its end marker');
  reply.tool_calls = reply.tool_calls.filter(Boolean);
  reply.usage = usage ? fullUsage(usage) : null;
  return reply;
}

/** Pieces go as a stream (sent as they are, not copied into one buffer first). */
function bodyInit(body: string | Uint8Array | readonly Uint8Array[]): RequestInit {
  if (typeof body === 'string' || body instanceof Uint8Array) return { body };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of body) if (p.length) c.enqueue(p);
      c.close();
    },
  });
  return { body: stream, duplex: 'half' } as RequestInit;
}

function errorMessage(text: string): string | null {
  try {
    const v = JSON.parse(text) as unknown;
    if (isObj(v) && isObj(v.error) && typeof v.error.message === 'string') return v.error.message;
  } catch {
    /* not JSON */
  }
  return text ? text.slice(0, 300) : null;
}

/** The `assistant` event of a reply: arguments parsed, empty or repeated ids made unique, signed reasoning kept verbatim. */
export function assistantEvent(r: Reply): NewEvent {
  const seen = new Set<string>();
  const calls: ToolCallRef[] = r.tool_calls.map((c, i) => {
    let id = c.id || `call_outlast_${i}`;
    while (seen.has(id)) id += '_';
    seen.add(id);
    return { id, name: c.name, arguments: parseArguments(c.arguments) };
  });
  const reasoning = r.reasoning.map((p) => (p.type === 'reasoning' ? p.text : '')).join('');
  const signed = r.reasoning.some((p) => p.type === 'redacted_reasoning' || p.signature);
  const blocks = signed ? r.reasoning.map((p) => (p.type === 'redacted_reasoning' ? { redacted: p.data } : { text: p.text, ...(p.signature ? { signature: p.signature } : {}) })) : undefined;
  return { type: 'assistant', text: r.text, ...(reasoning ? { reasoning } : {}), tool_calls: calls, ...(blocks ? { reasoning_blocks: blocks } : {}) } as NewEvent;
}
