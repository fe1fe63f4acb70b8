// The harness's state as a pure function of the trajectory. `ConversationState.apply` folds one event
// into the conversation (the IR messages the next request sends), the budget, and the bookkeeping of
// the turn in progress. The live loop feeds it every event as it is appended (log.onEvent); a resume
// feeds it the events already in the log first. Both take the same path, so a resumed rollout sees
// exactly the conversation an uninterrupted one would have (up to the times in the budget lines).
import type { AssistantEvent, ContextCompactedEvent, ToolCallRef, ToolResultEvent, TrajectoryEvent } from '../../core/events.js';
import type { Limits, ModelEndpoint } from '../../core/types.js';
import type { IRMessage, IRPart } from '../../gateway/ir.js';
import { BudgetTracker } from './budget.js';
import { messageTokens } from './context.js';
import { NUDGE, SUMMARY_HEADER, SYSTEM_PROMPT } from './settings.js';

/** Extra fields the outlast harness writes on `assistant` events: reasoning blocks with their signatures. */
export interface OutlastAssistantFields {
  /** Present when a block carries an Anthropic signature (or is redacted): sent back verbatim. */
  reasoning_blocks?: ({ text: string; signature?: string } | { redacted: string })[];
}

/** Extra fields the outlast harness writes on `context.compacted` events, so replay can rebuild the conversation. */
export interface OutlastCompactedFields {
  summary: string;
  /** Messages from events with seq ≥ this are kept verbatim (the start of a turn). */
  keep_from_seq: number;
}

interface Msg {
  ir: IRMessage;
  /** Seq of the event the message comes from (a turn's messages share its assistant event's seq or later). */
  seq: number;
  tokens: number;
}

interface OpenTurn {
  seq: number;
  calls: ToolCallRef[];
  started: Set<string>;
  done: Set<string>;
}

export interface PendingCall {
  call: ToolCallRef;
  /** The call's tool.call was logged but not its result: it was in flight at a crash. */
  repeat: boolean;
}

export class ConversationState {
  readonly budget: BudgetTracker;
  /** System prompt and the task's instruction (with the limits): never compacted. */
  readonly head: Msg[];
  summary: Msg | null = null;
  msgs: Msg[] = [];
  /** Estimated tokens of `msgs`, kept as they change (so the per-turn compaction check is O(1)). */
  private msgsTokens = 0;
  /** What messages() returns, appended to; null until asked for, and after a compaction. */
  private sent: IRMessage[] | null = null;
  /** Consecutive replies without a tool call. */
  idle = 0;
  submitted = false;
  /** Tool calls made (a repeated in-flight call counts once). */
  toolCalls = 0;
  compactions = 0;
  /** Notes logged since the last reply or tool event (so a resume does not repeat the closing notes). */
  private notes: string[] = [];
  private open: OpenTurn | null = null;
  private readonly keepReasoning: boolean;

  constructor(instruction: string, limits: Limits, endpoint: ModelEndpoint | undefined) {
    this.budget = new BudgetTracker(limits);
    this.keepReasoning = keepsReasoning(endpoint);
    const user: IRMessage = { role: 'user', content: [{ type: 'text', text: `${instruction.trimEnd()}\n\n${this.budget.intro()}` }] };
    const sys: IRMessage = { role: 'system', text: SYSTEM_PROMPT };
    this.head = [sys, user].map((ir) => ({ ir, seq: -1, tokens: messageTokens(ir) }));
  }

  get turns(): number {
    return this.budget.turns;
  }

  /**
   * The messages of the next request. The same array from one call to the next while the
   * conversation only grows (appended to as messages come; a new one after a compaction), so asking
   * costs nothing per turn and the wire builder sees at once what is new. Never change it.
   */
  messages(): readonly IRMessage[] {
    if (!this.sent) {
      this.sent = this.head.map((m) => m.ir);
      if (this.summary) this.sent.push(this.summary.ir);
      for (const m of this.msgs) this.sent.push(m.ir);
    }
    return this.sent;
  }

  /** Estimated tokens of the next request's messages. */
  tokens(): number {
    let n = this.msgsTokens;
    for (const m of this.head) n += m.tokens;
    if (this.summary) n += this.summary.tokens;
    return n;
  }

  /** Tool calls of the latest turn that have no result yet, in order. */
  pending(): PendingCall[] {
    const o = this.open;
    if (!o) return [];
    return o.calls.filter((c) => !o.done.has(c.id)).map((call) => ({ call, repeat: o.started.has(call.id) }));
  }

  /** Whether a note starting with `prefix` was logged since the last reply or tool event. */
  noted(prefix: string): boolean {
    return this.notes.some((m) => m.startsWith(prefix));
  }

  apply(e: TrajectoryEvent): void {
    this.budget.observe(e);
    if (e.type === 'note') this.notes.push(e.message);
    else if (e.type === 'assistant' || e.type === 'tool.call' || e.type === 'tool.result' || e.type === 'context.compacted') this.notes = [];
    switch (e.type) {
      case 'assistant':
        this.onAssistant(e as AssistantEvent & OutlastAssistantFields);
        break;
      case 'tool.call':
        if (!e.repeated) this.toolCalls++;
        this.open?.started.add(e.call_id);
        break;
      case 'tool.result':
        this.onResult(e);
        break;
      case 'context.compacted':
        this.onCompacted(e as ContextCompactedEvent & Partial<OutlastCompactedFields>);
        break;
      default:
        break;
    }
  }

  private push(ir: IRMessage, seq: number): void {
    const tokens = messageTokens(ir);
    this.msgs.push({ ir, seq, tokens });
    this.msgsTokens += tokens;
    this.sent?.push(ir);
  }

  private onAssistant(e: AssistantEvent & OutlastAssistantFields): void {
    const content: IRPart[] = [];
    if (e.reasoning_blocks) {
      for (const b of e.reasoning_blocks) content.push('redacted' in b ? { type: 'redacted_reasoning', data: b.redacted } : { type: 'reasoning', text: b.text, ...(b.signature ? { signature: b.signature } : {}) });
    } else if (e.reasoning && this.keepReasoning) content.push({ type: 'reasoning', text: e.reasoning });
    if (e.text) content.push({ type: 'text', text: e.text });
    for (const c of e.tool_calls) content.push({ type: 'tool_call', id: c.id, name: c.name, arguments: argumentsText(c.arguments) });
    this.push({ role: 'assistant', content }, e.seq);
    if (e.tool_calls.length === 0) {
      this.idle++;
      this.open = null;
      this.push({ role: 'user', content: [{ type: 'text', text: withLine(NUDGE, this.budget.line(Date.parse(e.t))) }] }, e.seq);
    } else {
      this.idle = 0;
      this.open = { seq: e.seq, calls: e.tool_calls, started: new Set(), done: new Set() };
    }
  }

  private onResult(e: ToolResultEvent): void {
    const o = this.open;
    if (o) o.done.add(e.call_id);
    if (e.name === 'submit' && e.exit_code === 0) this.submitted = true;
    const last = !o || o.calls.every((c) => o.done.has(c.id));
    let text = resultText(e);
    if (last) {
      text = withLine(text, this.budget.line(Date.parse(e.t)));
      this.open = null;
    }
    this.push({ role: 'tool', tool_call_id: e.call_id, content: text, ...(e.exit_code !== 0 && e.error ? { is_error: true } : {}) }, e.seq);
  }

  private onCompacted(e: ContextCompactedEvent & Partial<OutlastCompactedFields>): void {
    if (typeof e.summary !== 'string' || typeof e.keep_from_seq !== 'number') return; // not written by this harness
    this.compactions++;
    const keep = e.keep_from_seq;
    this.msgs = this.msgs.filter((m) => m.seq >= keep);
    this.msgsTokens = this.msgs.reduce((n, m) => n + m.tokens, 0);
    this.sent = null;
    const ir: IRMessage = { role: 'user', content: [{ type: 'text', text: `${SUMMARY_HEADER}\n\n${e.summary}` }] };
    this.summary = { ir, seq: e.seq, tokens: messageTokens(ir) };
  }
}

const NO_EXIT_CODE = new Set(['read_file', 'write_file', 'edit_file', 'list_files', 'submit']);

/** What the model sees of a tool result: its output, and for commands (bash, task tools) the exit status. */
export function resultText(e: ToolResultEvent): string {
  let s = e.output;
  if (NO_EXIT_CODE.has(e.name) && e.exit_code !== null && !e.timed_out) return s;
  if (e.timed_out) s += `${s && !s.endsWith('\n') ? '\n' : ''}[timed out after ${Math.round(e.duration_ms / 1000)}s; the command was killed]`;
  else s += `${s && !s.endsWith('\n') ? '\n' : ''}[exit code ${e.exit_code ?? 'none (killed)'}]`;
  return s;
}

function withLine(text: string, line: string): string {
  return line ? `${text}\n${line}` : text;
}

/**
 * Tool-call arguments as JSON text: the parsed object re-serialized. Arguments that were not a JSON
 * object (recorded as their raw text) go back wrapped as `{"invalid_json": "<text>"}`, since Anthropic
 * only takes objects; the tool result already told the model they were invalid.
 */
export function argumentsText(args: unknown): string {
  return JSON.stringify(typeof args === 'string' ? { invalid_json: args } : (args ?? {}));
}

/** Arguments as recorded on events: parsed JSON when it parses to an object, else the raw text. */
export function parseArguments(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : text;
  } catch {
    return text;
  }
}

/**
 * Whether plain (unsigned) reasoning goes back in later turns. Anthropic's signed thinking always goes
 * back (see OutlastAssistantFields); other reasoning only where the endpoint asks for it with
 * `preserve_thinking` in its extra_params (e.g. Qwen), since most OpenAI-style APIs reject or ignore it.
 */
function keepsReasoning(endpoint: ModelEndpoint | undefined): boolean {
  const v = endpoint?.extra_params?.preserve_thinking;
  return v === true || v === 'true';
}
