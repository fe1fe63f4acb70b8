// The request body on the wire, built incrementally. A long rollout sends the whole conversation on
// every turn; converting and serializing all of it each time would make each step cost O(length of
// the conversation). Instead each IR message is converted (by the gateway's own codec, one message at
// a time) and serialized once, into one growing buffer of the conversation's bytes: a request that
// extends the previous one (the same message objects, then new ones) appends only the new messages'
// bytes; any other (after a compaction, a resume) rebuilds it. (No per-message cache beside the
// buffer: a weak map keyed by every message of a long conversation makes each garbage collection of
// the process slower in proportion.) The body is the envelope
// (model, tools, limits) around those bytes, handed out as pieces (nothing of the conversation is
// copied to send it; client.ts streams them). The result is the same JSON the codec would build for
// the whole request (test/harnesses/outlast-wire.test.ts checks it for all three protocols).
// Anthropic merges consecutive messages of one role into one wire message and marks the newest block
// as a cache breakpoint, so its last wire message is kept open (re-rendered per request) and only the
// ones before it are in the buffer.
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

/** Bytes appended at the end, in a buffer that doubles when full. */
class GrowingBuffer {
  private buf = Buffer.allocUnsafe(64 * 1024);
  length = 0;

  append(s: string): void {
    const n = Buffer.byteLength(s);
    if (this.length + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    this.length += this.buf.write(s, this.length);
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** The conversation so far as wire bytes: the messages it covers, and (Anthropic) the open last wire message. */
interface Serialized {
  messages: IRMessage[];
  bytes: GrowingBuffer;
  /** Anthropic: the last wire message, still open to more blocks of its role. */
  open: { role: string; blocks: string[] } | null;
  /** The array the messages were last taken from, how many of it (after `from`) are in. */
  source: readonly IRMessage[] | null;
  count: number;
  from: number;
}

export class WireBuilder {
  private convo: Serialized = { messages: [], bytes: new GrowingBuffer(), open: null, source: null, count: 0, from: 0 };
  private envelope: { key: unknown[]; pre: Buffer; post: Buffer } | null = null;
  constructor(private readonly protocol: Protocol) {}

  /**
   * The JSON body of a request whose first message is the system prompt (the only system message), as
   * pieces to send one after another. They stay valid until the next call.
   */
  body(model: string, req: Omit<IRRequest, 'model' | 'messages' | 'stream'>, messages: readonly IRMessage[]): Buffer[] {
    // Chat keeps the system prompt among its messages; the others hoist it into the envelope.
    const first = messages[0];
    const lead = this.protocol !== 'openai-chat' && first && first.role === 'system' ? first : null;
    const env = this.envelopeFor(model, req, lead);
    this.extend(messages, lead ? 1 : 0);
    const open = this.convo.open ? this.openJson(this.convo.open) : '';
    const sep = open && this.convo.bytes.length ? ',' : '';
    return [env.pre, OPEN, this.convo.bytes.bytes(), Buffer.from(sep + open), CLOSE, env.post];
  }

  /** The envelope around the messages, kept while model, settings and the hoisted system prompt stay the same. */
  private envelopeFor(model: string, req: Omit<IRRequest, 'model' | 'messages' | 'stream'>, lead: IRMessage | null): { pre: Buffer; post: Buffer } {
    const key: unknown[] = [model, lead, ...Object.keys(req), ...Object.values(req)];
    const e = this.envelope;
    if (e && e.key.length === key.length && e.key.every((k, i) => k === key[i])) return e;
    const env: Record<string, unknown> = { model, ...CODECS[this.protocol].buildRequest({ ...req, model, messages: lead ? [lead] : [], stream: true }, this.protocol) };
    if (this.protocol === 'anthropic') markEnvelopeCache(env);
    env[this.protocol === 'openai-responses' ? 'input' : 'messages'] = HOLE.slice(1, -1);
    const json = JSON.stringify(env);
    const at = json.indexOf(HOLE);
    this.envelope = { key, pre: Buffer.from(json.slice(0, at)), post: Buffer.from(json.slice(at + HOLE.length)) };
    return this.envelope;
  }

  /**
   * Bring the serialized conversation to `messages` (from index `from`): append when it extends it,
   * else rebuild. The same array as last time, longer, extends it without a look at its elements
   * (ConversationState.messages() only ever appends to the array it hands out).
   */
  private extend(messages: readonly IRMessage[], from: number): void {
    const c = this.convo;
    const n = messages.length - from;
    if (!(messages === c.source && n >= c.count && from === c.from) && !this.isExtension(messages, from)) this.convo = { messages: [], bytes: new GrowingBuffer(), open: null, source: null, count: 0, from };
    const d = this.convo;
    for (let i = d.count; i < n; i++) {
      const m = messages[from + i]!;
      d.messages.push(m);
      this.add(this.piece(m));
    }
    Object.assign(d, { source: messages, count: n, from });
  }

  /** Whether `messages` (from `from`) starts with the messages already serialized, the same objects. */
  private isExtension(messages: readonly IRMessage[], from: number): boolean {
    const had = this.convo.messages;
    if (had.length > messages.length - from) return false;
    for (let i = 0; i < had.length; i++) if (had[i] !== messages[from + i]) return false;
    return true;
  }

  private add(p: Piece): void {
    const c = this.convo;
    if (this.protocol !== 'anthropic') {
      for (const s of p.parts) c.bytes.append(c.bytes.length ? `,${s}` : s);
      return;
    }
    // Anthropic: consecutive messages of one role merge into one message (tool results + a nudge...).
    if (!p.parts.length || !p.role) return;
    if (c.open && c.open.role === p.role) {
      c.open.blocks.push(...p.parts);
      return;
    }
    if (c.open) c.bytes.append((c.bytes.length ? ',' : '') + wireMessage(c.open.role, c.open.blocks));
    c.open = { role: p.role, blocks: [...p.parts] };
  }

  /** The open (last) Anthropic message, with a cache breakpoint on its newest block, so the next request reads everything before it from cache. */
  private openJson(open: { role: string; blocks: string[] }): string {
    const blocks = [...open.blocks];
    const i = blocks.length - 1;
    blocks[i] = JSON.stringify({ ...(JSON.parse(blocks[i]!) as object), cache_control: { type: 'ephemeral' } });
    return wireMessage(open.role, blocks);
  }

  private piece(m: IRMessage): Piece {
    const b = CODECS[this.protocol].buildRequest({ model: '', messages: [m], tools: [], stream: true }, this.protocol);
    if (this.protocol === 'openai-chat') return { parts: (b.messages as unknown[]).map((x) => JSON.stringify(x)) };
    if (this.protocol === 'openai-responses') return { parts: (b.input as unknown[]).map((x) => JSON.stringify(x)) };
    const msg = (b.messages as { role: string; content: unknown[] }[])[0];
    return msg ? { role: msg.role, parts: msg.content.map((x) => JSON.stringify(x)) } : { parts: [] };
  }
}

const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

function wireMessage(role: string, blocks: string[]): string {
  return `{"role":${JSON.stringify(role)},"content":[${blocks.join(',')}]}`;
}

/** Anthropic caches only up to explicit breakpoints: the system prompt and the tool list (the newest block gets one too). */
function markEnvelopeCache(body: Record<string, unknown>): void {
  const cc = { type: 'ephemeral' };
  if (typeof body.system === 'string') body.system = [{ type: 'text', text: body.system, cache_control: cc }];
  const tools = body.tools as Record<string, unknown>[] | undefined;
  if (tools?.length) tools[tools.length - 1] = { ...tools[tools.length - 1], cache_control: cc };
}
