// Budget accounting for the outlast harness: a fold over trajectory events, so that what has been
// used is always recomputed from the log (and therefore continues across a resume instead of
// restarting from zero). Also the two texts that disclose the budget to the agent: the limits at the
// start, and a one-line "what is left" appended to the latest tool result of every turn.
import type { TrajectoryEvent } from '../../core/events.js';
import { WaitClock } from '../../core/outage.js';
import type { Limits } from '../../core/types.js';
import { totalTokens } from '../../core/usage.js';

export interface Used {
  wall_ms: number;
  /** Time spent waiting for the provider in outages (src/core/outage.ts). */
  outage_ms: number;
  /** Wall time minus outages: what the wall-time limit counts. */
  limit_wall_ms: number;
  /** Wall time minus time spent waiting on upstream retries and outages. */
  working_ms: number;
  turns: number;
  tokens: number;
  cost_usd: number;
}

/**
 * What the rollout has used so far. Wall time is the sum of the harness sessions recorded in the log
 * (a session runs from `rollout.started`, or its `phase harness started`, to the last event before
 * the next `rollout.started`): time between a crash and its resume is not charged to the agent, nor
 * is time spent waiting for the provider in an outage (WaitClock).
 */
export class BudgetTracker {
  private closedMs = 0;
  private sessionStart: number | null = null;
  private sessionLast = 0;
  private readonly waits = new WaitClock();
  turns = 0;
  tokens = 0;
  costUsd = 0;
  inputTokens = 0;
  cachedTokens = 0;
  modelCalls = 0;

  constructor(readonly limits: Limits) {}

  observe(e: TrajectoryEvent): void {
    const t = Date.parse(e.t);
    this.waits.observe(e);
    switch (e.type) {
      case 'rollout.started':
        if (this.sessionStart !== null) this.closedMs += Math.max(0, this.sessionLast - this.sessionStart);
        this.sessionStart = t;
        break;
      case 'phase':
        if (e.phase === 'harness' && e.status === 'started') this.sessionStart = t;
        break;
      case 'assistant':
        this.turns++;
        break;
      case 'model.response':
        this.modelCalls++;
        this.tokens += totalTokens(e.usage);
        this.costUsd += e.cost_usd;
        this.inputTokens += e.usage.input;
        this.cachedTokens += e.usage.cached;
        break;
      default:
        break;
    }
    if (this.sessionStart === null) this.sessionStart = t;
    if (t > this.sessionLast) this.sessionLast = t;
  }

  /** Start the current session now when the log holds none (a harness driven without the runner). */
  begin(nowMs: number): void {
    if (this.sessionStart === null) this.sessionStart = nowMs;
  }

  used(nowMs: number): Used {
    const wall = this.closedMs + (this.sessionStart === null ? 0 : Math.max(0, nowMs - this.sessionStart));
    const outage = Math.min(wall, this.waits.outageMs(nowMs));
    return {
      wall_ms: wall,
      outage_ms: outage,
      limit_wall_ms: wall - outage,
      working_ms: Math.max(0, wall - outage - this.waits.retryWaitMs),
      turns: this.turns,
      tokens: this.tokens,
      cost_usd: this.costUsd,
    };
  }

  /** When the provider outage in progress began (ms since the epoch), or null. */
  outageSince(): number | null {
    return this.waits.since;
  }

  /** Why the rollout must stop now, or null. */
  exhausted(nowMs: number): string | null {
    const l = this.limits;
    const u = this.used(nowMs);
    if (l.wall_time_sec !== undefined && u.limit_wall_ms >= l.wall_time_sec * 1000) return `wall time limit reached (${fmtSec(u.limit_wall_ms)} of ${l.wall_time_sec}s${u.outage_ms ? `, not counting ${fmtSec(u.outage_ms)} of provider outages` : ''})`;
    if (l.working_time_sec !== undefined && u.working_ms >= l.working_time_sec * 1000) return `working time limit reached (${fmtSec(u.working_ms)} of ${l.working_time_sec}s)`;
    if (l.turns !== undefined && u.turns >= l.turns) return `turn limit reached (${u.turns} of ${l.turns} turns)`;
    if (l.tokens !== undefined && u.tokens >= l.tokens) return `token limit reached (${u.tokens} of ${l.tokens} tokens)`;
    if (l.cost_usd !== undefined && u.cost_usd >= l.cost_usd) return `cost limit reached ($${u.cost_usd.toFixed(4)} of $${l.cost_usd})`;
    return null;
  }

  /**
   * Milliseconds of time left, or undefined when unlimited. With `working`, the smaller of wall and
   * working time (for tools, which never wait on model retries); without, wall time only (for model
   * calls, whose retry waits do not count as working time and cannot be known in advance). Time in a
   * provider outage counts against neither: during one, what is left stands still.
   */
  timeLeftMs(nowMs: number, working = true): number | undefined {
    const u = this.used(nowMs);
    let left: number | undefined;
    if (this.limits.wall_time_sec !== undefined) left = this.limits.wall_time_sec * 1000 - u.limit_wall_ms;
    if (working && this.limits.working_time_sec !== undefined) left = Math.min(left ?? Infinity, this.limits.working_time_sec * 1000 - u.working_ms);
    return left === undefined ? undefined : Math.max(0, left);
  }

  /** Prompt-cache hit ratio over the rollout's model calls (cached / input tokens), or null before any. */
  cacheHitRatio(): number | null {
    return this.inputTokens > 0 ? this.cachedTokens / this.inputTokens : null;
  }

  /** The limits, told to the agent once at the start. */
  intro(): string {
    const l = this.limits;
    const parts: string[] = [];
    if (l.wall_time_sec !== undefined) parts.push(`wall time ${fmtDuration(l.wall_time_sec * 1000)}`);
    if (l.working_time_sec !== undefined) parts.push(`working time ${fmtDuration(l.working_time_sec * 1000)} (excluding waits on model retries)`);
    if (l.turns !== undefined) parts.push(`${l.turns} turns (model replies)`);
    if (l.tokens !== undefined) parts.push(`${fmtCount(l.tokens)} tokens (input + output, all turns)`);
    if (l.cost_usd !== undefined) parts.push(`$${fmtUsd(l.cost_usd)} of model cost`);
    if (!parts.length) return 'Budget: no limits are set. Work until the task is done, then call `submit`.';
    return `Budget: ${parts.join(', ')}. What is left is shown after your latest tool result each turn. When a limit is reached the run stops and your workspace is graded as it is, so keep it in a working state.`;
  }

  /** One compact line of what is left, e.g. `[left: wall 41m/1h · turns 188/200 · tokens 1.95M/2M · cost $4.88/$5]`; '' when nothing is limited. */
  line(nowMs: number): string {
    const l = this.limits;
    const u = this.used(nowMs);
    const parts: string[] = [];
    if (l.wall_time_sec !== undefined) parts.push(`wall ${fmtDuration(l.wall_time_sec * 1000 - u.limit_wall_ms)}/${fmtDuration(l.wall_time_sec * 1000)}`);
    if (l.working_time_sec !== undefined) parts.push(`working ${fmtDuration(l.working_time_sec * 1000 - u.working_ms)}/${fmtDuration(l.working_time_sec * 1000)}`);
    if (l.turns !== undefined) parts.push(`turns ${Math.max(0, l.turns - u.turns)}/${l.turns}`);
    if (l.tokens !== undefined) parts.push(`tokens ${fmtCount(Math.max(0, l.tokens - u.tokens))}/${fmtCount(l.tokens)}`);
    if (l.cost_usd !== undefined) parts.push(`cost $${fmtUsd(Math.max(0, l.cost_usd - u.cost_usd))}/$${fmtUsd(l.cost_usd)}`);
    return parts.length ? `[left: ${parts.join(' · ')}]` : '';
  }
}

function fmtSec(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** 45s, 12m, 1h05m — coarse on purpose: the line changes little from turn to turn. */
export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

export function fmtCount(n: number): string {
  if (n >= 1e6) return `${trim(n / 1e6)}M`;
  if (n >= 1e4) return `${trim(n / 1e3)}k`;
  return String(Math.round(n));
}

function trim(x: number): string {
  return String(Math.round(x * 100) / 100);
}

function fmtUsd(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(2);
}
