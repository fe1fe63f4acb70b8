// The request body on the wire, built incrementally. A long rollout sends the whole conversation on
// every turn; converting and serializing all of it each time would make each step cost O(length of
// the conversation). Instead each IR message is converted (by the gateway's own codec, one message at
// a time) and serialized once, its JSON cached on the message object, and a request is the cached
// pieces joined into the envelope. The result is the same JSON the codec would build for the whole
// request (test/harnesses/outlast-wire.test.ts checks it for all three protocols).
import type { Protocol } from '../../core/types.js';
import type { IRMessage, IRRequest } from '../../gateway/ir.js';
import { CODECS } from '../../gateway/protocols/index.js';

/** Stands in for the messages in the serialized envelope (random, so no content can contain it). */
const HOLE = `"@outlast-messages-${Math.random().toString(36).slice(2)}@"`;

interface Piece {
  /** Anthropic: the role the message is sent as (tool results go as user). */
  role?: string;
  /** JSON of the message's wire elements: Chat messages, Responses input items, Anthropic content blocks. */
  parts: string[];
}

export class WireBuilder {
  private readonly cache = new WeakMap<IRMessage, Piece>();
  constructor(private readonly protocol: Protocol) {}

  /** The JSON body of a request whose first message is the system prompt (the only system message). */
  body(model: string, req: Omit<IRRequest, 'model' | 'messages' | 'stream'>, messages: IRMessage[]): string {
    const codec = CODECS[this.protocol];
    // Chat keeps the system prompt among its messages; the others hoist it into the envelope.
    const first = messages[0];
    const lead = this.protocol !== 'openai-chat' && first && first.role === 'system' ? [first] : [];
    const convo = lead.length ? messages.slice(1) : messages;
    const env: Record<string, unknown> = { model, ...codec.buildRequest({ ...req, model, messages: lead, stream: true }, this.protocol) };
    const key = this.protocol === 'openai-responses' ? 'input' : 'messages';
    if (this.protocol === 'anthropic') markEnvelopeCache(env);
    env[key] = HOLE.slice(1, -1);
    const json = JSON.stringify(env);
    const at = json.indexOf(HOLE);
    return json.slice(0, at) + this.messagesJson(convo) + json.slice(at + HOLE.length);
  }

  private piece(m: IRMessage): Piece {
    let p = this.cache.get(m);
    if (p) return p;
    const b = CODECS[this.protocol].buildRequest({ model: '', messages: [m], tools: [], stream: true }, this.protocol);
    if (this.protocol === 'openai-chat') p = { parts: (b.messages as unknown[]).map((x) => JSON.stringify(x)) };
    else if (this.protocol === 'openai-responses') p = { parts: (b.input as unknown[]).map((x) => JSON.stringify(x)) };
    else {
      const msg = (b.messages as { role: string; content: unknown[] }[])[0];
      p = msg ? { role: msg.role, parts: msg.content.map((x) => JSON.stringify(x)) } : { parts: [] };
    }
    this.cache.set(m, p);
    return p;
  }

  private messagesJson(messages: IRMessage[]): string {
    if (this.protocol !== 'anthropic') {
      const parts: string[] = [];
      for (const m of messages) for (const s of this.piece(m).parts) parts.push(s);
      return `[${parts.join(',')}]`;
    }
    // Anthropic: consecutive messages of one role merge into one message (tool results + a nudge...).
    const out: { role: string; blocks: string[] }[] = [];
    for (const m of messages) {
      const p = this.piece(m);
      if (!p.parts.length || !p.role) continue;
      const last = out[out.length - 1];
      if (last && last.role === p.role) last.blocks.push(...p.parts);
      else out.push({ role: p.role, blocks: [...p.parts] });
    }
    // Cache breakpoint on the newest block, so the next request reads everything before it from cache.
    const last = out[out.length - 1];
    if (last) {
      const i = last.blocks.length - 1;
      last.blocks[i] = JSON.stringify({ ...(JSON.parse(last.blocks[i]!) as object), cache_control: { type: 'ephemeral' } });
    }
    return `[${out.map((m) => `{"role":${JSON.stringify(m.role)},"content":[${m.blocks.join(',')}]}`).join(',')}]`;
  }
}

/** Anthropic caches only up to explicit breakpoints: the system prompt and the tool list (the newest block gets one too). */
function markEnvelopeCache(body: Record<string, unknown>): void {
  const cc = { type: 'ephemeral' };
  if (typeof body.system === 'string') body.system = [{ type: 'text', text: body.system, cache_control: cc }];
  const tools = body.tools as Record<string, unknown>[] | undefined;
  if (tools?.length) tools[tools.length - 1] = { ...tools[tools.length - 1], cache_control: cc };
}
