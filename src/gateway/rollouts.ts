// Per-rollout state in the gateway: token, trajectory, budget and what has been spent, and the
// reasoning-signature cache that lets Anthropic thinking survive a round trip through a client
// protocol that has no place for signatures.
import { createHash, randomBytes } from 'node:crypto';
import type { ModelResponseEvent, NewEvent, TrajectoryEvent } from '../core/events.js';
import { totalTokens } from '../core/usage.js';
import { type TrajectoryWriter, readTrajectory } from '../store/trajectory.js';
import type { IRMessage, IRPart } from './ir.js';

export interface Budget {
  /** Total tokens (input + output) across the rollout's calls. */
  tokens?: number;
  cost_usd?: number;
  /** Model calls (forwarded calls that did not fail for infrastructure reasons). */
  calls?: number;
}

export interface Spent {
  tokens: number;
  cost_usd: number;
  calls: number;
}

/** Whether a `model.response` counts as a call against the `calls` budget. */
export function countsAsCall(e: ModelResponseEvent): boolean {
  return !e.error?.infra;
}

/** What the `model.response` events of a trajectory add up to. */
export function spentFrom(events: readonly TrajectoryEvent[]): Spent {
  const s: Spent = { tokens: 0, cost_usd: 0, calls: 0 };
  for (const e of events) if (e.type === 'model.response') addSpent(s, e);
  return s;
}

function addSpent(s: Spent, e: Pick<ModelResponseEvent, 'usage' | 'cost_usd' | 'error'>): void {
  s.tokens += totalTokens(e.usage);
  s.cost_usd += e.cost_usd;
  if (!e.error?.infra) s.calls += 1;
}

export function mintToken(): string {
  return `olt_${randomBytes(24).toString('base64url')}`;
}

const SIG_CACHE_MAX = 512;

function hash(s: string): string {
  return createHash('sha256').update(s).digest('base64url');
}

export class RolloutState {
  readonly spent: Spent;
  inflight = 0;
  private sigCache = new Map<string, IRPart[]>();
  private closed = false;

  constructor(
    readonly rolloutId: string,
    readonly token: string,
    readonly log: TrajectoryWriter,
    readonly budget: Budget,
  ) {
    // Everything the file holds now: events appended since the writer was opened (e.g. by an earlier
    // gateway in this process) count too. Falls back to what the writer found when it opened.
    let events: readonly TrajectoryEvent[] = log.existing;
    try {
      if (log.file) events = readTrajectory(log.file).events;
    } catch {
      /* keep log.existing */
    }
    this.spent = spentFrom(events);
  }

  /** Append an event; a closed log (the runner finished the rollout) is not an error for the gateway. */
  append(e: NewEvent): void {
    if (this.closed) return;
    try {
      this.log.append(e);
    } catch {
      this.closed = true;
    }
    if (e.type === 'model.response') addSpent(this.spent, e);
  }

  /** Why a new call would exceed the budget, or null when it may go ahead. */
  overBudget(): string | null {
    const b = this.budget;
    const s = this.spent;
    if (b.tokens !== undefined && s.tokens >= b.tokens) return `token budget exhausted (${s.tokens} of ${b.tokens} tokens used)`;
    if (b.cost_usd !== undefined && s.cost_usd >= b.cost_usd) return `cost budget exhausted ($${s.cost_usd.toFixed(4)} of $${b.cost_usd} spent)`;
    if (b.calls !== undefined && s.calls + this.inflight >= b.calls) return `call budget exhausted (${s.calls + this.inflight} of ${b.calls} calls made)`;
    return null;
  }

  /** Remember the reasoning blocks of a response (with Anthropic signatures) for when the client sends the turn back. */
  rememberReasoning(content: IRPart[]): void {
    const blocks = content.filter((p) => p.type === 'reasoning' || p.type === 'redacted_reasoning');
    if (!blocks.some((p) => (p.type === 'reasoning' && p.signature) || p.type === 'redacted_reasoning')) return;
    const text = blocks.map((p) => (p.type === 'reasoning' ? p.text : '')).join('');
    const keys: string[] = [];
    if (text) keys.push('r:' + hash(text));
    const firstCall = content.find((p) => p.type === 'tool_call');
    if (firstCall && firstCall.type === 'tool_call') keys.push('t:' + firstCall.id);
    for (const k of keys) {
      this.sigCache.delete(k);
      this.sigCache.set(k, blocks);
    }
    while (this.sigCache.size > SIG_CACHE_MAX) this.sigCache.delete(this.sigCache.keys().next().value!);
  }

  /**
   * Put signed reasoning blocks back into assistant turns bound for an Anthropic upstream: a turn whose
   * reasoning text matches a remembered response gets the original blocks (signatures included); a
   * turn that dropped its reasoning but whose first tool call matches gets them prepended.
   */
  restoreReasoning(messages: IRMessage[]): void {
    for (const m of messages) {
      if (m.role !== 'assistant') continue;
      const reasoning = m.content.filter((p) => p.type === 'reasoning' || p.type === 'redacted_reasoning');
      if (reasoning.some((p) => (p.type === 'reasoning' && p.signature) || p.type === 'redacted_reasoning')) continue;
      let blocks: IRPart[] | undefined;
      const text = reasoning.map((p) => (p.type === 'reasoning' ? p.text : '')).join('');
      if (text) blocks = this.sigCache.get('r:' + hash(text));
      if (!blocks) {
        const firstCall = m.content.find((p) => p.type === 'tool_call');
        if (firstCall && firstCall.type === 'tool_call') blocks = this.sigCache.get('t:' + firstCall.id);
      }
      if (!blocks) continue;
      m.content = [...blocks, ...m.content.filter((p) => p.type !== 'reasoning' && p.type !== 'redacted_reasoning')];
    }
  }
}
