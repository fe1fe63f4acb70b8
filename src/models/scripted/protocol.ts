// What every protocol module provides, and the protocol-neutral reply it renders.
import type { Protocol, Usage } from '../../core/types.js';
import { countTokens } from './tokens.js';
import type { NormalizedMessage, NormalizedTool, ScriptedTurn } from './types.js';

/** One server-sent event. `data` is JSON-encoded unless it is a string (e.g. `[DONE]`). */
export interface SseEvent {
  event?: string;
  data: unknown;
  /** Output tokens this event carries (0 for structural events). */
  tokens: number;
  /** Preamble event, sent before time to first token. */
  head?: boolean;
}

export interface ReplyToolCall {
  /** The id from the script, or undefined (the protocol then generates one). */
  id?: string;
  name: string;
  /** The arguments as a JSON string (`{"input": ...}` for a custom tool call). */
  arguments: string;
  /** A custom tool call's free-form input (Responses renders a `custom_tool_call`). */
  input?: string;
}

/** A turn ready to render: what to say and the usage to report. */
export interface Reply {
  /** Index of the turn in the script (used in generated ids). */
  turn: number;
  /** Request number on this server (used in response ids). */
  seq: number;
  model: string;
  text: string;
  reasoning: string;
  toolCalls: ReplyToolCall[];
  usage: Usage;
  created: number;
}

export interface ProtocolHandler {
  protocol: Protocol;
  /** null when the body is acceptable, else the message of a 400 invalid-request error. */
  /** Checks the list's elements from index `from` on (those before were checked in an earlier request). */
  validate(body: any, from?: number): string | null;
  normalize(body: any): { messages: NormalizedMessage[]; tools: NormalizedTool[] };
  /** When messages normalise element by element (conversation.ts): one list element, the messages before the list (a system prompt), and the tools. */
  normalizeItem?(m: any): NormalizedMessage[];
  normalizeHead?(body: any): NormalizedMessage[];
  normalizeTools?(body: any): NormalizedTool[];
  isStream(body: any): boolean;
  /** Whether the prompt asks for cache writes (Anthropic `cache_control`); others never write. */
  cacheWrites(body: any): boolean;
  /** The protocol's error body for an HTTP status. */
  errorBody(status: number, message: string): unknown;
  /** The non-streaming response body. */
  complete(r: Reply, body: any): unknown;
  /** The streaming response, as SSE events. */
  events(r: Reply, body: any): SseEvent[];
}

/** Output tokens of a turn: reasoning + text + tool names and argument JSON (at least 1). */
export function outputTokens(turn: Pick<Reply, 'text' | 'reasoning' | 'toolCalls'>): { output: number; reasoning: number } {
  const reasoning = countTokens(turn.reasoning);
  let output = reasoning + countTokens(turn.text);
  for (const c of turn.toolCalls) output += countTokens(c.name) + countTokens(c.arguments);
  return { output: Math.max(1, output), reasoning };
}

export function toReplyCalls(turn: ScriptedTurn): ReplyToolCall[] {
  return (turn.tool_calls ?? []).map((c) =>
    c.input !== undefined ? { id: c.id, name: c.name, arguments: JSON.stringify({ input: c.input }), input: c.input } : { id: c.id, name: c.name, arguments: JSON.stringify(c.arguments ?? {}) },
  );
}

/** Parse tool-call arguments JSON, keeping the raw string when it does not parse. */
export function parseArgs(s: unknown): unknown {
  if (typeof s !== 'string') return s ?? {};
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** Plain text of OpenAI/Anthropic content: a string, or an array of parts with `text`. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content == null ? '' : JSON.stringify(content);
  const out: string[] = [];
  for (const p of content) {
    if (typeof p === 'string') out.push(p);
    else if (p && typeof p === 'object') {
      const o = p as Record<string, unknown>;
      if (typeof o.text === 'string') out.push(o.text);
      else if (typeof o.refusal === 'string') out.push(o.refusal);
      else if (typeof o.type === 'string') out.push(`[${o.type}]`);
    }
  }
  return out.join('\n');
}

export { memo } from './memo.js';

export function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
