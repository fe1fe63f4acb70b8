// Context management: token accounting per message, the compaction decision, and the plan of what a
// compaction summarises and what it keeps verbatim. The summary call and the `context.compacted`
// event are made by the loop; replaying that event (state.ts) rebuilds the compacted conversation.
import type { NewEvent } from '../../core/events.js';
import type { IRMessage, IRTool } from '../../gateway/ir.js';
import { SUMMARY_HEADER, SUMMARY_PROMPT } from './settings.js';
import type { ConversationState, OutlastCompactedFields } from './state.js';

/** Estimated tokens of a message: about 4 characters of its JSON per token (conservative for prose and code). */
export function messageTokens(m: IRMessage): number {
  let chars = 8;
  if (m.role === 'system') chars += m.text.length;
  else if (m.role === 'tool') chars += m.content.length + m.tool_call_id.length;
  else
    for (const p of m.content) {
      if (p.type === 'text' || p.type === 'reasoning') chars += p.text.length;
      else if (p.type === 'tool_call') chars += p.name.length + p.arguments.length + p.id.length;
      else if (p.type === 'redacted_reasoning') chars += p.data.length;
      else chars += 1000; // images
    }
  return Math.ceil(chars / 4);
}

export function toolsTokens(tools: IRTool[]): number {
  return Math.ceil(JSON.stringify(tools).length / 4);
}

export interface CompactionPlan {
  /** Messages from events with seq ≥ this stay verbatim. */
  keep_from_seq: number;
  /** Replies (turns) whose messages get summarised. */
  turns_summarized: number;
  /** Forced by a request refused as too long. */
  overflow: boolean;
}

/**
 * Whether the next request (messages + tools + room for the reply) would pass `threshold` of the
 * window, and if so what to keep: the most recent `keepTurns` turns (fewer when those alone are too
 * big), cut at a turn boundary so no tool result is separated from its call. With `overflow` (the last
 * request was refused as too long) it compacts whatever the estimate says, keeping half as many turns.
 * Null when nothing can be summarised.
 */
export function planCompaction(state: ConversationState, toolTokens: number, replyTokens: number, window: number | undefined, threshold: number, keepTurns: number, overflow = false): CompactionPlan | null {
  const limit = overflow ? 0 : (window ?? Infinity) * threshold;
  if (!overflow && state.tokens() + toolTokens + replyTokens <= limit) return null;
  // Turn starts: messages from an assistant event begin a turn.
  const starts: number[] = [];
  for (let i = 0; i < state.msgs.length; i++) if (state.msgs[i]!.ir.role === 'assistant') starts.push(i);
  if (starts.length < 2) return null;
  let keep = Math.min(overflow ? Math.max(1, Math.floor(keepTurns / 2)) : keepTurns, starts.length - 1);
  const headTokens = state.head.reduce((n, m) => n + m.tokens, 0);
  const tailTokens = (k: number) => state.msgs.slice(starts[starts.length - k]!).reduce((n, m) => n + m.tokens, 0);
  // Leave room for the summary itself (about a tenth of the budget); keep fewer turns if they do not fit.
  while (!overflow && keep > 1 && headTokens + tailTokens(keep) + toolTokens + replyTokens > limit * 0.9) keep--;
  const firstKept = starts[starts.length - keep]!;
  return { keep_from_seq: state.msgs[firstKept]!.seq, turns_summarized: starts.length - keep, overflow };
}

/**
 * The summary request: the whole conversation then the summary prompt (its prefix is the cached
 * prefix of the last request). After an overflow, only what is being summarised, so that it fits.
 */
export function summaryMessages(state: ConversationState, plan: CompactionPlan): IRMessage[] {
  if (!plan.overflow) return [...state.messages(), summaryRequest()];
  const out = state.head.map((m) => m.ir);
  if (state.summary) out.push(state.summary.ir);
  for (const m of state.msgs) if (m.seq < plan.keep_from_seq) out.push(m.ir);
  out.push(summaryRequest());
  return out;
}

/** Whether a refused request was refused for its length (then compacting may help). */
export function isOverflow(status: number | null, message: string): boolean {
  return status === 413 || /context (length|window)|too long|too many tokens|maximum context|exceeds? the (context|maximum)/i.test(message);
}

/** The request's last message when asking for a summary. */
function summaryRequest(): IRMessage {
  return { role: 'user', content: [{ type: 'text', text: SUMMARY_PROMPT }] };
}

/** The `context.compacted` event for a plan and the model's summary (replaying it compacts the conversation). */
export function compactedEvent(state: ConversationState, plan: CompactionPlan, text: string, toolTokens: number): NewEvent {
  const summary = text.trim() || '(no summary was given)';
  const before = state.tokens() + toolTokens;
  let after = toolTokens + messageTokens({ role: 'user', content: [{ type: 'text', text: `${SUMMARY_HEADER}\n\n${summary}` }] });
  for (const m of state.head) after += m.tokens;
  for (const m of state.msgs) if (m.seq >= plan.keep_from_seq) after += m.tokens;
  const fields: OutlastCompactedFields = { summary, keep_from_seq: plan.keep_from_seq };
  return { type: 'context.compacted', tokens_before: before, tokens_after: after, turns_summarized: plan.turns_summarized, ...fields } as NewEvent;
}
