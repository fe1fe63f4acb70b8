// The same-protocol fast path, doing work in proportion to what is new in a request rather than to
// the whole conversation it repeats. Parse: the body is scanned (src/core/json-prefix.ts) from the end
// of the prefix it shares with the rollout's previous requests; the top-level members are parsed
// (model, stream, limits, tools...) and, of the list, only the new elements; those members and new
// elements go through the client codec's checks, which judge each list element on its own (so the
// prefix, checked when it was new, need not be checked again). Build: the upstream body is the
// client's bytes with the members the gateway sets (`model`, Chat's stream_options, extra_params,
// the output limit) spliced in. Whenever anything is unexpected the caller takes the exact path
// (JSON.parse of the whole body, the codec over all of it), which then gives the precise error.
import { type BodyScan, freshElements, lastElement } from '../core/json-prefix.js';
import type { Protocol } from '../core/types.js';
import type { IRRequest } from './ir.js';
import type { PrefixCache } from './prefix-cache.js';
import type { Codec } from './protocols/index.js';

/** The list member a protocol's conversation is in. */
export function listKeyOf(protocol: Protocol): string {
  return protocol === 'openai-responses' ? 'input' : 'messages';
}

/** What the fast path found; `ir` holds the top-level fields and only the new part of the conversation. */
export interface Scanned {
  scan: BodyScan;
  model: string;
  counts: { messages: number; tools: number };
}

/** The body scanned and its `model` read, or null (the exact path decides). */
export function scanRequest(raw: Buffer, client: Codec, cache: PrefixCache): Scanned | null {
  const scan = cache.scan(raw, listKeyOf(client.protocol));
  if (!scan) return null;
  const model = scan.values.get('model');
  if (typeof model !== 'string' || !model) return null;
  return { scan, model, counts: countsOf((k) => scan.values.get(k), client.protocol, scan.list?.count) };
}

/** Items in the body's list (a string `input` is one; `listCount` when the list was counted as scanned) and tools in its `tools` array. */
export function countsOf(get: (key: string) => unknown, protocol: Protocol, listCount?: number): { messages: number; tools: number } {
  const list = get(listKeyOf(protocol));
  const tools = get('tools');
  const messages = listCount ?? (Array.isArray(list) ? list.length : typeof list === 'string' ? 1 : 0);
  return { messages, tools: Array.isArray(tools) ? tools.length : 0 };
}

/**
 * The codec's checks over the top-level members and the new elements (the last element when none is
 * new, since a list must not be empty); null when they refuse (the exact path then says why) or the
 * new bytes do not parse. The scan is remembered for the next request once it passed.
 */
export function validateScanned(s: Scanned, client: Codec, cache: PrefixCache): IRRequest | null {
  let ir: IRRequest;
  try {
    const elements = freshElements(s.scan);
    const partial: Record<string, unknown> = {};
    for (const m of s.scan.members) partial[m.key] = s.scan.list && m.key === s.scan.list.key ? (elements.length || !s.scan.list.count ? elements : [lastElement(s.scan)]) : s.scan.values.get(m.key);
    ir = client.parseRequest(partial, { target: client.protocol });
  } catch {
    return null;
  }
  cache.remember(s.scan);
  return ir;
}

/**
 * The client's body spliced: each member named in `set` gets its new value in place (dropped when
 * undefined), the others keep the client's bytes, and new members follow in `set`'s order. The
 * result is pieces, views of the client's bytes among them, to send one after another.
 */
export function splice(scan: BodyScan, set: ReadonlyMap<string, unknown>): Buffer[] {
  const pieces: Buffer[] = [Buffer.from('{')];
  const member = (key: string, value: unknown) => Buffer.from(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
  const push = (b: Buffer) => {
    if (pieces.length > 1) pieces.push(COMMA);
    pieces.push(b);
  };
  const present = new Set<string>();
  for (const m of scan.members) {
    present.add(m.key);
    if (!set.has(m.key)) push(scan.raw.subarray(m.start, m.end));
    else if (set.get(m.key) !== undefined) push(member(m.key, set.get(m.key)));
  }
  for (const [k, v] of set) if (!present.has(k) && v !== undefined) push(member(k, v));
  pieces.push(Buffer.from('}'));
  return pieces;
}

const COMMA = Buffer.from(',');
