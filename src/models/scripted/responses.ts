// OpenAI Responses: POST /v1/responses.
import { countTokens, tokenPieces } from './tokens.js';
import { contentText, isObject, parseArgs, type ProtocolHandler, type Reply, type SseEvent } from './protocol.js';
import { openaiErrorBody } from './chat.js';
import type { NormalizedMessage, NormalizedTool } from './types.js';

function callId(r: Reply, i: number): string {
  return r.toolCalls[i]!.id ?? `call_${r.turn}_${i}`;
}

function usageBody(r: Reply) {
  const u = r.usage;
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cached },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning },
    total_tokens: u.input + u.output,
  };
}

interface Items {
  reasoning?: Record<string, any>;
  message?: Record<string, any>;
  calls: Record<string, any>[];
}

/** The finished output items of a reply. */
function items(r: Reply): Items {
  const out: Items = { calls: [] };
  if (r.reasoning) {
    out.reasoning = { id: `rs_${r.seq}`, type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: r.reasoning }], status: 'completed' };
  }
  if (r.text || !r.toolCalls.length) {
    out.message = {
      id: `msg_${r.seq}`,
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: r.text, annotations: [], logprobs: [] }],
    };
  }
  out.calls = r.toolCalls.map((c, i) =>
    c.input !== undefined
      ? { id: `ctc_${r.turn}_${i}`, type: 'custom_tool_call', status: 'completed', call_id: callId(r, i), name: c.name, input: c.input }
      : { id: `fc_${r.turn}_${i}`, type: 'function_call', status: 'completed', call_id: callId(r, i), name: c.name, arguments: c.arguments },
  );
  return out;
}

function responseObject(r: Reply, body: any, status: 'in_progress' | 'completed', output: unknown[]) {
  return {
    id: `resp_scripted_${r.seq}`,
    object: 'response',
    created_at: r.created,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: r.model,
    output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? 'disabled',
    usage: status === 'completed' ? usageBody(r) : null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

function normalizeInput(body: any): NormalizedMessage[] {
  const messages: NormalizedMessage[] = [];
  if (typeof body.instructions === 'string' && body.instructions) messages.push({ role: 'system', text: body.instructions });
  if (typeof body.input === 'string') {
    messages.push({ role: 'user', text: body.input });
    return messages;
  }
  let pendingReasoning: string | undefined;
  const lastAssistant = (): NormalizedMessage => {
    const last = messages[messages.length - 1];
    if (last && last.role === 'assistant' && !pendingReasoning) return last;
    const m: NormalizedMessage = { role: 'assistant', text: '' };
    if (pendingReasoning) m.reasoning = pendingReasoning;
    pendingReasoning = undefined;
    messages.push(m);
    return m;
  };
  for (const it of (body.input ?? []) as any[]) {
    if (!isObject(it)) continue;
    const type = it.type ?? (it.role ? 'message' : undefined);
    if (type === 'message') {
      if (it.role === 'assistant') {
        const m = lastAssistant();
        const t = contentText(it.content);
        m.text = m.text ? `${m.text}\n${t}` : t;
      } else messages.push({ role: it.role === 'system' || it.role === 'developer' ? 'system' : 'user', text: contentText(it.content) });
    } else if (type === 'function_call') {
      const m = lastAssistant();
      (m.tool_calls ??= []).push({ id: String(it.call_id ?? it.id ?? ''), name: String(it.name ?? ''), arguments: parseArgs(it.arguments) });
    } else if (type === 'custom_tool_call') {
      const m = lastAssistant();
      (m.tool_calls ??= []).push({ id: String(it.call_id ?? it.id ?? ''), name: String(it.name ?? ''), arguments: typeof it.input === 'string' ? it.input : '' });
    } else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
      messages.push({ role: 'tool', text: contentText(it.output), tool_call_id: String(it.call_id ?? '') });
    } else if (type === 'reasoning') {
      const parts = [...(Array.isArray(it.content) ? it.content : []), ...(Array.isArray(it.summary) ? it.summary : [])];
      const text = parts.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).filter(Boolean).join('\n');
      pendingReasoning = pendingReasoning ? `${pendingReasoning}\n${text}` : text;
    }
  }
  if (pendingReasoning) lastAssistant();
  return messages;
}

export const responses: ProtocolHandler = {
  protocol: 'openai-responses',

  validate(body) {
    if (!isObject(body)) return 'request body must be a JSON object';
    if (typeof body.model !== 'string' || !body.model) return "missing required parameter: 'model'";
    if (typeof body.input !== 'string' && !Array.isArray(body.input)) return "missing required parameter: 'input' (a string or an array of input items)";
    return null;
  },

  normalize(body) {
    const tools: NormalizedTool[] = [];
    for (const t of Array.isArray(body.tools) ? body.tools : []) {
      if (t && typeof t.name === 'string') tools.push(t.type === 'custom' ? { name: t.name, description: t.description, custom: true } : { name: t.name, description: t.description, parameters: t.parameters });
    }
    return { messages: normalizeInput(body), tools };
  },

  isStream: (body) => body.stream === true,
  cacheWrites: () => false,
  errorBody: openaiErrorBody,

  complete(r, body) {
    const it = items(r);
    const output = [it.reasoning, it.message, ...it.calls].filter(Boolean);
    return responseObject(r, body, 'completed', output);
  },

  events(r, body) {
    const out: SseEvent[] = [];
    let seq = 0;
    const ev = (type: string, fields: Record<string, unknown>, tokens = 0, head = false): void => {
      out.push({ event: type, data: { type, sequence_number: seq++, ...fields }, tokens, head });
    };
    const it = items(r);
    ev('response.created', { response: responseObject(r, body, 'in_progress', []) }, 0, true);
    ev('response.in_progress', { response: responseObject(r, body, 'in_progress', []) }, 0, true);
    const done: unknown[] = [];
    let index = 0;
    if (it.reasoning) {
      const item_id = it.reasoning.id;
      const output_index = index++;
      ev('response.output_item.added', { output_index, item: { ...it.reasoning, content: [], status: 'in_progress' } });
      ev('response.content_part.added', { item_id, output_index, content_index: 0, part: { type: 'reasoning_text', text: '' } });
      for (const p of tokenPieces(r.reasoning)) ev('response.reasoning_text.delta', { item_id, output_index, content_index: 0, delta: p }, 1);
      ev('response.reasoning_text.done', { item_id, output_index, content_index: 0, text: r.reasoning });
      ev('response.content_part.done', { item_id, output_index, content_index: 0, part: { type: 'reasoning_text', text: r.reasoning } });
      ev('response.output_item.done', { output_index, item: it.reasoning });
      done.push(it.reasoning);
    }
    if (it.message) {
      const item_id = it.message.id;
      const output_index = index++;
      ev('response.output_item.added', { output_index, item: { ...it.message, status: 'in_progress', content: [] } });
      ev('response.content_part.added', { item_id, output_index, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
      for (const p of tokenPieces(r.text)) ev('response.output_text.delta', { item_id, output_index, content_index: 0, delta: p, logprobs: [] }, 1);
      ev('response.output_text.done', { item_id, output_index, content_index: 0, text: r.text, logprobs: [] });
      ev('response.content_part.done', { item_id, output_index, content_index: 0, part: it.message.content[0] });
      ev('response.output_item.done', { output_index, item: it.message });
      done.push(it.message);
    }
    for (const call of it.calls) {
      const item_id = call.id;
      const output_index = index++;
      if (call.type === 'custom_tool_call') {
        ev('response.output_item.added', { output_index, item: { ...call, status: 'in_progress', input: '' } }, countTokens(call.name));
        for (const p of tokenPieces(call.input)) ev('response.custom_tool_call_input.delta', { item_id, output_index, delta: p }, 1);
        ev('response.custom_tool_call_input.done', { item_id, output_index, input: call.input });
        ev('response.output_item.done', { output_index, item: call });
        done.push(call);
        continue;
      }
      ev('response.output_item.added', { output_index, item: { ...call, status: 'in_progress', arguments: '' } }, countTokens(call.name));
      for (const p of tokenPieces(call.arguments)) ev('response.function_call_arguments.delta', { item_id, output_index, delta: p }, 1);
      ev('response.function_call_arguments.done', { item_id, output_index, name: call.name, arguments: call.arguments });
      ev('response.output_item.done', { output_index, item: call });
      done.push(call);
    }
    ev('response.completed', { response: responseObject(r, body, 'completed', done) });
    return out;
  },
};
