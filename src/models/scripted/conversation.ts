// The conversation a request shows the model: its normalised messages and the size of its prompt,
// derived in proportion to what is new. For a protocol whose messages normalise element by element
// (Chat, Anthropic), what was derived from the previous body of the same conversation (body.ts) is
// extended by the new elements only; otherwise (Responses, or no previous body) it is derived whole.
import type { ReadBody } from './body.js';
import type { ProtocolHandler } from './protocol.js';
import { linePoints, promptTokensOf } from './tokens.js';
import type { NormalizedMessage, NormalizedTool } from './types.js';

/** What is kept per body: the list's messages, flat, with where each element's end and the running sum of their prompt lines' code points. */
interface Derived {
  flat: NormalizedMessage[];
  /** flat.length after each element. */
  ends: number[];
  /** Code points of flat[0..i]'s prompt lines. */
  points: number[];
}

export interface Conversation {
  messages: NormalizedMessage[];
  tools: NormalizedTool[];
  /** Input tokens of the prompt (promptTokens(messages, tools)), when derived here. */
  tokens: number | null;
}

export function conversation(handler: ProtocolHandler, read: ReadBody, list: unknown[] | undefined): Conversation {
  const item = handler.normalizeItem;
  if (!item || !handler.normalizeHead || !Array.isArray(list)) return { ...handler.normalize(read.body), tokens: null };
  const prior = read.prior as Derived | undefined;
  const reused = prior && read.reused <= prior.ends.length ? read.reused : 0;
  const base = reused ? prior!.ends[reused - 1]! : 0;
  const d: Derived = reused ? { flat: prior!.flat.slice(0, base), ends: prior!.ends.slice(0, reused), points: prior!.points.slice(0, base) } : { flat: [], ends: [], points: [] };
  for (let i = reused; i < list.length; i++) {
    for (const m of item(list[i])) {
      d.points.push((d.points[d.points.length - 1] ?? 0) + linePoints(m));
      d.flat.push(m);
    }
    d.ends.push(d.flat.length);
  }
  read.keep(d);
  const head = handler.normalizeHead(read.body);
  const tools = handler.normalizeTools!(read.body);
  const messages = head.length ? [...head, ...d.flat] : d.flat.slice();
  let points = d.points[d.points.length - 1] ?? 0;
  for (const m of head) points += linePoints(m);
  return { messages, tools, tokens: promptTokensOf(points, tools, messages.length) };
}
