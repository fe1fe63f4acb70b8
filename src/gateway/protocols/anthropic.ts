// Anthropic Messages (POST /v1/messages) ↔ IR.
import type { Protocol, Usage } from '../../core/types.js';
import {
  DEFAULT_MAX_TOKENS,
  type ErrorKind,
  type IRFinishReason,
  type IRMessage,
  type IRPart,
  type IRRequest,
  type IRResponse,
  type IRStreamEvent,
  type IRTool,
  type IRToolChoice,
  effortToBudget,
  fullUsage,
  genId,
  invalid,
  isObj,
  parseArgs,
  toolCallsOf,
  untranslatable,
} from '../ir.js';
import { type Codec, type ParseOptions, type StreamDecoder, type StreamEncoder, sse } from './codec.js';
import { systemMessage, toolMessage, toolsLoadedNote } from './content.js';

const P: Protocol = 'anthropic';

function blocks(content: unknown, where: string): unknown[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) throw invalid(`${where}.content must be a string or an array of content blocks`);
  return content;
}

/** An image block; null for a source only an Anthropic upstream can read (passed through untouched). */
function imagePart(b: Record<string, any>, where: string, opts: ParseOptions): IRPart | null {
  const s = b.source;
  if (!isObj(s)) throw invalid(`${where}.source must be an object`);
  if (s.type === 'base64') return { type: 'image', media_type: String(s.media_type ?? 'image/png'), data: String(s.data ?? '') };
  if (s.type === 'url') return { type: 'image', url: String(s.url ?? '') };
  if (opts.target === P) return null;
  throw untranslatable(`image source of type "${String(s.type)}"`, P, opts.target);
}

function imageBlock(p: Extract<IRPart, { type: 'image' }>): unknown {
  return { type: 'image', source: p.url ? { type: 'url', url: p.url } : { type: 'base64', media_type: p.media_type ?? 'image/png', data: p.data ?? '' } };
}

/** A tool_result's content as parts: text and images; other blocks only pass through to Anthropic. */
function toolResultParts(content: unknown, where: string, opts: ParseOptions): IRPart[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) throw invalid(`${where}.content must be a string or an array`);
  const out: IRPart[] = [];
  const loaded: string[] = [];
  content.forEach((b, j) => {
    if (isObj(b) && b.type === 'text' && typeof b.text === 'string') out.push({ type: 'text', text: b.text });
    else if (isObj(b) && b.type === 'image') {
      const img = imagePart(b, `${where}.content.${j}`, opts);
      if (img) out.push(img);
    } else if (isObj(b) && b.type === 'tool_reference' && typeof b.tool_name === 'string') loaded.push(b.tool_name);
    else if (opts.target !== P) throw untranslatable(`tool_result content of type "${isObj(b) ? String(b.type) : typeof b}"`, P, opts.target);
  });
  // Tool search results (Claude Code's ToolSearch): the tools named join the request's tools.
  if (loaded.length) out.push({ type: 'text', text: toolsLoadedNote(loaded) });
  return out;
}

/** The names of the tools that `tool_reference` blocks in tool results have loaded. */
function referencedTools(messages: unknown[]): Set<string> {
  const names = new Set<string>();
  for (const m of messages) {
    if (!isObj(m) || m.role !== 'user' || !Array.isArray(m.content)) continue;
    for (const b of m.content) {
      if (!isObj(b) || b.type !== 'tool_result' || !Array.isArray(b.content)) continue;
      for (const c of b.content) if (isObj(c) && c.type === 'tool_reference' && typeof c.tool_name === 'string') names.add(c.tool_name);
    }
  }
  return names;
}

/** Tool definitions. Toward other protocols a `defer_loading` tool is offered once a `tool_reference` loaded it. */
function parseTools(tools: unknown, opts: ParseOptions, loaded: Set<string>): IRTool[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalid('tools must be an array');
  const out: IRTool[] = [];
  tools.forEach((t, i) => {
    if (!isObj(t)) throw invalid(`tools[${i}] must be an object`);
    if (t.type !== undefined && t.type !== 'custom') {
      if (opts.target !== P) throw untranslatable(`server tool "${String(t.type)}"`, P, opts.target);
      return;
    }
    if (typeof t.name !== 'string' || !t.name) throw invalid(`tools[${i}].name must be a non-empty string`);
    if (!isObj(t.input_schema)) throw invalid(`tools[${i}].input_schema must be an object`);
    if (t.defer_loading === true && opts.target !== P && !loaded.has(t.name)) return;
    out.push({ name: t.name, description: typeof t.description === 'string' ? t.description : undefined, parameters: t.input_schema, strict: typeof t.strict === 'boolean' ? t.strict : undefined });
  });
  return out;
}

function parseToolChoice(tc: unknown): { choice?: IRToolChoice; parallel?: boolean } {
  if (tc === undefined || tc === null) return {};
  if (!isObj(tc)) throw invalid('tool_choice must be an object');
  const parallel = tc.disable_parallel_tool_use === true ? false : undefined;
  switch (tc.type) {
    case 'auto':
      return { choice: { type: 'auto' }, parallel };
    case 'any':
      return { choice: { type: 'required' }, parallel };
    case 'none':
      return { choice: { type: 'none' }, parallel };
    case 'tool':
      if (typeof tc.name !== 'string') throw invalid('tool_choice.name must be a string');
      return { choice: { type: 'tool', name: tc.name }, parallel };
    default:
      throw invalid('tool_choice.type must be one of auto, any, tool, none');
  }
}

/** The texts of a system prompt: a string or text blocks (`cache_control` and other block fields are dropped). */
function systemTexts(system: unknown, where: string): string[] {
  if (typeof system === 'string') return [system];
  if (!Array.isArray(system)) throw invalid(`${where} must be a string or an array of text blocks`);
  return system.map((b: unknown) => (isObj(b) && typeof b.text === 'string' ? b.text : ''));
}

function parseSystem(system: unknown): IRMessage[] {
  if (system === undefined || system === null) return [];
  return systemMessage(systemTexts(system, 'system'));
}

/** One content block of a message: a part of the turn, a tool message (tool_result), or nothing. */
function parseBlock(b: unknown, role: 'user' | 'assistant', bw: string, opts: ParseOptions): IRPart | IRMessage | null {
  if (!isObj(b) || typeof b.type !== 'string') throw invalid(`${bw} must be an object with a "type"`);
  switch (b.type) {
    case 'text':
      if (typeof b.text !== 'string') throw invalid(`${bw}.text must be a string`);
      return { type: 'text', text: b.text };
    case 'image':
      return imagePart(b, bw, opts);
    case 'tool_result':
      if (role !== 'user') throw invalid(`${bw}: tool_result blocks belong in user messages`);
      if (typeof b.tool_use_id !== 'string') throw invalid(`${bw}.tool_use_id must be a string`);
      return toolMessage(b.tool_use_id, toolResultParts(b.content, bw, opts), b.is_error === true);
    case 'tool_use':
      if (role !== 'assistant') throw invalid(`${bw}: tool_use blocks belong in assistant messages`);
      if (typeof b.id !== 'string' || typeof b.name !== 'string') throw invalid(`${bw}: tool_use needs "id" and "name"`);
      return { type: 'tool_call', id: b.id, name: b.name, arguments: JSON.stringify(b.input ?? {}) };
    case 'thinking':
      if (typeof b.thinking !== 'string') throw invalid(`${bw}.thinking must be a string`);
      return { type: 'reasoning', text: b.thinking, ...(typeof b.signature === 'string' && b.signature ? { signature: b.signature } : {}) };
    case 'redacted_thinking':
      return { type: 'redacted_reasoning', data: String(b.data ?? '') };
    default:
      if (opts.target !== P) throw untranslatable(`content block of type "${b.type}"`, P, opts.target);
      return null;
  }
}

/** A message → IR messages: its tool results first (as tool messages), then the rest of the turn. */
function parseMessage(m: unknown, where: string, opts: ParseOptions): IRMessage[] {
  if (!isObj(m)) throw invalid(`${where} must be an object`);
  // Claude Code sends its system prompt (and reminders) as `role: "system"` messages too; the API takes them.
  if (m.role === 'system') return systemMessage(systemTexts(m.content, `${where}.content`));
  if (m.role !== 'user' && m.role !== 'assistant') throw invalid(`${where}.role must be "user", "assistant" or "system"`);
  if (m.content === undefined) throw invalid(`${where}.content: field required`);
  const role = m.role;
  const out: IRMessage[] = [];
  const parts: IRPart[] = [];
  let results = false;
  blocks(m.content, where).forEach((b, j) => {
    const r = parseBlock(b, role, `${where}.content.${j}`, opts);
    if (r && 'role' in r) {
      out.push(r);
      results = true;
    } else if (r) parts.push(r);
  });
  if (parts.length || !results) out.push({ role, content: parts });
  return out;
}

function parseThinking(t: unknown): IRRequest['reasoning'] {
  if (!isObj(t)) return undefined;
  // No OpenAI effort is derived from a thinking budget: OpenAI endpoints reject reasoning settings for
  // models without reasoning, and Anthropic clients (e.g. Claude Code) ask for thinking by default.
  if (t.type === 'enabled') return { enabled: true, budget_tokens: typeof t.budget_tokens === 'number' ? t.budget_tokens : undefined };
  if (t.type === 'adaptive') return { enabled: true };
  return undefined;
}

function checkRequest(body: unknown, opts: ParseOptions): asserts body is Record<string, any> {
  if (!isObj(body)) throw invalid('request body must be a JSON object');
  if (typeof body.model !== 'string' || !body.model) throw invalid('model: field required (a non-empty string)');
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) throw invalid('max_tokens: field required (a positive integer)');
  if (!Array.isArray(body.messages)) throw invalid('messages: field required (an array)');
  if (body.messages.length === 0) throw invalid('messages: at least one message is required');
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw invalid('stream must be a boolean');
  if (body.stop_sequences !== undefined && !Array.isArray(body.stop_sequences)) throw invalid('stop_sequences must be an array of strings');
  for (const k of ['temperature', 'top_p'] as const)
    if (body[k] !== undefined && (typeof body[k] !== 'number' || !Number.isFinite(body[k]))) throw invalid(`${k} must be a number`);
  // MCP servers are tools the Anthropic upstream connects to and runs; no other upstream can.
  if (opts.target !== P && Array.isArray(body.mcp_servers) && body.mcp_servers.length) throw untranslatable('mcp_servers', P, opts.target);
}

function parseRequest(body: unknown, opts: ParseOptions): IRRequest {
  checkRequest(body, opts);
  const messages = parseSystem(body.system);
  body.messages.forEach((m: unknown, i: number) => messages.push(...parseMessage(m, `messages.${i}`, opts)));
  const { choice, parallel } = parseToolChoice(body.tool_choice);
  return {
    model: body.model,
    messages,
    tools: parseTools(body.tools, opts, opts.target === P ? new Set() : referencedTools(body.messages)),
    tool_choice: choice,
    parallel_tool_calls: parallel,
    max_tokens: body.max_tokens,
    temperature: body.temperature,
    top_p: body.top_p,
    stop: Array.isArray(body.stop_sequences) ? body.stop_sequences.filter((s: unknown): s is string => typeof s === 'string') : undefined,
    stream: body.stream === true,
    reasoning: parseThinking(body.thinking),
    user: isObj(body.metadata) && typeof body.metadata.user_id === 'string' ? body.metadata.user_id : undefined,
  };
}

/** The system prompt: one string, or text blocks when there are several (blocks or system messages). */
function buildSystem(ir: IRRequest): string | unknown[] | undefined {
  const pieces = ir.messages.flatMap((m) => (m.role === 'system' ? (m.blocks ?? [m.text]) : [])).filter((t) => t !== '');
  if (pieces.length <= 1) return pieces[0];
  return pieces.map((text) => ({ type: 'text', text }));
}

function toolResultBlock(m: Extract<IRMessage, { role: 'tool' }>): unknown {
  const parts = m.parts;
  const content = parts ? parts.flatMap((p) => (p.type === 'text' ? [{ type: 'text', text: p.text }] : p.type === 'image' ? [imageBlock(p)] : [])) : m.content;
  return { type: 'tool_result', tool_use_id: m.tool_call_id, content, ...(m.is_error ? { is_error: true } : {}) };
}

function assistantBlocks(parts: IRPart[]): unknown[] {
  const content: unknown[] = [];
  for (const p of parts) {
    // Thinking without Anthropic's signature cannot be sent back (the API rejects it): dropped.
    if (p.type === 'reasoning' && p.signature) content.push({ type: 'thinking', thinking: p.text, signature: p.signature });
    else if (p.type === 'redacted_reasoning') content.push({ type: 'redacted_thinking', data: p.data });
    else if (p.type === 'text' && p.text) content.push({ type: 'text', text: p.text });
    else if (p.type === 'tool_call') content.push({ type: 'tool_use', id: p.id, name: p.name, input: parseArgs(p.arguments, `tool call ${p.id}`) });
  }
  return content;
}

/** Messages in alternating turns: consecutive messages of one role (tool results are user) merge. */
function buildMessages(ir: IRRequest): { role: 'user' | 'assistant'; content: unknown[] }[] {
  const out: { role: 'user' | 'assistant'; content: unknown[] }[] = [];
  const push = (role: 'user' | 'assistant', content: unknown[]) => {
    if (!content.length) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...content);
    else out.push({ role, content });
  };
  for (const m of ir.messages) {
    if (m.role === 'tool') push('user', [toolResultBlock(m)]);
    else if (m.role === 'user') push('user', m.content.flatMap((p): unknown[] => (p.type === 'text' ? (p.text ? [{ type: 'text', text: p.text }] : []) : p.type === 'image' ? [imageBlock(p)] : [])));
    else if (m.role === 'assistant') push('assistant', assistantBlocks(m.content));
  }
  return out;
}

function buildToolChoice(ir: IRRequest): Record<string, unknown> | undefined {
  if (!ir.tools.length || (!ir.tool_choice && ir.parallel_tool_calls !== false)) return undefined;
  const tc = ir.tool_choice ?? { type: 'auto' };
  const base: Record<string, unknown> = tc.type === 'tool' ? { type: 'tool', name: tc.name } : { type: tc.type === 'required' ? 'any' : tc.type };
  if (ir.parallel_tool_calls === false && tc.type !== 'none') base.disable_parallel_tool_use = true;
  return base;
}

/**
 * Thinking cannot be combined with a forced tool choice (the forced tool wins), and with thinking on
 * Anthropic accepts only the default temperature and top_p >= 0.95 (so those are left out).
 */
function applyThinking(ir: IRRequest, body: Record<string, unknown>): void {
  const forced = body.tool_choice !== undefined && ['any', 'tool'].includes((body.tool_choice as { type: string }).type);
  if (!ir.reasoning || ir.reasoning.enabled === false || forced) return;
  const budget = Math.min(ir.reasoning.budget_tokens ?? effortToBudget(ir.reasoning.effort), (body.max_tokens as number) - 1);
  if (budget < 1024) return;
  body.thinking = { type: 'enabled', budget_tokens: budget };
  delete body.temperature;
  if (typeof body.top_p === 'number' && body.top_p < 0.95) delete body.top_p;
}

function buildRequest(ir: IRRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { max_tokens: ir.max_tokens ?? DEFAULT_MAX_TOKENS, messages: buildMessages(ir) };
  const system = buildSystem(ir);
  if (system !== undefined) body.system = system;
  if (ir.tools.length) body.tools = ir.tools.map((t) => ({ name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), input_schema: isObj(t.parameters) ? t.parameters : { type: 'object', properties: {} } }));
  const tc = buildToolChoice(ir);
  if (tc) body.tool_choice = tc;
  if (ir.temperature !== undefined) body.temperature = ir.temperature;
  if (ir.top_p !== undefined) body.top_p = ir.top_p;
  if (ir.stop?.length) body.stop_sequences = ir.stop;
  applyThinking(ir, body);
  if (ir.user) body.metadata = { user_id: ir.user };
  body.stream = ir.stream;
  return body;
}

const STOP_IN: Record<string, IRFinishReason> = { end_turn: 'stop', max_tokens: 'length', tool_use: 'tool_calls', stop_sequence: 'stop_sequence', refusal: 'refusal', pause_turn: 'pause', model_context_window_exceeded: 'length' };

function stopOut(r: IRFinishReason | null, hasTools: boolean): string {
  if (hasTools && (r === null || r === 'stop' || r === 'tool_calls')) return 'tool_use';
  switch (r) {
    case 'length':
      return 'max_tokens';
    case 'stop_sequence':
      return 'stop_sequence';
    case 'content_filter':
    case 'refusal':
      return 'refusal';
    case 'pause':
      return 'pause_turn';
    default:
      return 'end_turn';
  }
}

/** Anthropic's usage fields as last reported (message_delta totals override message_start's). */
interface RawUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
  thinking_tokens?: number;
}

function mergeRaw(into: RawUsage, u: unknown): void {
  if (!isObj(u)) return;
  for (const k of ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'] as const) if (typeof u[k] === 'number') into[k] = u[k];
  if (isObj(u.output_tokens_details) && typeof u.output_tokens_details.thinking_tokens === 'number') into.thinking_tokens = u.output_tokens_details.thinking_tokens;
}

function usageFromRaw(r: RawUsage): Partial<Usage> {
  const out: Partial<Usage> = {};
  if (r.input_tokens !== undefined || r.cache_read_input_tokens !== undefined || r.cache_creation_input_tokens !== undefined) {
    out.input = (r.input_tokens ?? 0) + (r.cache_read_input_tokens ?? 0) + (r.cache_creation_input_tokens ?? 0);
    out.cached = r.cache_read_input_tokens ?? 0;
    out.cache_write = r.cache_creation_input_tokens ?? 0;
  }
  if (r.output_tokens !== undefined) out.output = r.output_tokens;
  if (r.thinking_tokens !== undefined) out.reasoning = r.thinking_tokens;
  return out;
}

/**
 * IR usage → Anthropic's: input excludes cache reads and writes; reasoning tokens are
 * `output_tokens_details.thinking_tokens`. `onlyKnown`: leave out the input fields when no input count
 * was reported (message_delta, where the SDK keeps message_start's value for an absent field).
 */
function usageToAnthropic(u: Partial<Usage>, onlyKnown = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!onlyKnown || u.input !== undefined) {
    const cached = u.cached ?? 0;
    const cw = u.cache_write ?? 0;
    Object.assign(out, { input_tokens: Math.max(0, (u.input ?? 0) - cached - cw), cache_read_input_tokens: cached, cache_creation_input_tokens: cw });
  }
  out.output_tokens = u.output ?? 0;
  if (u.reasoning !== undefined) out.output_tokens_details = { thinking_tokens: u.reasoning };
  return out;
}

function parseResponse(body: unknown): IRResponse {
  if (!isObj(body) || !Array.isArray(body.content)) throw invalid('upstream message has no content array');
  const content: IRPart[] = [];
  for (const b of body.content) {
    if (!isObj(b)) continue;
    if (b.type === 'text' && typeof b.text === 'string') content.push({ type: 'text', text: b.text });
    else if (b.type === 'thinking') content.push({ type: 'reasoning', text: String(b.thinking ?? ''), ...(typeof b.signature === 'string' && b.signature ? { signature: b.signature } : {}) });
    else if (b.type === 'redacted_thinking') content.push({ type: 'redacted_reasoning', data: String(b.data ?? '') });
    else if (b.type === 'tool_use') content.push({ type: 'tool_call', id: String(b.id ?? genId('toolu_')), name: String(b.name ?? ''), arguments: JSON.stringify(b.input ?? {}) });
  }
  const raw: RawUsage = {};
  mergeRaw(raw, body.usage);
  const u = isObj(body.usage) ? usageFromRaw(raw) : null;
  return {
    id: typeof body.id === 'string' ? body.id : genId('msg_'),
    model: typeof body.model === 'string' ? body.model : '',
    content,
    finish_reason: typeof body.stop_reason === 'string' ? (STOP_IN[body.stop_reason] ?? 'stop') : null,
    usage: u ? fullUsage(u) : null,
  };
}

function safeInput(args: string): unknown {
  try {
    const v = JSON.parse(args || '{}');
    return isObj(v) ? v : {};
  } catch {
    return {};
  }
}

function buildResponse(r: IRResponse, req: IRRequest): unknown {
  const content: unknown[] = [];
  for (const p of r.content) {
    if (p.type === 'text') content.push({ type: 'text', text: p.text });
    else if (p.type === 'reasoning') content.push({ type: 'thinking', thinking: p.text, signature: p.signature ?? '' });
    else if (p.type === 'redacted_reasoning') content.push({ type: 'redacted_thinking', data: p.data });
    else if (p.type === 'tool_call') content.push({ type: 'tool_use', id: p.id, name: p.name, input: safeInput(p.arguments) });
  }
  return {
    id: r.id.startsWith('msg_') ? r.id : `msg_${r.id}`,
    type: 'message',
    role: 'assistant',
    model: req.model,
    content,
    stop_reason: stopOut(r.finish_reason, toolCallsOf(r.content).length > 0),
    stop_sequence: null,
    usage: usageToAnthropic(r.usage ?? {}),
  };
}

class AnthropicDecoder implements StreamDecoder {
  done = false;
  private raw: RawUsage = {};
  private toolOfBlock = new Map<number, number>();
  private tools = 0;
  push(event: string | undefined, data: string): IRStreamEvent[] {
    const ev = JSON.parse(data) as unknown;
    if (!isObj(ev)) throw new Error('event is not a JSON object');
    const type = typeof ev.type === 'string' ? ev.type : event;
    const out: IRStreamEvent[] = [];
    switch (type) {
      case 'message_start': {
        const m = isObj(ev.message) ? ev.message : {};
        out.push({ type: 'start', id: String(m.id ?? genId('msg_')), model: String(m.model ?? '') });
        if (isObj(m.usage)) {
          mergeRaw(this.raw, m.usage);
          out.push({ type: 'usage', usage: usageFromRaw(this.raw) });
        }
        break;
      }
      case 'content_block_start': {
        const b = isObj(ev.content_block) ? ev.content_block : {};
        const idx = typeof ev.index === 'number' ? ev.index : -1;
        if (b.type === 'text' && typeof b.text === 'string' && b.text) out.push({ type: 'text', text: b.text });
        else if (b.type === 'thinking' && typeof b.thinking === 'string' && b.thinking) out.push({ type: 'reasoning', text: b.thinking });
        else if (b.type === 'redacted_thinking') out.push({ type: 'redacted_reasoning', data: String(b.data ?? '') });
        else if (b.type === 'tool_use') {
          const t = this.tools++;
          this.toolOfBlock.set(idx, t);
          out.push({ type: 'tool_call_start', index: t, id: String(b.id ?? genId('toolu_')), name: String(b.name ?? '') });
          if (isObj(b.input) && Object.keys(b.input).length) out.push({ type: 'tool_call_args', index: t, arguments: JSON.stringify(b.input) });
        }
        break;
      }
      case 'content_block_delta': {
        const d = isObj(ev.delta) ? ev.delta : {};
        if (d.type === 'text_delta' && typeof d.text === 'string') out.push({ type: 'text', text: d.text });
        else if (d.type === 'thinking_delta' && typeof d.thinking === 'string') out.push({ type: 'reasoning', text: d.thinking });
        else if (d.type === 'signature_delta' && typeof d.signature === 'string') out.push({ type: 'reasoning_signature', signature: d.signature });
        else if (d.type === 'input_json_delta' && typeof d.partial_json === 'string' && d.partial_json) {
          const t = this.toolOfBlock.get(typeof ev.index === 'number' ? ev.index : -1);
          if (t !== undefined) out.push({ type: 'tool_call_args', index: t, arguments: d.partial_json });
        }
        break;
      }
      case 'message_delta': {
        const d = isObj(ev.delta) ? ev.delta : {};
        if (typeof d.stop_reason === 'string') out.push({ type: 'finish', reason: STOP_IN[d.stop_reason] ?? 'stop' });
        if (isObj(ev.usage)) {
          mergeRaw(this.raw, ev.usage);
          out.push({ type: 'usage', usage: usageFromRaw(this.raw) });
        }
        break;
      }
      case 'message_stop':
        this.done = true;
        break;
      case 'error': {
        const e = isObj(ev.error) ? ev.error : {};
        out.push({ type: 'error', message: String(e.message ?? 'upstream error'), errorType: typeof e.type === 'string' ? e.type : undefined });
        break;
      }
      default:
        break; // ping, content_block_stop, unknown future events
    }
    return out;
  }
}

class AnthropicEncoder implements StreamEncoder {
  private started = false;
  private id = genId('msg_');
  private next = 0;
  /** The block index currently open and its kind. */
  private open: { index: number; kind: 'text' | 'thinking' | 'tool' } | null = null;
  private toolBlock = new Map<number, number>();
  private finish: IRFinishReason | null = null;
  private usage: Partial<Usage> = {};
  private hasTools = false;
  private ended = false;
  constructor(private req: IRRequest) {}
  private startMsg(): string {
    if (this.started) return '';
    this.started = true;
    return sse(
      { type: 'message_start', message: { id: this.id, type: 'message', role: 'assistant', model: this.req.model, content: [], stop_reason: null, stop_sequence: null, usage: usageToAnthropic(this.usage) } },
      'message_start',
    );
  }
  private close(): string {
    if (!this.open) return '';
    const s = sse({ type: 'content_block_stop', index: this.open.index }, 'content_block_stop');
    this.open = null;
    return s;
  }
  private ensure(kind: 'text' | 'thinking'): string {
    if (this.open?.kind === kind) return '';
    let s = this.close();
    const index = this.next++;
    this.open = { index, kind };
    const block = kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
    s += sse({ type: 'content_block_start', index, content_block: block }, 'content_block_start');
    return s;
  }
  private delta(index: number, delta: unknown): string {
    return sse({ type: 'content_block_delta', index, delta }, 'content_block_delta');
  }
  push(ev: IRStreamEvent): string {
    if (this.ended) return '';
    let s = ev.type === 'usage' || ev.type === 'finish' || ev.type === 'error' ? '' : this.startMsg();
    switch (ev.type) {
      case 'text':
        if (!ev.text) return s;
        s += this.ensure('text');
        return s + this.delta(this.open!.index, { type: 'text_delta', text: ev.text });
      case 'reasoning':
        s += this.ensure('thinking');
        return s + this.delta(this.open!.index, { type: 'thinking_delta', thinking: ev.text });
      case 'reasoning_signature':
        s += this.ensure('thinking');
        return s + this.delta(this.open!.index, { type: 'signature_delta', signature: ev.signature });
      case 'redacted_reasoning': {
        s += this.close();
        const index = this.next++;
        s += sse({ type: 'content_block_start', index, content_block: { type: 'redacted_thinking', data: ev.data } }, 'content_block_start');
        return s + sse({ type: 'content_block_stop', index }, 'content_block_stop');
      }
      case 'tool_call_start': {
        this.hasTools = true;
        s += this.close();
        const index = this.next++;
        this.toolBlock.set(ev.index, index);
        this.open = { index, kind: 'tool' };
        return s + sse({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: ev.id, name: ev.name, input: {} } }, 'content_block_start');
      }
      case 'tool_call_args': {
        const index = this.toolBlock.get(ev.index);
        if (index === undefined) return s;
        return s + this.delta(index, { type: 'input_json_delta', partial_json: ev.arguments });
      }
      case 'finish':
        this.finish = ev.reason;
        return s;
      case 'usage':
        Object.assign(this.usage, ev.usage);
        return s;
      case 'error':
        this.ended = true;
        return s + anthropicStreamError(ev.errorType ?? 'api_error', ev.message);
      default:
        return s;
    }
  }
  end(): string {
    if (this.ended) return '';
    this.ended = true;
    let s = this.startMsg() + this.close();
    s += sse({ type: 'message_delta', delta: { stop_reason: stopOut(this.finish, this.hasTools), stop_sequence: null }, usage: usageToAnthropic(this.usage, true) }, 'message_delta');
    return s + sse({ type: 'message_stop' }, 'message_stop');
  }
}

export const ANTHROPIC_ERROR_TYPES: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  budget: 'permission_error',
  upstream: 'api_error',
  overloaded: 'overloaded_error',
  timeout: 'timeout_error',
};

function anthropicStreamError(type: string, message: string): string {
  return sse({ type: 'error', error: { type, message } }, 'error');
}

export const anthropic: Codec = {
  protocol: P,
  path: '/messages',
  parseRequest,
  buildRequest,
  parseResponse,
  buildResponse,
  createDecoder: () => new AnthropicDecoder(),
  createEncoder: (req) => new AnthropicEncoder(req),
  errorBody: (kind, message) => ({ type: 'error', error: { type: ANTHROPIC_ERROR_TYPES[kind], message } }),
  streamError: (kind, message) => anthropicStreamError(ANTHROPIC_ERROR_TYPES[kind], message),
};
