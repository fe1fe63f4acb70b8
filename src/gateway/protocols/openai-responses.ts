// OpenAI Responses (POST /v1/responses) ↔ IR. Stateless use only: `previous_response_id` and
// `conversation` need the upstream's server-side state and pass through only to a Responses upstream.
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
  CUSTOM_TOOL_PARAM,
} from '../ir.js';
import { type Codec, type ParseOptions, type StreamDecoder, type StreamEncoder, sse } from './codec.js';
import { TEXT_SEPARATOR, hasImage, markedParts, markedText, systemMessage, toolMessage, toolsLoadedNote } from './content.js';
import { TOOL_SEARCH_NAME, callForm, callItem, callName, customInput, loadedNames, parseResponsesTools } from './responses-tools.js';
import { imageFromUrl, imageToUrl, openaiErrorBody, OPENAI_ERROR_TYPES } from './openai-chat.js';

const P: Protocol = 'openai-responses';

function contentParts(content: unknown, where: string, opts: ParseOptions): IRPart[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) throw invalid(`${where}.content must be a string or an array`);
  const out: IRPart[] = [];
  content.forEach((p, i) => {
    if (!isObj(p) || typeof p.type !== 'string') throw invalid(`${where}.content[${i}] must be an object with a "type"`);
    if (p.type === 'input_text' || p.type === 'output_text' || p.type === 'text') {
      if (typeof p.text !== 'string') throw invalid(`${where}.content[${i}].text must be a string`);
      out.push({ type: 'text', text: p.text });
    } else if (p.type === 'refusal') {
      if (typeof p.refusal === 'string') out.push({ type: 'text', text: p.refusal });
    } else if (p.type === 'input_image' && typeof p.image_url === 'string') {
      out.push(imageFromUrl(p.image_url, p.detail));
    } else if (opts.target !== P) throw untranslatable(`content part of type "${p.type}"`, P, opts.target);
  });
  return out;
}

function parseToolChoice(tc: unknown, opts: ParseOptions): IRToolChoice | undefined {
  if (tc === undefined || tc === null) return undefined;
  if (tc === 'auto' || tc === 'none' || tc === 'required') return { type: tc };
  if (isObj(tc) && tc.type === 'function' && typeof tc.name === 'string') return { type: 'tool', name: tc.name };
  if (isObj(tc) && opts.target === P) return undefined;
  // A custom tool goes to other protocols as a function tool: forcing it forces that function.
  if (isObj(tc) && tc.type === 'custom' && typeof tc.name === 'string') return { type: 'tool', name: tc.name };
  if (isObj(tc)) throw untranslatable(`tool_choice of type "${String(tc.type)}"`, P, opts.target);
  throw invalid('tool_choice must be "auto", "none", "required" or {"type":"function","name":...}');
}

function checkRequest(body: unknown, opts: ParseOptions): asserts body is Record<string, any> {
  if (!isObj(body)) throw invalid('request body must be a JSON object');
  if (typeof body.model !== 'string' || !body.model) throw invalid('model must be a non-empty string');
  const cross = opts.target !== P;
  if (cross && body.previous_response_id) throw untranslatable('previous_response_id (server-side conversation state)', P, opts.target);
  if (cross && body.conversation) throw untranslatable('conversation (server-side conversation state)', P, opts.target);
  if (cross && isObj(body.text) && isObj(body.text.format) && body.text.format.type !== 'text') throw untranslatable(`text.format "${String(body.text.format.type)}"`, P, opts.target);
  if (body.input === undefined && !body.previous_response_id) throw invalid('input is required');
  if (body.input !== undefined && typeof body.input !== 'string' && !Array.isArray(body.input)) throw invalid('input must be a string or an array of input items');
  if (body.instructions !== undefined && body.instructions !== null && typeof body.instructions !== 'string') throw invalid('instructions must be a string');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw invalid('stream must be a boolean');
  for (const k of ['max_output_tokens', 'temperature', 'top_p'] as const)
    if (body[k] !== undefined && body[k] !== null && (typeof body[k] !== 'number' || !Number.isFinite(body[k]))) throw invalid(`${k} must be a number`);
}

/** A reasoning item's text: its reasoning_text content, else its summary parts (joined with the separator). */
function reasoningText(it: Record<string, any>): string {
  const texts = (list: unknown) => (Array.isArray(list) ? list.flatMap((c) => (isObj(c) && typeof c.text === 'string' ? [c.text] : [])) : []);
  return texts(it.content).join('') || texts(it.summary).join(TEXT_SEPARATOR);
}

/** Input items → IR messages. Consecutive assistant-side items (messages, calls, reasoning) form one assistant turn. */
class InputReader {
  readonly messages: IRMessage[] = [];
  /** Tool definitions loaded by `tool_search_output` items. */
  readonly loaded: unknown[] = [];
  private cur: IRPart[] | null = null;
  constructor(private readonly opts: ParseOptions) {}
  private assistant(): IRPart[] {
    if (!this.cur) {
      this.cur = [];
      this.messages.push({ role: 'assistant', content: this.cur });
    }
    return this.cur;
  }
  private push(...m: IRMessage[]): void {
    this.cur = null;
    this.messages.push(...m);
  }
  message(it: Record<string, any>, where: string): void {
    if (it.content === undefined) throw invalid(`${where}.content is required`);
    const parts = contentParts(it.content, where, this.opts);
    if (it.role === 'assistant') this.assistant().push(...parts);
    else if (it.role === 'user') this.push({ role: 'user', content: parts });
    else if (it.role === 'system' || it.role === 'developer') this.push(...systemMessage(parts.flatMap((p) => (p.type === 'text' ? [p.text] : []))));
    else throw invalid(`${where}.role must be one of user, assistant, system, developer`);
  }
  /** A client-run tool search: its call a `tool_search` function call, its output a tool result; the tools it loaded are kept. */
  private toolSearch(it: Record<string, any>, where: string, type: string): void {
    if (this.opts.target === P) return;
    if (typeof it.call_id !== 'string') throw invalid(`${where}.call_id must be a string`);
    if (type === 'tool_search_call') {
      this.assistant().push({ type: 'tool_call', id: it.call_id, name: TOOL_SEARCH_NAME, arguments: typeof it.arguments === 'string' ? it.arguments : JSON.stringify(it.arguments ?? {}) });
      return;
    }
    if (it.tools !== undefined && !Array.isArray(it.tools)) throw invalid(`${where}.tools must be an array`);
    this.loaded.push(...(it.tools ?? []));
    this.push(toolMessage(it.call_id, [{ type: 'text', text: toolsLoadedNote(loadedNames(it.tools)) }], false));
  }
  item(it: unknown, where: string): void {
    if (!isObj(it)) throw invalid(`${where} must be an object`);
    const type = it.type ?? (it.role !== undefined ? 'message' : undefined);
    switch (type) {
      case 'message':
        return this.message(it, where);
      case 'function_call':
        if (typeof it.call_id !== 'string' || typeof it.name !== 'string') throw invalid(`${where}: function_call needs "call_id" and "name"`);
        this.assistant().push({ type: 'tool_call', id: it.call_id, name: callName(it), arguments: typeof it.arguments === 'string' ? it.arguments : JSON.stringify(it.arguments ?? {}) });
        return;
      case 'custom_tool_call':
        if (typeof it.call_id !== 'string' || typeof it.name !== 'string') throw invalid(`${where}: custom_tool_call needs "call_id" and "name"`);
        this.assistant().push({ type: 'tool_call', id: it.call_id, name: callName(it), arguments: JSON.stringify({ [CUSTOM_TOOL_PARAM]: typeof it.input === 'string' ? it.input : '' }) });
        return;
      case 'tool_search_call':
      case 'tool_search_output':
        return this.toolSearch(it, where, type);
      case 'custom_tool_call_output':
      case 'function_call_output': {
        if (typeof it.call_id !== 'string') throw invalid(`${where}.call_id must be a string`);
        const parts = typeof it.output === 'string' ? (it.output ? [{ type: 'text' as const, text: it.output }] : []) : contentParts(it.output ?? '', where, this.opts);
        return this.push(toolMessage(it.call_id, parts, false));
      }
      case 'reasoning': {
        const text = reasoningText(it);
        if (text) this.assistant().push({ type: 'reasoning', text });
        return;
      }
      default:
        if (typeof type !== 'string') throw invalid(`${where} must have a "type"`);
        if (this.opts.target !== P) throw untranslatable(`input item of type "${type}"`, P, this.opts.target);
    }
  }
}

function parseRequest(body: unknown, opts: ParseOptions): IRRequest {
  checkRequest(body, opts);
  const r = new InputReader(opts);
  if (typeof body.instructions === 'string' && body.instructions) r.messages.push({ role: 'system', text: body.instructions });
  if (typeof body.input === 'string') r.messages.push({ role: 'user', content: [{ type: 'text', text: body.input }] });
  else if (Array.isArray(body.input)) body.input.forEach((it: unknown, i: number) => r.item(it, `input[${i}]`));
  const effort = isObj(body.reasoning) ? body.reasoning.effort : undefined;
  return {
    model: body.model,
    messages: r.messages,
    tools: parseResponsesTools(body.tools, opts, r.loaded),
    tool_choice: parseToolChoice(body.tool_choice, opts),
    parallel_tool_calls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : undefined,
    max_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : undefined,
    temperature: typeof body.temperature === 'number' ? body.temperature : undefined,
    top_p: typeof body.top_p === 'number' ? body.top_p : undefined,
    stream: body.stream === true,
    reasoning: typeof effort === 'string' && effort !== 'none' ? { effort: effort as any, enabled: true } : undefined,
    user: typeof body.user === 'string' ? body.user : typeof body.safety_identifier === 'string' ? body.safety_identifier : undefined,
  };
}

function inputParts(parts: IRPart[]): unknown[] {
  return parts.flatMap((p): unknown[] => (p.type === 'text' ? [{ type: 'input_text', text: p.text }] : p.type === 'image' ? [{ type: 'input_image', image_url: imageToUrl(p), detail: p.detail ?? 'auto' }] : []));
}

/** A tool result: its text (the error marker first when it failed), as input parts when it has images. */
function toolOutput(m: Extract<IRMessage, { role: 'tool' }>): unknown {
  const parts = markedParts(m);
  return hasImage(parts) ? inputParts(parts) : markedText(m);
}

function buildInput(ir: IRRequest): { input: unknown[]; instructions: string } {
  const input: unknown[] = [];
  let instructions = '';
  let leading = true;
  for (const m of ir.messages) {
    if (m.role === 'system') {
      if (leading) instructions += (instructions ? '\n\n' : '') + m.text;
      else input.push({ type: 'message', role: 'developer', content: m.blocks ? m.blocks.map((text) => ({ type: 'input_text', text })) : m.text });
      continue;
    }
    leading = false;
    if (m.role === 'tool') input.push({ type: 'function_call_output', call_id: m.tool_call_id, output: toolOutput(m) });
    else if (m.role === 'user') input.push({ type: 'message', role: 'user', content: inputParts(m.content) });
    else {
      // Reasoning from another protocol cannot be sent back to a Responses upstream (it expects its own
      // encrypted reasoning items): dropped.
      const text = m.content.flatMap((p) => (p.type === 'text' && p.text ? [{ type: 'output_text', text: p.text }] : []));
      if (text.length) input.push({ type: 'message', role: 'assistant', content: text });
      for (const c of toolCallsOf(m.content)) input.push({ type: 'function_call', call_id: c.id, name: c.name, arguments: c.arguments });
    }
  }
  return { input, instructions };
}

function buildRequest(ir: IRRequest): Record<string, unknown> {
  const { input, instructions } = buildInput(ir);
  const body: Record<string, unknown> = { input };
  if (instructions) body.instructions = instructions;
  if (ir.tools.length) body.tools = ir.tools.map((t) => ({ type: 'function', name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.parameters ?? { type: 'object', properties: {} }, strict: t.strict ?? false }));
  if (ir.tool_choice) body.tool_choice = ir.tool_choice.type === 'tool' ? { type: 'function', name: ir.tool_choice.name } : ir.tool_choice.type;
  if (ir.parallel_tool_calls !== undefined && ir.tools.length) body.parallel_tool_calls = ir.parallel_tool_calls;
  if (ir.max_tokens !== undefined) body.max_output_tokens = ir.max_tokens;
  if (ir.temperature !== undefined) body.temperature = ir.temperature;
  if (ir.top_p !== undefined) body.top_p = ir.top_p;
  if (ir.reasoning?.effort && ir.reasoning.enabled !== false) body.reasoning = { effort: ir.reasoning.effort };
  if (ir.user) body.user = ir.user;
  body.stream = ir.stream;
  return body;
}

function usageFromResponses(u: unknown): Partial<Usage> | null {
  if (!isObj(u)) return null;
  const out: Partial<Usage> = {};
  if (typeof u.input_tokens === 'number') out.input = u.input_tokens;
  if (typeof u.output_tokens === 'number') out.output = u.output_tokens;
  if (isObj(u.input_tokens_details) && typeof u.input_tokens_details.cached_tokens === 'number') out.cached = u.input_tokens_details.cached_tokens;
  if (isObj(u.output_tokens_details) && typeof u.output_tokens_details.reasoning_tokens === 'number') out.reasoning = u.output_tokens_details.reasoning_tokens;
  return out;
}

function usageToResponses(u: Partial<Usage>): Record<string, unknown> {
  const input = u.input ?? 0;
  const output = u.output ?? 0;
  return { input_tokens: input, input_tokens_details: { cached_tokens: u.cached ?? 0 }, output_tokens: output, output_tokens_details: { reasoning_tokens: u.reasoning ?? 0 }, total_tokens: input + output };
}

function finishFrom(resp: Record<string, any>, hasTools: boolean): IRFinishReason {
  if (resp.status === 'incomplete') {
    const r = isObj(resp.incomplete_details) ? resp.incomplete_details.reason : undefined;
    return r === 'content_filter' ? 'content_filter' : 'length';
  }
  return hasTools ? 'tool_calls' : 'stop';
}

function parseResponse(body: unknown): IRResponse {
  if (!isObj(body) || !Array.isArray(body.output)) throw invalid('upstream response has no output array');
  const content: IRPart[] = [];
  for (const it of body.output) {
    if (!isObj(it)) continue;
    if (it.type === 'message' && Array.isArray(it.content)) {
      for (const c of it.content) if (isObj(c) && (c.type === 'output_text' || c.type === 'refusal')) content.push({ type: 'text', text: String(c.text ?? c.refusal ?? '') });
    } else if (it.type === 'reasoning') {
      const text = reasoningText(it);
      if (text) content.push({ type: 'reasoning', text });
    } else if (it.type === 'function_call') {
      content.push({ type: 'tool_call', id: String(it.call_id ?? it.id ?? genId('call_')), name: callName(it), arguments: typeof it.arguments === 'string' ? it.arguments : '{}' });
    } else if (it.type === 'custom_tool_call') {
      content.push({ type: 'tool_call', id: String(it.call_id ?? it.id ?? genId('call_')), name: callName(it), arguments: JSON.stringify({ [CUSTOM_TOOL_PARAM]: typeof it.input === 'string' ? it.input : '' }) });
    }
  }
  const u = usageFromResponses(body.usage);
  return {
    id: typeof body.id === 'string' ? body.id : genId('resp_'),
    model: typeof body.model === 'string' ? body.model : '',
    content,
    finish_reason: finishFrom(body, toolCallsOf(content).length > 0),
    usage: u ? { input: u.input ?? 0, cached: u.cached ?? 0, cache_write: 0, output: u.output ?? 0, reasoning: u.reasoning ?? 0 } : null,
  };
}

function responseObject(id: string, req: IRRequest, status: string, output: unknown[], usage: Record<string, unknown> | null, finish: IRFinishReason | null): Record<string, unknown> {
  const incomplete = finish === 'length' || finish === 'content_filter';
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: status === 'completed' && incomplete ? 'incomplete' : status,
    error: null,
    incomplete_details: status === 'completed' && incomplete ? { reason: finish === 'length' ? 'max_output_tokens' : 'content_filter' } : null,
    instructions: null,
    max_output_tokens: req.max_tokens ?? null,
    model: req.model,
    output,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    temperature: req.temperature ?? null,
    tool_choice: req.tool_choice ? (req.tool_choice.type === 'tool' ? { type: 'function', name: req.tool_choice.name } : req.tool_choice.type) : 'auto',
    tools: req.tools.map((t) => (t.custom ? { type: 'custom', name: t.name, description: t.description ?? null } : { type: 'function', name: t.name, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? false })),
    top_p: req.top_p ?? null,
    metadata: {},
    usage,
  };
}

const ITEM_PREFIX = { function: 'fc_', custom: 'ctc_', tool_search: 'tsc_' } as const;

function buildResponse(r: IRResponse, req: IRRequest): unknown {
  const output: unknown[] = [];
  let text = '';
  const flushText = () => {
    if (!text) return;
    output.push({ type: 'message', id: genId('msg_'), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] });
    text = '';
  };
  for (const p of r.content) {
    if (p.type === 'text') text += p.text;
    else if (p.type === 'reasoning') {
      flushText();
      output.push({ type: 'reasoning', id: genId('rs_'), summary: [], content: [{ type: 'reasoning_text', text: p.text }] });
    } else if (p.type === 'tool_call') {
      flushText();
      output.push(callItem(req, { id: genId(ITEM_PREFIX[callForm(req, p.name).kind]), call_id: p.id, name: p.name, args: p.arguments }, 'completed'));
    }
  }
  flushText();
  const id = r.id.startsWith('resp_') ? r.id : `resp_${r.id}`;
  return responseObject(id, req, 'completed', output, r.usage ? usageToResponses(r.usage) : null, r.finish_reason);
}

class ResponsesDecoder implements StreamDecoder {
  done = false;
  private started = false;
  private toolOfOutput = new Map<number, number>();
  private argsSeen = new Set<number>();
  private customInput = new Map<number, string>();
  private tools = 0;
  /** The reasoning summary part last streamed (output index, summary index), to separate the next one. */
  private summaryAt: string | null = null;
  push(_event: string | undefined, data: string): IRStreamEvent[] {
    const ev = JSON.parse(data) as unknown;
    if (!isObj(ev)) throw new Error('event is not a JSON object');
    const out: IRStreamEvent[] = [];
    const oi = typeof ev.output_index === 'number' ? ev.output_index : -1;
    switch (ev.type) {
      case 'response.created':
      case 'response.in_progress':
        if (!this.started && isObj(ev.response)) {
          this.started = true;
          out.push({ type: 'start', id: String(ev.response.id ?? genId('resp_')), model: String(ev.response.model ?? '') });
        }
        break;
      case 'response.output_item.added':
        if (isObj(ev.item)) this.itemAdded(ev.item, oi, out);
        break;
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        if (typeof ev.delta === 'string' && ev.delta) out.push({ type: 'text', text: ev.delta });
        break;
      case 'response.reasoning_text.delta':
      case 'response.reasoning_summary_text.delta':
        this.reasoningDelta(ev, oi, out);
        break;
      case 'response.function_call_arguments.delta': {
        const t = this.toolOfOutput.get(oi);
        if (t !== undefined && typeof ev.delta === 'string' && ev.delta) {
          this.argsSeen.add(t);
          out.push({ type: 'tool_call_args', index: t, arguments: ev.delta });
        }
        break;
      }
      case 'response.custom_tool_call_input.delta':
        if (this.customInput.has(oi) && typeof ev.delta === 'string') this.customInput.set(oi, this.customInput.get(oi)! + ev.delta);
        break;
      case 'response.output_item.done':
        this.itemDone(ev.item, oi, out);
        break;
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        this.finished(ev.type, isObj(ev.response) ? ev.response : {}, out);
        break;
      case 'error':
        out.push({ type: 'error', message: String(ev.message ?? (isObj(ev.error) ? ev.error.message : 'upstream error')), errorType: typeof ev.code === 'string' ? ev.code : undefined });
        break;
      default:
        break;
    }
    return out;
  }
  private itemAdded(item: Record<string, any>, oi: number, out: IRStreamEvent[]): void {
    if (item.type !== 'custom_tool_call' && item.type !== 'function_call') return;
    const t = this.tools++;
    this.toolOfOutput.set(oi, t);
    out.push({ type: 'tool_call_start', index: t, id: String(item.call_id ?? item.id ?? genId('call_')), name: callName(item) });
    if (item.type === 'custom_tool_call') this.customInput.set(oi, '');
    else if (typeof item.arguments === 'string' && item.arguments) {
      this.argsSeen.add(t);
      out.push({ type: 'tool_call_args', index: t, arguments: item.arguments });
    }
  }
  /** Reasoning text; separate summary parts are joined with the text separator, as request parts are. */
  private reasoningDelta(ev: Record<string, any>, oi: number, out: IRStreamEvent[]): void {
    if (typeof ev.delta !== 'string' || !ev.delta) return;
    if (ev.type === 'response.reasoning_summary_text.delta') {
      const at = `${oi}:${String(ev.summary_index ?? 0)}`;
      if (this.summaryAt !== null && this.summaryAt !== at) out.push({ type: 'reasoning', text: TEXT_SEPARATOR });
      this.summaryAt = at;
    }
    out.push({ type: 'reasoning', text: ev.delta });
  }
  private itemDone(item: unknown, oi: number, out: IRStreamEvent[]): void {
    const t = this.toolOfOutput.get(oi);
    if (t === undefined) return;
    if (this.customInput.has(oi)) {
      // A custom tool's free-form input, as the `{"input": ...}` arguments of a function call.
      const input = isObj(item) && typeof item.input === 'string' ? item.input : this.customInput.get(oi)!;
      this.customInput.delete(oi);
      out.push({ type: 'tool_call_args', index: t, arguments: JSON.stringify({ [CUSTOM_TOOL_PARAM]: input }) });
    } else if (!this.argsSeen.has(t) && isObj(item) && typeof item.arguments === 'string' && item.arguments) {
      this.argsSeen.add(t);
      out.push({ type: 'tool_call_args', index: t, arguments: item.arguments });
    }
  }
  private finished(type: string, r: Record<string, any>, out: IRStreamEvent[]): void {
    this.done = true;
    const u = usageFromResponses(r.usage);
    if (u) out.push({ type: 'usage', usage: u });
    if (type === 'response.failed') out.push({ type: 'error', message: isObj(r.error) ? String(r.error.message ?? 'response failed') : 'response failed' });
    else out.push({ type: 'finish', reason: finishFrom(r, this.tools > 0) });
  }
}

type OpenItem =
  | { kind: 'message'; id: string; index: number; text: string }
  | { kind: 'reasoning'; id: string; index: number; text: string }
  | { kind: 'tool'; id: string; index: number; call_id: string; name: string; args: string; form: ReturnType<typeof callForm> };

class ResponsesEncoder implements StreamEncoder {
  private seq = 0;
  private started = false;
  private id = genId('resp_');
  private output: unknown[] = [];
  private open: OpenItem | null = null;
  private tools = new Map<number, OpenItem & { kind: 'tool' }>();
  private finish: IRFinishReason | null = null;
  private usage: Partial<Usage> | null = null;
  private ended = false;
  constructor(private req: IRRequest) {}
  private ev(type: string, data: Record<string, unknown>): string {
    return sse({ type, sequence_number: this.seq++, ...data }, type);
  }
  private start(): string {
    if (this.started) return '';
    this.started = true;
    const r = responseObject(this.id, this.req, 'in_progress', [], null, null);
    return this.ev('response.created', { response: r }) + this.ev('response.in_progress', { response: r });
  }
  private close(): string {
    const it = this.open;
    if (!it) return '';
    this.open = null;
    let s = '';
    let item: Record<string, unknown>;
    if (it.kind === 'message') {
      const part = { type: 'output_text', text: it.text, annotations: [], logprobs: [] };
      s += this.ev('response.output_text.done', { item_id: it.id, output_index: it.index, content_index: 0, text: it.text, logprobs: [] });
      s += this.ev('response.content_part.done', { item_id: it.id, output_index: it.index, content_index: 0, part });
      item = { type: 'message', id: it.id, status: 'completed', role: 'assistant', content: [part] };
    } else if (it.kind === 'reasoning') {
      const part = { type: 'reasoning_text', text: it.text };
      s += this.ev('response.reasoning_text.done', { item_id: it.id, output_index: it.index, content_index: 0, text: it.text });
      s += this.ev('response.content_part.done', { item_id: it.id, output_index: it.index, content_index: 0, part });
      item = { type: 'reasoning', id: it.id, summary: [], content: [part] };
    } else {
      item = callItem(this.req, { id: it.id, call_id: it.call_id, name: it.name, args: it.args }, 'completed');
      if (it.form.kind === 'custom') {
        // The function-call arguments were held back: the input is only known once they are complete.
        const input = customInput(it.args);
        if (input) s += this.ev('response.custom_tool_call_input.delta', { item_id: it.id, output_index: it.index, delta: input });
        s += this.ev('response.custom_tool_call_input.done', { item_id: it.id, output_index: it.index, input });
      } else if (it.form.kind === 'function') {
        s += this.ev('response.function_call_arguments.done', { item_id: it.id, output_index: it.index, name: it.form.name, arguments: it.args });
      }
    }
    this.output[it.index] = item;
    return s + this.ev('response.output_item.done', { output_index: it.index, item });
  }
  private ensure(kind: 'message' | 'reasoning'): string {
    if (this.open?.kind === kind) return '';
    let s = this.close();
    const index = this.output.length;
    const id = genId(kind === 'message' ? 'msg_' : 'rs_');
    this.open = { kind, id, index, text: '' };
    const item = kind === 'message' ? { type: 'message', id, status: 'in_progress', role: 'assistant', content: [] } : { type: 'reasoning', id, summary: [], content: [] };
    this.output.push(item);
    s += this.ev('response.output_item.added', { output_index: index, item });
    const part = kind === 'message' ? { type: 'output_text', text: '', annotations: [], logprobs: [] } : { type: 'reasoning_text', text: '' };
    return s + this.ev('response.content_part.added', { item_id: id, output_index: index, content_index: 0, part });
  }
  push(ev: IRStreamEvent): string {
    if (this.ended) return '';
    let s = ev.type === 'usage' || ev.type === 'finish' || ev.type === 'error' ? '' : this.start();
    switch (ev.type) {
      case 'text':
        if (!ev.text) return s;
        s += this.ensure('message');
        this.open!.kind === 'message' && (this.open!.text += ev.text);
        return s + this.ev('response.output_text.delta', { item_id: this.open!.id, output_index: this.open!.index, content_index: 0, delta: ev.text, logprobs: [] });
      case 'reasoning':
        s += this.ensure('reasoning');
        this.open!.kind === 'reasoning' && (this.open!.text += ev.text);
        return s + this.ev('response.reasoning_text.delta', { item_id: this.open!.id, output_index: this.open!.index, content_index: 0, delta: ev.text });
      case 'tool_call_start': {
        s += this.close();
        const index = this.output.length;
        const form = callForm(this.req, ev.name);
        const it = { kind: 'tool' as const, id: genId(ITEM_PREFIX[form.kind]), index, call_id: ev.id, name: ev.name, args: '', form };
        this.open = it;
        this.tools.set(ev.index, it);
        const item = callItem(this.req, { id: it.id, call_id: ev.id, name: ev.name, args: '' }, 'in_progress');
        this.output.push(item);
        return s + this.ev('response.output_item.added', { output_index: index, item });
      }
      case 'tool_call_args': {
        const it = this.tools.get(ev.index);
        if (!it) return s;
        it.args += ev.arguments;
        // custom and tool-search calls have no argument deltas: their input goes out once complete
        if (it.form.kind !== 'function') return s;
        return s + this.ev('response.function_call_arguments.delta', { item_id: it.id, output_index: it.index, delta: ev.arguments });
      }
      case 'finish':
        this.finish = ev.reason;
        return s;
      case 'usage':
        this.usage = { ...(this.usage ?? {}), ...ev.usage };
        return s;
      case 'error': {
        this.ended = true;
        const type = ev.errorType ?? 'server_error';
        return s + this.ev('error', { code: type, message: ev.message, param: null, error: { type, message: ev.message, code: type } });
      }
      default:
        return s;
    }
  }
  end(): string {
    if (this.ended) return '';
    this.ended = true;
    let s = this.start() + this.close();
    const r = responseObject(this.id, this.req, 'completed', this.output, this.usage ? usageToResponses(this.usage) : null, this.finish);
    s += this.ev(r.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: r });
    return s;
  }
}

export const openaiResponses: Codec = {
  protocol: P,
  path: '/responses',
  parseRequest,
  buildRequest,
  parseResponse,
  buildResponse,
  createDecoder: () => new ResponsesDecoder(),
  createEncoder: (req) => new ResponsesEncoder(req),
  errorBody: openaiErrorBody,
  streamError: (kind, message) => {
    const type = OPENAI_ERROR_TYPES[kind];
    return sse({ type: 'error', code: type, message, param: null, sequence_number: 0, error: { type, message, code: type } }, 'error');
  },
};
