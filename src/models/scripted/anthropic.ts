// Anthropic Messages: POST /v1/messages (and /v1/messages/count_tokens, answered by the server).
import { createHash } from 'node:crypto';
import { countTokens, tokenPieces } from './tokens.js';
import { contentText, isObject, memo, type ProtocolHandler, type Reply, type SseEvent } from './protocol.js';
import type { NormalizedMessage, NormalizedTool } from './types.js';

export function anthropicErrorBody(status: number, message: string): unknown {
  const type =
    status === 400 ? 'invalid_request_error'
    : status === 401 ? 'authentication_error'
    : status === 403 ? 'permission_error'
    : status === 404 ? 'not_found_error'
    : status === 413 ? 'request_too_large'
    : status === 429 ? 'rate_limit_error'
    : status === 529 ? 'overloaded_error'
    : status >= 500 ? 'api_error'
    : 'invalid_request_error';
  return { type: 'error', error: { type, message } };
}

/** A deterministic stand-in for the opaque signature Anthropic puts on thinking blocks. */
export function thinkingSignature(thinking: string): string {
  return 'scripted-sig-' + createHash('sha256').update(thinking).digest('base64');
}

function toolId(r: Reply, i: number): string {
  return r.toolCalls[i]!.id ?? `toolu_${r.turn}_${i}`;
}

function usageBody(r: Reply) {
  const u = r.usage;
  return {
    input_tokens: Math.max(0, u.input - u.cached - u.cache_write),
    cache_creation_input_tokens: u.cache_write,
    cache_read_input_tokens: u.cached,
    output_tokens: u.output,
  };
}

function stopReason(r: Reply): string {
  return r.toolCalls.length ? 'tool_use' : 'end_turn';
}

function hasCacheControl(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasCacheControl);
  if (!isObject(v)) return false;
  if ('cache_control' in v && v.cache_control) return true;
  return Object.values(v).some((x) => typeof x === 'object' && hasCacheControl(x));
}

/** One Anthropic message, normalised: an assistant turn, or a user turn's tool results (each its own message) then its other content. */
function normalizeTurn(m: any): NormalizedMessage[] {
  const messages: NormalizedMessage[] = [];
  if (m.role === 'system' || typeof m.content === 'string' || !Array.isArray(m.content)) return [{ role: m.role, text: contentText(m.content ?? '') }];
  if (m.role === 'assistant') {
    const msg: NormalizedMessage = { role: 'assistant', text: '' };
    const texts: string[] = [];
    const thoughts: string[] = [];
    for (const b of m.content as any[]) {
      if (b?.type === 'text') texts.push(String(b.text ?? ''));
      else if (b?.type === 'thinking') thoughts.push(String(b.thinking ?? ''));
      else if (b?.type === 'tool_use') (msg.tool_calls ??= []).push({ id: String(b.id ?? ''), name: String(b.name ?? ''), arguments: b.input ?? {} });
    }
    msg.text = texts.join('\n');
    if (thoughts.length) msg.reasoning = thoughts.join('\n');
    return [msg];
  }
  const rest: unknown[] = [];
  for (const b of m.content as any[]) {
    if (b?.type === 'tool_result') {
      const r: NormalizedMessage = { role: 'tool', text: contentText(b.content ?? ''), tool_call_id: String(b.tool_use_id ?? '') };
      if (b.is_error === true) r.is_error = true;
      messages.push(r);
    } else rest.push(b);
  }
  if (rest.length) messages.push({ role: 'user', text: contentText(rest) });
  return messages;
}

/** The system prompt, as the conversation's first message. */
function anthropicHead(body: any): NormalizedMessage[] {
  const system = contentText(body.system ?? '');
  return system ? [{ role: 'system', text: system }] : [];
}

function anthropicTools(body: any): NormalizedTool[] {
  const tools: NormalizedTool[] = [];
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    if (t && typeof t.name === 'string') tools.push({ name: t.name, description: t.description, parameters: t.input_schema });
  }
  return tools;
}

export const anthropic: ProtocolHandler = {
  protocol: 'anthropic',

  validate(body, from = 0) {
    if (!isObject(body)) return 'request body must be a JSON object';
    if (typeof body.model !== 'string' || !body.model) return 'model: Field required';
    if (!Array.isArray(body.messages)) return 'messages: Field required';
    if (body.max_tokens !== undefined && (typeof body.max_tokens !== 'number' || body.max_tokens < 1)) return 'max_tokens: Input should be a positive integer';
    for (let i = from; i < body.messages.length; i++) {
      const m = body.messages[i];
      if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant' && m.role !== 'system')) return `messages.${i}.role: Input should be 'user', 'assistant' or 'system'`;
    }
    return null;
  },

  normalize(body) {
    const messages = anthropicHead(body);
    for (const m of body.messages as any[]) messages.push(...memo(m, normalizeTurn));
    return { messages, tools: anthropicTools(body) };
  },
  normalizeItem: (m) => memo(m, normalizeTurn),
  normalizeHead: (body) => anthropicHead(body),
  normalizeTools: (body) => anthropicTools(body),

  isStream: (body) => body.stream === true,
  cacheWrites: (body) => hasCacheControl(body),
  errorBody: anthropicErrorBody,

  complete(r) {
    const content: unknown[] = [];
    if (r.reasoning) content.push({ type: 'thinking', thinking: r.reasoning, signature: thinkingSignature(r.reasoning) });
    if (r.text || !r.toolCalls.length) content.push({ type: 'text', text: r.text });
    r.toolCalls.forEach((c, i) => content.push({ type: 'tool_use', id: toolId(r, i), name: c.name, input: JSON.parse(c.arguments) }));
    return {
      id: `msg_scripted_${r.seq}`,
      type: 'message',
      role: 'assistant',
      model: r.model,
      content,
      stop_reason: stopReason(r),
      stop_sequence: null,
      usage: usageBody(r),
    };
  },

  events(r) {
    const out: SseEvent[] = [];
    const ev = (type: string, fields: Record<string, unknown>, tokens = 0, head = false): void => {
      out.push({ event: type, data: { type, ...fields }, tokens, head });
    };
    const start = { ...usageBody(r), output_tokens: 1 };
    ev(
      'message_start',
      { message: { id: `msg_scripted_${r.seq}`, type: 'message', role: 'assistant', model: r.model, content: [], stop_reason: null, stop_sequence: null, usage: start } },
      0,
      true,
    );
    ev('ping', {}, 0, true);
    let index = 0;
    if (r.reasoning) {
      const i = index++;
      ev('content_block_start', { index: i, content_block: { type: 'thinking', thinking: '', signature: '' } });
      for (const p of tokenPieces(r.reasoning)) ev('content_block_delta', { index: i, delta: { type: 'thinking_delta', thinking: p } }, 1);
      ev('content_block_delta', { index: i, delta: { type: 'signature_delta', signature: thinkingSignature(r.reasoning) } });
      ev('content_block_stop', { index: i });
    }
    if (r.text || !r.toolCalls.length) {
      const i = index++;
      ev('content_block_start', { index: i, content_block: { type: 'text', text: '' } });
      for (const p of tokenPieces(r.text)) ev('content_block_delta', { index: i, delta: { type: 'text_delta', text: p } }, 1);
      ev('content_block_stop', { index: i });
    }
    r.toolCalls.forEach((c, k) => {
      const i = index++;
      ev('content_block_start', { index: i, content_block: { type: 'tool_use', id: toolId(r, k), name: c.name, input: {} } }, countTokens(c.name));
      for (const p of tokenPieces(c.arguments)) ev('content_block_delta', { index: i, delta: { type: 'input_json_delta', partial_json: p } }, 1);
      ev('content_block_stop', { index: i });
    });
    ev('message_delta', { delta: { stop_reason: stopReason(r), stop_sequence: null }, usage: usageBody(r) });
    ev('message_stop', {});
    return out;
  },
};
