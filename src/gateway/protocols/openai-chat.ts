// OpenAI Chat Completions (POST /v1/chat/completions) ↔ IR.
import type { Protocol, Usage } from '../../core/types.js';
import {
  type ErrorKind,
  type IRFinishReason,
  type IRMessage,
  type IRPart,
  type IRRequest,
  type IRResponse,
  type IRStreamEvent,
  type IRTool,
  type IRToolChoice,
  genId,
  invalid,
  isObj,
  textOf,
  toolCallsOf,
  untranslatable,
} from '../ir.js';
import { type Codec, type ParseOptions, type StreamDecoder, type StreamEncoder, sse } from './codec.js';
import { joinText, markedText, systemMessage, toolImagesNote, toolMessage } from './content.js';

const P: Protocol = 'openai-chat';

function contentParts(content: unknown, where: string, opts: ParseOptions): IRPart[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) throw invalid(`${where}.content must be a string or an array of content parts`);
  const out: IRPart[] = [];
  content.forEach((p, i) => {
    if (!isObj(p) || typeof p.type !== 'string') throw invalid(`${where}.content[${i}] must be an object with a "type"`);
    if (p.type === 'text' || p.type === 'input_text' || p.type === 'output_text') {
      if (typeof p.text !== 'string') throw invalid(`${where}.content[${i}].text must be a string`);
      out.push({ type: 'text', text: p.text });
    } else if (p.type === 'image_url') {
      const url = isObj(p.image_url) ? p.image_url.url : p.image_url;
      if (typeof url !== 'string') throw invalid(`${where}.content[${i}].image_url.url must be a string`);
      out.push(imageFromUrl(url, isObj(p.image_url) ? p.image_url.detail : undefined));
    } else if (p.type === 'refusal') {
      if (typeof p.refusal === 'string') out.push({ type: 'text', text: p.refusal });
    } else if (opts.target !== P) {
      throw untranslatable(`content part of type "${p.type}"`, P, opts.target);
    }
  });
  return out;
}

export function imageFromUrl(url: string, detail?: unknown): IRPart {
  const d = typeof detail === 'string' ? { detail } : {};
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (m) return { type: 'image', media_type: m[1]!, data: m[2]!, ...d };
  return { type: 'image', url, ...d };
}

export function imageToUrl(p: Extract<IRPart, { type: 'image' }>): string {
  return p.url ?? `data:${p.media_type ?? 'image/png'};base64,${p.data ?? ''}`;
}

function parseTools(tools: unknown, opts: ParseOptions): IRTool[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalid('tools must be an array');
  const out: IRTool[] = [];
  tools.forEach((t, i) => {
    if (!isObj(t)) throw invalid(`tools[${i}] must be an object`);
    if (t.type !== 'function') {
      if (opts.target !== P) throw untranslatable(`tool of type "${String(t.type)}"`, P, opts.target);
      return;
    }
    const f = t.function;
    if (!isObj(f) || typeof f.name !== 'string' || !f.name) throw invalid(`tools[${i}].function.name must be a non-empty string`);
    out.push({ name: f.name, description: typeof f.description === 'string' ? f.description : undefined, parameters: f.parameters, strict: typeof f.strict === 'boolean' ? f.strict : undefined });
  });
  return out;
}

function parseToolChoice(tc: unknown, opts: ParseOptions): IRToolChoice | undefined {
  if (tc === undefined || tc === null) return undefined;
  if (tc === 'auto' || tc === 'none' || tc === 'required') return { type: tc };
  if (isObj(tc) && tc.type === 'function' && isObj(tc.function) && typeof tc.function.name === 'string') return { type: 'tool', name: tc.function.name };
  // Other forms (allowed_tools, custom) pass through to a Chat upstream; the IR has no equivalent.
  if (isObj(tc) && typeof tc.type === 'string' && tc.type !== 'function') {
    if (opts.target === P) return undefined;
    throw untranslatable(`tool_choice of type "${tc.type}"`, P, opts.target);
  }
  throw invalid('tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":...}}');
}

function num(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${name} must be a number`);
  return v;
}

function assistantMessage(m: Record<string, any>, where: string, opts: ParseOptions): IRMessage {
  const parts: IRPart[] = [];
  const rc = typeof m.reasoning_content === 'string' ? m.reasoning_content : typeof m.reasoning === 'string' ? m.reasoning : '';
  if (rc) parts.push({ type: 'reasoning', text: rc });
  parts.push(...contentParts(m.content, where, opts));
  if (m.tool_calls !== undefined && m.tool_calls !== null) {
    if (!Array.isArray(m.tool_calls)) throw invalid(`${where}.tool_calls must be an array`);
    m.tool_calls.forEach((tc: unknown, j: number) => {
      if (!isObj(tc) || !isObj(tc.function) || typeof tc.function.name !== 'string') throw invalid(`${where}.tool_calls[${j}].function.name must be a string`);
      if (typeof tc.id !== 'string') throw invalid(`${where}.tool_calls[${j}].id must be a string`);
      const a = tc.function.arguments;
      parts.push({ type: 'tool_call', id: tc.id, name: tc.function.name, arguments: typeof a === 'string' ? a : JSON.stringify(a ?? {}) });
    });
  }
  return { role: 'assistant', content: parts };
}

function parseMessage(m: unknown, where: string, opts: ParseOptions): IRMessage[] {
  if (!isObj(m)) throw invalid(`${where} must be an object`);
  switch (m.role) {
    case 'system':
    case 'developer':
      return systemMessage(contentParts(m.content, where, opts).flatMap((p) => (p.type === 'text' ? [p.text] : [])));
    case 'user':
      if (m.content === undefined) throw invalid(`${where}.content is required`);
      return [{ role: 'user', content: contentParts(m.content, where, opts) }];
    case 'assistant':
      return [assistantMessage(m, where, opts)];
    case 'tool':
      if (typeof m.tool_call_id !== 'string') throw invalid(`${where}.tool_call_id must be a string`);
      return [toolMessage(m.tool_call_id, contentParts(m.content, where, opts), false)];
    case 'function':
      if (opts.target !== P) throw untranslatable('the deprecated "function" role', P, opts.target);
      return [];
    default:
      throw invalid(`${where}.role must be one of system, developer, user, assistant, tool`);
  }
}

function checkRequest(body: unknown, opts: ParseOptions): asserts body is Record<string, any> {
  if (!isObj(body)) throw invalid('request body must be a JSON object');
  if (typeof body.model !== 'string' || !body.model) throw invalid('model must be a non-empty string');
  if (!Array.isArray(body.messages)) throw invalid('messages must be an array');
  if (body.messages.length === 0) throw invalid('messages must not be empty');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw invalid('stream must be a boolean');
  if (opts.target === P) return;
  if (typeof body.n === 'number' && body.n > 1) throw untranslatable('n > 1', P, opts.target);
  if (isObj(body.response_format) && body.response_format.type !== 'text') throw untranslatable(`response_format "${String(body.response_format.type)}"`, P, opts.target);
  if (body.logprobs === true) throw untranslatable('logprobs', P, opts.target);
  if (Array.isArray(body.modalities) && body.modalities.some((m: unknown) => m !== 'text')) throw untranslatable('audio output', P, opts.target);
}

function parseStop(stop: unknown): string[] | undefined {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop)) return stop.filter((s: unknown): s is string => typeof s === 'string');
  if (stop !== undefined && stop !== null) throw invalid('stop must be a string or an array of strings');
  return undefined;
}

function parseRequest(body: unknown, opts: ParseOptions): IRRequest {
  checkRequest(body, opts);
  const messages: IRMessage[] = [];
  body.messages.forEach((m: unknown, i: number) => messages.push(...parseMessage(m, `messages[${i}]`, opts)));
  const effort = body.reasoning_effort;
  return {
    model: body.model,
    messages,
    tools: parseTools(body.tools, opts),
    tool_choice: parseToolChoice(body.tool_choice, opts),
    parallel_tool_calls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : undefined,
    max_tokens: num(body.max_completion_tokens, 'max_completion_tokens') ?? num(body.max_tokens, 'max_tokens'),
    temperature: num(body.temperature, 'temperature'),
    top_p: num(body.top_p, 'top_p'),
    stop: parseStop(body.stop),
    stream: body.stream === true,
    reasoning: typeof effort === 'string' && effort !== 'none' ? { effort: effort as any, enabled: true } : undefined,
    include_usage: isObj(body.stream_options) && body.stream_options.include_usage === true,
    user: typeof body.user === 'string' ? body.user : undefined,
  };
}

/** User content: a string for one text part (the form every Chat server takes), else parts. */
function userContent(all: IRPart[]): unknown {
  const parts = all.filter((p) => p.type !== 'text' || p.text !== '');
  if (parts.length === 1 && parts[0]!.type === 'text') return parts[0]!.text;
  if (!parts.length) return '';
  return parts.flatMap((p): unknown[] => (p.type === 'text' ? [{ type: 'text', text: p.text }] : p.type === 'image' ? [{ type: 'image_url', image_url: { url: imageToUrl(p), ...(p.detail ? { detail: p.detail } : {}) } }] : []));
}

function assistantOut(m: Extract<IRMessage, { role: 'assistant' }>): Record<string, unknown> {
  const calls = toolCallsOf(m.content);
  // null content is only valid beside tool calls.
  const out: Record<string, unknown> = { role: 'assistant', content: joinText(m.content) || (calls.length ? null : '') };
  const reasoning = m.content.filter((p) => p.type === 'reasoning').map((p) => (p as { text: string }).text).join('');
  if (reasoning) out.reasoning_content = reasoning;
  if (calls.length) out.tool_calls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  return out;
}

/**
 * Messages. System, assistant and tool content go as one string (text parts joined with "\n"): the
 * content-part arrays of OpenAI's spec are refused there by several Chat-compatible servers. Chat tool
 * messages take text only, so a tool result's images follow the run of tool messages in a user message.
 */
function buildMessages(ir: IRRequest): unknown[] {
  const messages: unknown[] = [];
  let images: IRPart[] = [];
  const flush = () => {
    if (images.length) messages.push({ role: 'user', content: userContent(images) });
    images = [];
  };
  for (const m of ir.messages) {
    if (m.role !== 'tool') flush();
    if (m.role === 'system') messages.push({ role: 'system', content: m.text });
    else if (m.role === 'user') messages.push({ role: 'user', content: userContent(m.content) });
    else if (m.role === 'assistant') messages.push(assistantOut(m));
    else {
      messages.push({ role: 'tool', tool_call_id: m.tool_call_id, content: markedText(m) });
      const imgs = (m.parts ?? []).filter((p) => p.type === 'image');
      if (imgs.length) images.push({ type: 'text', text: toolImagesNote(m.tool_call_id) }, ...imgs);
    }
  }
  flush();
  return messages;
}

function buildRequest(ir: IRRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { messages: buildMessages(ir) };
  if (ir.tools.length)
    body.tools = ir.tools.map((t) => ({ type: 'function', function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.parameters ?? { type: 'object', properties: {} }, ...(t.strict !== undefined ? { strict: t.strict } : {}) } }));
  if (ir.tool_choice) body.tool_choice = ir.tool_choice.type === 'tool' ? { type: 'function', function: { name: ir.tool_choice.name } } : ir.tool_choice.type;
  if (ir.parallel_tool_calls !== undefined && ir.tools.length) body.parallel_tool_calls = ir.parallel_tool_calls;
  if (ir.max_tokens !== undefined) body.max_tokens = ir.max_tokens;
  if (ir.temperature !== undefined) body.temperature = ir.temperature;
  if (ir.top_p !== undefined) body.top_p = ir.top_p;
  if (ir.stop?.length) body.stop = ir.stop;
  if (ir.reasoning?.effort && ir.reasoning.enabled !== false) body.reasoning_effort = ir.reasoning.effort;
  if (ir.user) body.user = ir.user;
  body.stream = ir.stream;
  if (ir.stream) body.stream_options = { include_usage: true };
  return body;
}

const FINISH_IN: Record<string, IRFinishReason> = { stop: 'stop', length: 'length', tool_calls: 'tool_calls', function_call: 'tool_calls', content_filter: 'content_filter' };

function finishOut(r: IRFinishReason | null, hasTools: boolean): string {
  switch (r) {
    case 'length':
      return 'length';
    case 'tool_calls':
      return 'tool_calls';
    case 'content_filter':
    case 'refusal':
      return 'content_filter';
    case null:
      return hasTools ? 'tool_calls' : 'stop';
    default:
      return 'stop';
  }
}

export function usageFromChat(u: unknown): Partial<Usage> | null {
  if (!isObj(u)) return null;
  const out: Partial<Usage> = {};
  if (typeof u.prompt_tokens === 'number') out.input = u.prompt_tokens;
  if (typeof u.completion_tokens === 'number') out.output = u.completion_tokens;
  if (isObj(u.prompt_tokens_details) && typeof u.prompt_tokens_details.cached_tokens === 'number') out.cached = u.prompt_tokens_details.cached_tokens;
  // DeepSeek reports cache hits beside prompt_tokens (which includes them) instead.
  else if (typeof u.prompt_cache_hit_tokens === 'number') out.cached = u.prompt_cache_hit_tokens;
  if (isObj(u.prompt_tokens_details) && typeof u.prompt_tokens_details.cache_write_tokens === 'number') out.cache_write = u.prompt_tokens_details.cache_write_tokens;
  if (isObj(u.completion_tokens_details) && typeof u.completion_tokens_details.reasoning_tokens === 'number') out.reasoning = u.completion_tokens_details.reasoning_tokens;
  return out;
}

function usageToChat(u: Usage): Record<string, unknown> {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached, ...(u.cache_write ? { cache_write_tokens: u.cache_write } : {}) },
    completion_tokens_details: { reasoning_tokens: u.reasoning },
  };
}

function parseResponse(body: unknown): IRResponse {
  if (!isObj(body) || !Array.isArray(body.choices)) throw invalid('upstream chat completion has no choices');
  const c = body.choices[0];
  const msg = isObj(c) && isObj(c.message) ? c.message : {};
  const content: IRPart[] = [];
  const rc = typeof msg.reasoning_content === 'string' ? msg.reasoning_content : typeof msg.reasoning === 'string' ? msg.reasoning : '';
  if (rc) content.push({ type: 'reasoning', text: rc });
  if (typeof msg.content === 'string' && msg.content) content.push({ type: 'text', text: msg.content });
  else if (Array.isArray(msg.content)) for (const p of msg.content) if (isObj(p) && typeof p.text === 'string') content.push({ type: 'text', text: p.text });
  if (typeof msg.refusal === 'string' && msg.refusal) content.push({ type: 'text', text: msg.refusal });
  if (Array.isArray(msg.tool_calls))
    for (const tc of msg.tool_calls)
      if (isObj(tc) && isObj(tc.function))
        content.push({ type: 'tool_call', id: typeof tc.id === 'string' ? tc.id : genId('call_'), name: String(tc.function.name ?? ''), arguments: typeof tc.function.arguments === 'string' ? tc.function.arguments : JSON.stringify(tc.function.arguments ?? {}) });
  const u = usageFromChat(body.usage);
  const fr = isObj(c) && typeof c.finish_reason === 'string' ? (FINISH_IN[c.finish_reason] ?? 'stop') : null;
  return {
    id: typeof body.id === 'string' ? body.id : genId('chatcmpl-'),
    model: typeof body.model === 'string' ? body.model : '',
    content,
    finish_reason: fr,
    usage: u ? { input: u.input ?? 0, cached: u.cached ?? 0, cache_write: u.cache_write ?? 0, output: u.output ?? 0, reasoning: u.reasoning ?? 0 } : null,
  };
}

function buildResponse(r: IRResponse, req: IRRequest): unknown {
  const calls = toolCallsOf(r.content);
  const reasoning = r.content.filter((p) => p.type === 'reasoning').map((p) => (p as { text: string }).text).join('');
  const message: Record<string, unknown> = { role: 'assistant', content: textOf(r.content) || null, refusal: null };
  if (reasoning) message.reasoning_content = reasoning;
  if (calls.length) message.tool_calls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  const out: Record<string, unknown> = {
    id: r.id.startsWith('chatcmpl') ? r.id : `chatcmpl-${r.id}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: req.model,
    choices: [{ index: 0, message, finish_reason: finishOut(r.finish_reason, calls.length > 0), logprobs: null }],
  };
  if (r.usage) out.usage = usageToChat(r.usage);
  return out;
}

class ChatDecoder implements StreamDecoder {
  done = false;
  private started = false;
  private toolIndex = new Map<number, number>();
  private ids = new Set<string>();
  private lastUp: number | null = null;
  push(_event: string | undefined, data: string): IRStreamEvent[] {
    if (data.trim() === '[DONE]') {
      this.done = true;
      return [];
    }
    const chunk = JSON.parse(data) as unknown;
    if (!isObj(chunk)) throw new Error('chunk is not a JSON object');
    const out: IRStreamEvent[] = [];
    if (isObj(chunk.error)) {
      out.push({ type: 'error', message: String(chunk.error.message ?? 'upstream error'), errorType: typeof chunk.error.type === 'string' ? chunk.error.type : undefined });
      return out;
    }
    // Usage first, even before `start`: a provider that reports it in every chunk has the input count
    // then, and an Anthropic client's message_start (sent on `start`) can carry it.
    const u = usageFromChat(chunk.usage);
    if (u) out.push({ type: 'usage', usage: u });
    if (!this.started) {
      this.started = true;
      out.push({ type: 'start', id: typeof chunk.id === 'string' ? chunk.id : genId('chatcmpl-'), model: typeof chunk.model === 'string' ? chunk.model : '' });
    }
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (isObj(choice)) {
      const d = isObj(choice.delta) ? choice.delta : {};
      const r = typeof d.reasoning_content === 'string' ? d.reasoning_content : typeof d.reasoning === 'string' ? d.reasoning : '';
      if (r) out.push({ type: 'reasoning', text: r });
      if (typeof d.content === 'string' && d.content) out.push({ type: 'text', text: d.content });
      // A refusal's text, as non-streamed `message.refusal` is read (the mark that it is one is lost).
      if (typeof d.refusal === 'string' && d.refusal) out.push({ type: 'text', text: d.refusal });
      if (Array.isArray(d.tool_calls)) {
        for (const tc of d.tool_calls) {
          if (!isObj(tc)) continue;
          // Some providers omit `index`: a new id starts a new call, anything else continues the last one.
          let upIdx: number;
          if (typeof tc.index === 'number') upIdx = tc.index;
          else if (typeof tc.id === 'string' && !this.ids.has(tc.id)) upIdx = -1 - this.ids.size;
          else upIdx = this.lastUp ?? -1;
          if (typeof tc.id === 'string') this.ids.add(tc.id);
          this.lastUp = upIdx;
          let idx = this.toolIndex.get(upIdx);
          const f = isObj(tc.function) ? tc.function : {};
          if (idx === undefined) {
            idx = this.toolIndex.size;
            this.toolIndex.set(upIdx, idx);
            out.push({ type: 'tool_call_start', index: idx, id: typeof tc.id === 'string' ? tc.id : genId('call_'), name: typeof f.name === 'string' ? f.name : '' });
          }
          if (typeof f.arguments === 'string' && f.arguments) out.push({ type: 'tool_call_args', index: idx, arguments: f.arguments });
        }
      }
      if (typeof choice.finish_reason === 'string') out.push({ type: 'finish', reason: FINISH_IN[choice.finish_reason] ?? 'stop' });
    }
    return out;
  }
}

class ChatEncoder implements StreamEncoder {
  private id = genId('chatcmpl-');
  private created = Math.floor(Date.now() / 1000);
  private roleSent = false;
  private finish: IRFinishReason | null = null;
  private usage: Partial<Usage> = {};
  private hasUsage = false;
  private hasTools = false;
  private ended = false;
  constructor(private req: IRRequest) {}
  private chunk(delta: Record<string, unknown>, finish: string | null = null): string {
    if (!this.roleSent) {
      delta = { role: 'assistant', ...delta };
      this.roleSent = true;
    }
    return sse({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.req.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
  }
  push(ev: IRStreamEvent): string {
    switch (ev.type) {
      case 'start':
        return this.chunk({ content: '' });
      case 'text':
        return this.chunk({ content: ev.text });
      case 'reasoning':
        return this.chunk({ reasoning_content: ev.text });
      case 'tool_call_start':
        this.hasTools = true;
        return this.chunk({ tool_calls: [{ index: ev.index, id: ev.id, type: 'function', function: { name: ev.name, arguments: '' } }] });
      case 'tool_call_args':
        return this.chunk({ tool_calls: [{ index: ev.index, function: { arguments: ev.arguments } }] });
      case 'finish':
        this.finish = ev.reason;
        return '';
      case 'usage':
        Object.assign(this.usage, ev.usage);
        this.hasUsage = true;
        return '';
      case 'error':
        this.ended = true;
        return sse({ error: { message: ev.message, type: ev.errorType ?? 'server_error', code: null, param: null } });
      default:
        return '';
    }
  }
  end(): string {
    if (this.ended) return '';
    this.ended = true;
    let s = this.chunk({}, finishOut(this.finish, this.hasTools));
    if (this.req.include_usage && this.hasUsage) {
      const u = this.usage;
      s += sse({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.req.model, choices: [], usage: usageToChat({ input: u.input ?? 0, cached: u.cached ?? 0, cache_write: u.cache_write ?? 0, output: u.output ?? 0, reasoning: u.reasoning ?? 0 }) });
    }
    return s + 'data: [DONE]\n\n';
  }
}

export const OPENAI_ERROR_TYPES: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  too_large: 'invalid_request_error',
  rate_limit: 'rate_limit_error',
  budget: 'budget_exceeded',
  upstream: 'server_error',
  overloaded: 'server_error',
  timeout: 'timeout',
};

export function openaiErrorBody(kind: ErrorKind, message: string): unknown {
  return { error: { message, type: OPENAI_ERROR_TYPES[kind], param: null, code: kind === 'budget' ? 'budget_exceeded' : kind === 'too_large' ? 'request_too_large' : null } };
}

export const openaiChat: Codec = {
  protocol: P,
  path: '/chat/completions',
  parseRequest,
  buildRequest,
  parseResponse,
  buildResponse,
  createDecoder: () => new ChatDecoder(),
  createEncoder: (req) => new ChatEncoder(req),
  errorBody: openaiErrorBody,
  streamError: (kind, message) => sse(openaiErrorBody(kind, message)),
};
