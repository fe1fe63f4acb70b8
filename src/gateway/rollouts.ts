// Per-rollout state in the gateway: token, trajectory, budget and what has been spent, the
// reasoning-signature cache that lets Anthropic thinking survive a round trip through a client
// protocol that has no place for signatures, and the scans of its last request bodies.
import { createHash, randomBytes } from 'node:crypto';
import type { ModelResponseEvent, NewEvent, TrajectoryEvent } from '../core/events.js';
import { totalTokens } from '../core/usage.js';
import { type TrajectoryWriter, readTrajectory } from '../store/trajectory.js';
import type { IRMessage, IRPart } from './ir.js';
import { PrefixCache } from './prefix-cache.js';

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

/** What one admitted call holds against its rollout's budget until it is recorded. */
export interface Reservation {
  tokens: number;
  cost_usd: number;
}

/** The largest input tokens per request byte assumed before a rollout's own calls have shown theirs. */
const DEFAULT_TOKENS_PER_BYTE = 0.25;

export class RolloutState {
  readonly spent: Spent;
  inflight = 0;
  /** Held by admitted calls not yet recorded. */
  readonly reserved: Reservation = { tokens: 0, cost_usd: 0 };
  /** The largest input tokens per request byte this rollout's calls have reported (the input estimate). */
  private tokensPerByte = DEFAULT_TOKENS_PER_BYTE;
  /** Why the last append failed (disk full...), until one succeeds again. */
  recordError: string | null = null;
  private sigCache = new Map<string, IRPart[]>();
  /** The rollout's last request bodies as scanned, so the next is read from where they end (passthrough.ts). */
  readonly prefixes = new PrefixCache();

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

  /**
   * Append an event. A log the runner closed (the rollout is over) takes nothing more, silently; a
   * failed write (a full disk) is remembered in `recordError`, and later calls are refused until an
   * append succeeds again, so metering never silently stops while the harness carries on.
   */
  append(e: NewEvent): boolean {
    if (this.log.isClosed) return false;
    try {
      this.log.append(e);
      this.recordError = null;
      if (e.type === 'model.response') addSpent(this.spent, e);
      return true;
    } catch (err) {
      this.recordError = `cannot record to ${this.log.file}: ${(err as Error).message}`;
      // The call happened whether or not its record reached the disk: it still counts against the budget.
      if (e.type === 'model.response') addSpent(this.spent, e);
      return false;
    }
  }

  /** Learn the input tokens per request byte from a metered call. */
  observeInput(requestBytes: number, inputTokens: number): void {
    if (requestBytes > 0 && inputTokens > 0) this.tokensPerByte = Math.max(this.tokensPerByte, inputTokens / requestBytes);
  }

  /** Tokens a request of `bytes` bytes is expected to bill as input. */
  inputEstimate(bytes: number): number {
    return Math.ceil(bytes * this.tokensPerByte);
  }

  /**
   * Admit a call, or say why not. It may spend its input estimate plus up to `need.output` tokens;
   * what spent + held by calls in flight leaves of a token or cost budget (times 1 + tolerance)
   * must cover the input and at least `minOutput` tokens of output. The output the call may make is
   * lowered to what fits (`output`), and that much is held until the call is recorded.
   */
  reserve(need: { input: number; output: number; inputCost: number; outputCostPerToken: number }, tolerance: number, minOutput: number): { held: Reservation; output: number } | string {
    const b = this.budget;
    const s = this.spent;
    const r = this.reserved;
    const cap = (limit: number) => limit * (1 + tolerance);
    const floorOut = Math.min(minOutput, need.output);
    let output = need.output;
    if (b.calls !== undefined && s.calls + this.inflight >= b.calls) return `call budget exhausted (${s.calls + this.inflight} of ${b.calls} calls made)`;
    if (b.tokens !== undefined) {
      const room = Math.floor(cap(b.tokens) - s.tokens - r.tokens - need.input);
      if (room < floorOut) return `token budget exhausted (${s.tokens} of ${b.tokens} tokens used, ${r.tokens} held by calls in flight; this call needs about ${need.input} input tokens and ${floorOut} of output)`;
      output = Math.min(output, room);
    }
    if (b.cost_usd !== undefined) {
      const room = cap(b.cost_usd) - s.cost_usd - r.cost_usd - need.inputCost;
      const affordable = need.outputCostPerToken > 0 ? Math.floor(room / need.outputCostPerToken) : room >= 0 ? output : -1;
      if (affordable < floorOut) return `cost budget exhausted ($${s.cost_usd.toFixed(4)} of $${b.cost_usd} spent, $${r.cost_usd.toFixed(4)} held by calls in flight; this call may cost $${(need.inputCost + floorOut * need.outputCostPerToken).toFixed(4)})`;
      output = Math.min(output, affordable);
    }
    const held = { tokens: need.input + output, cost_usd: need.inputCost + output * need.outputCostPerToken };
    r.tokens += held.tokens;
    r.cost_usd += held.cost_usd;
    this.inflight++;
    return { held, output };
  }

  /** Release a reservation (its call was recorded, which added what it really spent). */
  release(held: Reservation): void {
    this.reserved.tokens = Math.max(0, this.reserved.tokens - held.tokens);
    this.reserved.cost_usd = Math.max(0, this.reserved.cost_usd - held.cost_usd);
    this.inflight = Math.max(0, this.inflight - 1);
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
