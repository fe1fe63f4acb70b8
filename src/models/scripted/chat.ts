// OpenAI Chat Completions: POST /v1/chat/completions.
import { tokenPieces, countTokens } from './tokens.js';
import { contentText, isObject, memo, parseArgs, type ProtocolHandler, type Reply, type SseEvent } from './protocol.js';
import type { NormalizedMessage, NormalizedTool } from './types.js';

export function openaiErrorBody(status: number, message: string): unknown {
  let type = 'invalid_request_error';
  let code: string | null = null;
  if (status === 401) code = 'invalid_api_key';
  else if (status === 404) code = 'not_found';
  else if (status === 429) {
    type = 'rate_limit_error';
    code = 'rate_limit_exceeded';
  } else if (status >= 500) type = 'server_error';
  return { error: { message, type, param: null, code } };
}

function callId(r: Reply, i: number): string {
  return r.toolCalls[i]!.id ?? `call_${r.turn}_${i}`;
}

function usageBody(r: Reply) {
  const u = r.usage;
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function finishReason(r: Reply): string {
  return r.toolCalls.length ? 'tool_calls' : 'stop';
}

/** One Chat message, normalised. */
function normalizeMessage(m: any): NormalizedMessage {
  const role = m.role as string;
  if (role === 'system' || role === 'developer') return { role: 'system', text: contentText(m.content) };
  if (role === 'tool' || role === 'function') return { role: 'tool', text: contentText(m.content), tool_call_id: String(m.tool_call_id ?? m.name ?? '') };
  if (role !== 'assistant') return { role: 'user', text: contentText(m.content) };
  const msg: NormalizedMessage = { role: 'assistant', text: contentText(m.content ?? '') };
  const reasoning = m.reasoning_content ?? m.reasoning;
  if (typeof reasoning === 'string' && reasoning) msg.reasoning = reasoning;
  if (Array.isArray(m.tool_calls) && m.tool_calls.length) {
    msg.tool_calls = m.tool_calls.map((c: any) => ({
      id: String(c?.id ?? ''),
      name: String(c?.function?.name ?? ''),
      arguments: parseArgs(c?.function?.arguments),
    }));
  }
  return msg;
}

function chatTools(body: any): NormalizedTool[] {
  const tools: NormalizedTool[] = [];
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    const f = t?.function ?? t;
    if (f && typeof f.name === 'string') tools.push({ name: f.name, description: f.description, parameters: f.parameters });
  }
  return tools;
}

export const chat: ProtocolHandler = {
  protocol: 'openai-chat',

  validate(body, from = 0) {
    if (!isObject(body)) return 'request body must be a JSON object';
    if (typeof body.model !== 'string' || !body.model) return "you must provide a model parameter ('model')";
    if (!Array.isArray(body.messages)) return "missing required parameter: 'messages'";
    if (body.messages.length === 0) return "'messages' must contain at least one message";
    for (let i = from; i < body.messages.length; i++) {
      const m = body.messages[i];
      if (!isObject(m) || typeof m.role !== 'string') return `invalid value for 'messages[${i}]': each message needs a 'role'`;
    }
    return null;
  },

  normalize(body) {
    const messages: NormalizedMessage[] = [];
    for (const m of body.messages as any[]) messages.push(memo(m, normalizeMessage));
    return { messages, tools: chatTools(body) };
  },
  normalizeItem: (m) => [memo(m, normalizeMessage)],
  normalizeHead: () => [],
  normalizeTools: (body) => chatTools(body),

  isStream: (body) => body.stream === true,
  cacheWrites: () => false,
  errorBody: openaiErrorBody,

  complete(r) {
    const message: Record<string, unknown> = { role: 'assistant', content: r.text || (r.toolCalls.length ? null : ''), refusal: null };
    if (r.reasoning) message.reasoning_content = r.reasoning;
    if (r.toolCalls.length) {
      message.tool_calls = r.toolCalls.map((c, i) => ({ id: callId(r, i), type: 'function', function: { name: c.name, arguments: c.arguments } }));
    }
    return {
      id: `chatcmpl-scripted-${r.seq}`,
      object: 'chat.completion',
      created: r.created,
      model: r.model,
      system_fingerprint: 'scripted',
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(r) }],
      usage: usageBody(r),
    };
  },

  events(r, body) {
    const base = { id: `chatcmpl-scripted-${r.seq}`, object: 'chat.completion.chunk', created: r.created, model: r.model, system_fingerprint: 'scripted' };
    const includeUsage = body.stream_options?.include_usage === true;
    const out: SseEvent[] = [];
    let first = true;
    const chunk = (delta: Record<string, unknown>, tokens: number, finish: string | null = null): SseEvent => {
      if (first) {
        delta = { role: 'assistant', ...delta };
        first = false;
      }
      const data: Record<string, unknown> = { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
      if (includeUsage) data.usage = null;
      return { data, tokens };
    };
    for (const p of tokenPieces(r.reasoning)) out.push(chunk({ reasoning_content: p }, 1));
    for (const p of tokenPieces(r.text)) out.push(chunk({ content: p }, 1));
    r.toolCalls.forEach((c, i) => {
      const header = { index: i, id: callId(r, i), type: 'function', function: { name: c.name, arguments: '' } };
      out.push(chunk({ tool_calls: [header] }, countTokens(c.name)));
      for (const p of tokenPieces(c.arguments)) out.push(chunk({ tool_calls: [{ index: i, function: { arguments: p } }] }, 1));
    });
    if (first) out.push(chunk({ content: '' }, 0));
    out.push(chunk({}, 0, finishReason(r)));
    if (includeUsage) out.push({ data: { ...base, choices: [], usage: usageBody(r) }, tokens: 0 });
    out.push({ data: '[DONE]', tokens: 0 });
    return out;
  },
};
