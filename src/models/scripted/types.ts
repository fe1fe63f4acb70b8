// Types of the scripted model server: a test double that speaks the real OpenAI Chat Completions,
// OpenAI Responses and Anthropic Messages wire protocols, with replies taken from a script.
import type { Protocol, Usage } from '../../core/types.js';

export interface ScriptedToolCall {
  name: string;
  /** The call's arguments (exactly one of `arguments` and `input`). */
  arguments?: Record<string, unknown>;
  /**
   * A free-form tool's input (a Responses `custom` tool such as Codex's `apply_patch`): a
   * `custom_tool_call` item in Responses; in Chat and Anthropic a call with arguments `{"input": ...}`,
   * as the gateway offers such a tool there.
   */
  input?: string;
  /** Tool call id; generated (`call_<turn>_<i>`, Anthropic `toolu_<turn>_<i>`) when absent. */
  id?: string;
}

export type Fault =
  /** 429 with Retry-After, `times` consecutive attempts (default 1), then the turn is served normally. */
  | { kind: 'rate_limit'; retry_after_sec?: number; times?: number }
  /** 500 (or the given 5xx) `times` times (default 1), then the turn is served normally. */
  | { kind: 'server_error'; status?: number; times?: number }
  /** Wait `ms` before the first byte (before the response headers). */
  | { kind: 'delay'; ms: number }
  /** Streaming: destroy the socket after N SSE events. Non-streaming: after part of the body. */
  | { kind: 'cut'; after_chunks: number }
  /** Streaming: send a non-JSON data line after N events (default 1), then end. Non-streaming: a non-JSON body. */
  | { kind: 'malformed'; after_chunks?: number }
  /** Never answer (the socket stays open until the client gives up or the server closes). */
  | { kind: 'hang' }
  /** Streaming: after N events (default 1) send only SSE keep-alive comments, every 100 ms, forever. */
  | { kind: 'stall'; after_chunks?: number };

export interface ScriptedTurn {
  text?: string;
  reasoning?: string;
  tool_calls?: ScriptedToolCall[];
  /** Overrides of what the server computes (same meaning as core `Usage`: `input` includes cached and cache-write tokens). */
  usage?: Partial<Usage>;
  fault?: Fault;
  ttft_ms?: number;
  tokens_per_sec?: number;
}

/** A tool call in a normalized conversation. `arguments` is parsed JSON when it parses, else the raw string (a custom tool call's input). */
export interface NormalizedToolCall {
  id: string;
  name: string;
  arguments: unknown;
}

/**
 * One message of a conversation, the same shape whichever protocol it arrived in.
 * - `system`: system prompt / developer message / Responses `instructions`
 * - `assistant`: `text`, optional `reasoning` and `tool_calls`
 * - `tool`: one tool result (`tool_call_id`, `text`; `is_error` when the client marked it so)
 */
export interface NormalizedMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  text: string;
  reasoning?: string;
  tool_calls?: NormalizedToolCall[];
  tool_call_id?: string;
  is_error?: boolean;
}

/** A tool definition, the same shape whichever protocol it arrived in. */
export interface NormalizedTool {
  name: string;
  description?: string;
  parameters?: unknown;
  /** A Responses `custom` (free-form) tool: call it with `input` (a string), not `arguments`. */
  custom?: true;
}

export interface PolicyRequest {
  protocol: Protocol;
  /** The parsed request body as the client sent it. */
  body: any;
  messages: NormalizedMessage[];
  /** Number of turns served before this request (0 for the first). */
  turnIndex: number;
  /** Tool definitions offered by the client (extension of the contract). */
  tools: NormalizedTool[];
  /** The `model` field of the request (extension of the contract). */
  model: string;
}

export type Policy = (req: PolicyRequest) => ScriptedTurn | Promise<ScriptedTurn>;

export interface ScriptedModelOptions {
  script: ScriptedTurn[] | Policy;
  /** Time to first token in ms (default 0). */
  ttft_ms?: number;
  /** Output tokens per second (default 0 = no pacing, as fast as possible). */
  tokens_per_sec?: number;
  /** Port on 127.0.0.1 (default 0 = pick a free one). */
  port?: number;
  /** When the script runs out: repeat from the start (true) or answer "script exhausted" (false, default). */
  loop?: boolean;
  /** Report cached input tokens for the longest prompt prefix seen before (default true). */
  cache?: boolean;
  /** When set, require it (Authorization: Bearer / x-api-key); 401 otherwise, in the protocol's error shape. */
  api_key?: string;
  /**
   * How many of the latest requests `requests` keeps (default 1000: older ones are dropped in
   * batches, so it holds up to an eighth more; `requestsSeen` counts them all), and how many of the
   * latest keep their body (default 32; older ones keep its size in `body_bytes` only). Bounded so a
   * 10,000-step run with its whole history in every request does not keep gigabytes of bodies.
   */
  keep_requests?: number;
  keep_bodies?: number;
  /** Where busyMs is kept (element 0): a SharedArrayBuffer's view lets another thread read it (thread.ts). */
  busy?: Float64Array;
  /** Keep every request in `requests` (default true; a long benchmark turns it off). */
  record_requests?: boolean;
  /** Append every POST request (its parsed body, path, query and headers with credentials redacted) to this file as one JSON line (record.ts). */
  record_file?: string;
}

export interface RecordedRequest {
  protocol: Protocol;
  path: string;
  /** Request headers, names lower-cased, as received (keys not redacted: this is a test double). */
  headers: Record<string, string>;
  /** Parsed JSON body (the raw text when it did not parse; undefined for GET, and once dropped: see `keep_bodies`). */
  body: unknown;
  /** Bytes of the request body as received (0 for GET). */
  body_bytes: number;
  /** True when the body was dropped to bound memory (the request is older than the latest `keep_bodies`). */
  body_dropped?: true;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface ScriptedModel {
  /** http://127.0.0.1:PORT (no /v1). */
  url: string;
  port: number;
  /** The latest requests (at most `keep_requests`), oldest first; only the latest `keep_bodies` carry their body. */
  requests: RecordedRequest[];
  /** Requests received so far, including those no longer in `requests`. */
  requestsSeen: number;
  /** Turns served so far (requests that got a retryable fault with attempts left do not count). */
  turnsServed: number;
  /**
   * Milliseconds this server has spent on requests, each from its arrival (headers in) to its answer
   * written: reading the body, parsing, the policy, rendering, any pacing or fault delay. The model's
   * own time, which benchmarks subtract from a step (requests in parallel each count).
   */
  busyMs: number;
  close(): Promise<void>;
}
