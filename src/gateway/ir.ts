// The gateway's canonical intermediate representation (IR) of a model call. Every protocol module
// converts its requests, responses and stream events to and from these shapes, so any client
// protocol works with any upstream protocol through 3 modules instead of 9 direction pairs.
// Pure data and helpers: no I/O.
import type { Protocol, Usage } from '../core/types.js';

/** A part of a message's content. */
export type IRPart =
  | { type: 'text'; text: string }
  /** An image, as a URL (http(s) or data:) or base64 data with its media type; `detail`: OpenAI's low/high/auto. */
  | { type: 'image'; url?: string; media_type?: string; data?: string; detail?: string }
  /** Reasoning ("thinking") text; `signature` is Anthropic's, needed when the turn is sent back. */
  | { type: 'reasoning'; text: string; signature?: string }
  /** Anthropic `redacted_thinking`: opaque data that only an Anthropic upstream can read. */
  | { type: 'redacted_reasoning'; data: string }
  /** A tool call; `arguments` is the JSON text as the model produced it. */
  | { type: 'tool_call'; id: string; name: string; arguments: string };

export type IRMessage =
  /** `text` is the whole prompt; `blocks` its separate text blocks / parts when the client sent several (`text` = them joined with "\n"). */
  | { role: 'system'; text: string; blocks?: string[] }
  | { role: 'user'; content: IRPart[] }
  | { role: 'assistant'; content: IRPart[] }
  /**
   * A tool result. `content` is its text (text parts joined with "\n"); `parts` holds the parts (text and
   * images) when the client sent more than one or any image. `is_error`: the tool failed.
   */
  | { role: 'tool'; tool_call_id: string; content: string; is_error?: boolean; parts?: IRPart[] };

export interface IRTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: unknown;
  strict?: boolean;
  /**
   * A Responses `custom` (free-form) tool, offered to other protocols as a function tool with one
   * string parameter `input`; calls to it go back to a Responses client as `custom_tool_call` items.
   */
  custom?: boolean;
  /**
   * A Responses client's `namespace` the tool belongs to. Offered to other protocols under the flat
   * name `<namespace>__<tool>` (`name` holds it); calls to it go back with `name` = the tool and
   * `namespace` set.
   */
  namespace?: string;
  /**
   * A Responses client's own `tool_search` (execution "client"), offered to other protocols as a
   * function tool `tool_search`; calls to it go back as `tool_search_call` items.
   */
  tool_search?: boolean;
}

/** The one parameter of a custom tool when offered as a function tool. */
export const CUSTOM_TOOL_PARAM = 'input';

export type IRToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; name: string };

export interface IRRequest {
  /** The model name the client asked for (a configured endpoint name). */
  model: string;
  /** Messages in order; system messages may appear anywhere (protocols that need them first hoist them). */
  messages: IRMessage[];
  tools: IRTool[];
  tool_choice?: IRToolChoice;
  parallel_tool_calls?: boolean;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  stream: boolean;
  /** Reasoning settings: an effort level (OpenAI) and/or a token budget (Anthropic). */
  reasoning?: { effort?: 'minimal' | 'low' | 'medium' | 'high'; budget_tokens?: number; enabled?: boolean };
  /** Chat clients: whether the client asked for the usage chunk (`stream_options.include_usage`). */
  include_usage?: boolean;
  /** Opaque end-user id (`user` / `metadata.user_id`). */
  user?: string;
}

export type IRFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'stop_sequence' | 'refusal' | 'pause';

export interface IRResponse {
  id: string;
  /** Model id the upstream reported. */
  model: string;
  content: IRPart[];
  finish_reason: IRFinishReason | null;
  usage: Usage | null;
}

/** One streamed event, protocol-neutral. Tool calls are numbered by `index` in order of appearance. */
export type IRStreamEvent =
  | { type: 'start'; id: string; model: string }
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'reasoning_signature'; signature: string }
  | { type: 'redacted_reasoning'; data: string }
  | { type: 'tool_call_start'; index: number; id: string; name: string }
  | { type: 'tool_call_args'; index: number; arguments: string }
  | { type: 'finish'; reason: IRFinishReason | null }
  /** Usage so far; later events override earlier ones field by field (they are cumulative totals). */
  | { type: 'usage'; usage: Partial<Usage> }
  | { type: 'error'; message: string; status?: number; errorType?: string };

/** A client request the gateway refuses, with the HTTP status and an error type to put in the body. */
export class GatewayError extends Error {
  readonly status: number;
  /** Coarse kind: invalid_request, authentication, permission, not_found, too_large, rate_limit, budget, upstream, overloaded. */
  readonly kind: ErrorKind;
  constructor(status: number, kind: ErrorKind, message: string) {
    super(message);
    this.status = status;
    this.kind = kind;
  }
}

export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'too_large'
  | 'rate_limit'
  | 'budget'
  | 'upstream'
  | 'overloaded'
  | 'timeout';

/** Thrown by converters for input a protocol cannot express: a 400 naming what and why. */
export function untranslatable(what: string, from: Protocol, to: Protocol): GatewayError {
  return new GatewayError(400, 'invalid_request', `cannot translate ${what} from ${from} to ${to} (see docs/gateway.md)`);
}

export function invalid(message: string): GatewayError {
  return new GatewayError(400, 'invalid_request', message);
}

// ---- small shared helpers ----

export function isObj(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function textOf(parts: IRPart[]): string {
  let s = '';
  for (const p of parts) if (p.type === 'text') s += p.text;
  return s;
}

export function toolCallsOf(parts: IRPart[]): Extract<IRPart, { type: 'tool_call' }>[] {
  return parts.filter((p): p is Extract<IRPart, { type: 'tool_call' }> => p.type === 'tool_call');
}

let idCounter = 0;
/** Short unique ids for generated message/item ids. */
export function genId(prefix: string): string {
  idCounter = (idCounter + 1) % 1e9;
  return `${prefix}${Date.now().toString(36)}${idCounter.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** Parse tool-call argument text to an object (Anthropic needs an object); invalid JSON is an error. */
export function parseArgs(args: string, where: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch {
    throw invalid(`${where}: tool call arguments are not valid JSON`);
  }
  if (!isObj(v)) throw invalid(`${where}: tool call arguments must be a JSON object`);
  return v;
}

/** Map an OpenAI-style effort to an Anthropic thinking budget and back. */
export function effortToBudget(effort: string | undefined): number {
  switch (effort) {
    case 'minimal':
      return 1024;
    case 'low':
      return 2048;
    case 'high':
      return 24576;
    default:
      return 8192;
  }
}

export function budgetToEffort(budget: number | undefined): 'low' | 'medium' | 'high' {
  if (budget === undefined) return 'medium';
  if (budget <= 2048) return 'low';
  if (budget <= 8192) return 'medium';
  return 'high';
}

/** Merge partial cumulative usage reports into a full Usage (missing fields 0). */
export function fullUsage(u: Partial<Usage>): Usage {
  return {
    input: u.input ?? 0,
    cached: u.cached ?? 0,
    cache_write: u.cache_write ?? 0,
    output: u.output ?? 0,
    reasoning: u.reasoning ?? 0,
  };
}

/** Default `max_tokens` when translating to Anthropic from a request that set none. */
export const DEFAULT_MAX_TOKENS = 8192;

/** Error message and kind from an upstream error body of any protocol. */
export function upstreamErrorMessage(body: unknown, fallback: string): string {
  if (isObj(body)) {
    const e = body.error;
    if (isObj(e) && typeof e.message === 'string') return e.message;
    if (typeof body.message === 'string') return body.message;
  }
  return fallback;
}
