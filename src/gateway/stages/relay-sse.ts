// Stage 7 for a streaming call: pass the upstream's events to the client as they arrive (converted
// through the IR when the protocols differ, byte-for-byte per event otherwise), each scrubbed of
// keys, metering as they pass and re-arming the no-progress deadline only on content. A stream cut,
// malformed, or stopped by a deadline ends with an error event in the client's protocol.
import type http from 'node:http';
import type { Readable } from 'node:stream';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { IRPart, IRStreamEvent } from '../ir.js';
import type { StreamDecoder, StreamEncoder } from '../protocols/index.js';
import { CLIENT_GONE, cutShort, endResponse, type RelayParts } from './relay-json.js';
import type { CallOutcome } from './record.js';

function rawSse(event: string | undefined, data: string): string {
  let s = event ? `event: ${event}\n` : '';
  if (data.includes('\n')) for (const line of data.split('\n')) s += `data: ${line}\n`;
  else s += `data: ${data}\n`;
  return s + '\n';
}

/** Resolves when the response can take more data (or is closed). */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Collects an Anthropic answer's signed reasoning as it streams, for a client protocol that cannot carry signatures. */
class ReasoningMemo {
  private parts: { text: string; signature?: string }[] = [];
  private redacted: string[] = [];
  private firstToolId: string | null = null;

  see(ev: IRStreamEvent): void {
    const last = this.parts[this.parts.length - 1];
    if (ev.type === 'reasoning') {
      if (!last || last.signature !== undefined) this.parts.push({ text: ev.text });
      else last.text += ev.text;
    } else if (ev.type === 'reasoning_signature') {
      if (last && last.signature === undefined) last.signature = ev.signature;
      else this.parts.push({ text: '', signature: ev.signature });
    } else if (ev.type === 'redacted_reasoning') this.redacted.push(ev.data);
    else if (ev.type === 'tool_call_start' && this.firstToolId === null) this.firstToolId = ev.id;
  }

  content(): IRPart[] | null {
    if (!this.parts.length && !this.redacted.length) return null;
    return [
      ...this.parts.map((p) => ({ type: 'reasoning' as const, text: p.text, ...(p.signature ? { signature: p.signature } : {}) })),
      ...this.redacted.map((data) => ({ type: 'redacted_reasoning' as const, data })),
      ...(this.firstToolId ? [{ type: 'tool_call' as const, id: this.firstToolId, name: '', arguments: '' }] : []),
    ];
  }
}

const isContent = (ev: IRStreamEvent) => ev.type === 'text' || ev.type === 'reasoning' || ev.type === 'tool_call_start' || ev.type === 'tool_call_args' || ev.type === 'finish';

class SseRelay {
  out = '';
  sawFinish = false;
  failure: string | null = null;
  upstreamError: string | null = null;
  private readonly decoder: StreamDecoder;
  private readonly encoder: StreamEncoder | null;
  private readonly dropUsageChunk: boolean;
  readonly memo: ReasoningMemo | null;

  constructor(private readonly p: RelayParts) {
    const { call, client } = p;
    this.decoder = p.upstream.createDecoder();
    this.encoder = call.same ? null : client.createEncoder(call.ir);
    this.dropUsageChunk = call.same && call.ep.protocol === 'openai-chat' && !call.ir.include_usage;
    this.memo = !call.same && client.protocol !== 'anthropic' ? new ReasoningMemo() : null;
  }

  get done(): boolean {
    return this.decoder.done;
  }

  onEvent(msg: EventSourceMessage): void {
    if (this.failure || msg.data.trim() === '') return;
    let evs: IRStreamEvent[];
    try {
      evs = this.decoder.push(msg.event, msg.data);
    } catch (e) {
      this.failure = `upstream sent a malformed stream event (${(e as Error).message.slice(0, 120)})`;
      return;
    }
    const now = performance.now();
    // A chunk carrying nothing but usage (the include_usage chunk the client did not ask for) is dropped.
    let onlyUsage = false;
    let content = false;
    for (const ev of evs) {
      this.p.meter.observe(ev, now);
      if (ev.type === 'usage') onlyUsage = true;
      else if (ev.type === 'finish') this.sawFinish = true;
      else if (ev.type === 'error') this.upstreamError = ev.message;
      if (isContent(ev)) content = true;
      this.memo?.see(ev);
      if (this.encoder) this.out += this.p.scrubber.scrub(this.encoder.push(ev));
    }
    if (onlyUsage) onlyUsage = evs.every((e) => e.type === 'usage' || e.type === 'start');
    if (content) this.p.deadline.progress();
    if (!this.encoder && !(this.dropUsageChunk && onlyUsage)) this.out += rawSse(msg.event && this.p.scrubber.scrub(msg.event), this.p.scrubber.scrub(msg.data));
  }

  /** The closing text: the encoder's end, or the error event that says why the stream stopped. */
  closing(): { text: string; outcome: CallOutcome } {
    const { client } = this.p;
    if (this.failure === null && !this.decoder.done && !this.sawFinish && this.upstreamError === null) this.failure = 'upstream stream ended before its end marker (cut after the first byte)';
    if (this.failure) {
      const f = cutShort(this.p.deadline, this.failure);
      return { text: client.streamError(f.status === 504 ? 'timeout' : 'upstream', `outlast gateway: ${f.message}`), outcome: { status: f.status, error: { message: f.message, infra: true, kind: f.kind } } };
    }
    const text = this.encoder ? this.p.scrubber.scrub(this.encoder.end()) : '';
    if (this.upstreamError) return { text, outcome: { status: 502, error: { message: this.p.scrubber.scrub(`upstream stream error: ${this.upstreamError}`), infra: true, kind: 'unavailable' } } };
    return { text, outcome: { status: 200 } };
  }
}

/** The most bytes an upstream may send without completing an event (a line that never ends). */
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;

export async function relaySse(p: RelayParts, body: Readable): Promise<CallOutcome> {
  const { res } = p;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-outlast-call-id': p.callId });
  res.flushHeaders();
  p.deadline.progress();
  const relay = new SseRelay(p);
  let pending = 0;
  const parser = createParser({
    onEvent: (m) => {
      pending = 0;
      relay.onEvent(m);
    },
    onComment: () => void (pending = 0),
  });
  const td = new TextDecoder();
  let sent = '';
  try {
    for await (const chunk of body) {
      pending += (chunk as Uint8Array).length;
      if (pending > MAX_EVENT_BYTES) {
        relay.failure = `upstream sent more than ${MAX_EVENT_BYTES} bytes without completing an event`;
        break;
      }
      parser.feed(td.decode(chunk as Uint8Array, { stream: true }));
      if (relay.out) {
        const s = relay.out;
        relay.out = '';
        if (p.keep) sent += s;
        if (!res.write(s) && p.deadline.stopped !== 'client_gone') await drained(res);
      }
      if (relay.failure || p.deadline.stopped) break;
    }
  } catch (e) {
    if (p.deadline.stopped !== 'client_gone' && !relay.failure) relay.failure = `upstream stream cut after the first byte (${(e as Error).message})`;
  }
  if (relay.failure || p.deadline.stopped) body.destroy();
  const memo = relay.memo?.content();
  if (memo) p.ro.rememberReasoning(memo);
  if (p.deadline.stopped === 'client_gone') return CLIENT_GONE;
  if (p.deadline.stopped && !relay.failure) relay.failure = 'stopped';
  const { text, outcome } = relay.closing();
  const tail = relay.out + text;
  p.keep?.(sent + tail);
  return (await endResponse(res, tail)) ? outcome : CLIENT_GONE;
}
