// Small pieces the loop uses: waiting for the gateway's model.response of a call, the final note,
// deadlines and abortable sleeps.
import type { NewEvent, TrajectoryEvent } from '../../core/events.js';
import type { Outcome } from '../../core/types.js';
import { fmtCount } from './budget.js';
import type { ConversationState } from './state.js';

/**
 * The gateway appends a call's `model.response` (usage, cost) when the response has been sent, which
 * can be a moment after the client read its last byte. Waiting for it keeps the log in a stable order
 * (usage before the reply it paid for) and budgets exact before the next decision.
 */
export class ResponseWaiter {
  private last: string | null = null;
  private waiting: { id: string; resolve: () => void } | null = null;
  /** Off after a wait timed out: that gateway records its events in another log (e.g. a standalone `outlast gateway`). */
  private enabled = true;

  observe(e: TrajectoryEvent): void {
    if (e.type !== 'model.response') return;
    this.last = e.call_id;
    if (this.waiting && this.waiting.id === e.call_id) {
      this.waiting.resolve();
      this.waiting = null;
    }
  }

  wait(callId: string, timeoutMs: number): Promise<void> {
    if (this.last === callId || !this.enabled) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        this.enabled = false;
        resolve();
      }, timeoutMs);
      timer.unref?.();
      this.waiting = {
        id: callId,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }
}

export const FINAL_NOTE = 'outlast harness: ';

/** The harness's last event: how it ended, with the prompt-cache hit ratio of the rollout. */
export function finalNote(r: { outcome: Outcome; reason: string; tool_calls: number; turns: number; cache_hit_ratio: number | null }, state: ConversationState): NewEvent {
  const b = state.budget;
  const ratio = r.cache_hit_ratio === null ? 'n/a' : `${(r.cache_hit_ratio * 100).toFixed(1)}%`;
  return {
    type: 'note',
    level: 'info',
    message: `${FINAL_NOTE}${r.outcome} (${r.reason}); ${r.turns} turns, ${r.tool_calls} tool calls, ${state.compactions} compactions, ${b.modelCalls} model calls; prompt cache hit ratio ${ratio} (${fmtCount(b.cachedTokens)} of ${fmtCount(b.inputTokens)} input tokens)`,
  };
}

/** What a run stopped from outside throws: the signal's reason. */
export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/**
 * A signal that aborts with `parent` or after `ms` (none when undefined), and a `done` that releases
 * both. (Not AbortSignal.any + AbortSignal.timeout: those keep a timer and a listener alive per call
 * until the timeout fires, which in a long rollout is a leak.)
 */
export function deadline(parent: AbortSignal, ms: number | undefined): { signal: AbortSignal; expired: () => boolean; done: () => void } {
  if (ms === undefined) return { signal: parent, expired: () => false, done: () => {} };
  const ac = new AbortController();
  let expired = false;
  const onAbort = (): void => ac.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  // Not unref'd: Node keeps the (empty) timer list of every distinct duration an unref'd timer was
  // cleared from, and each call's time left is a new duration: one leaked list per model call.
  const timer = setTimeout(() => {
    expired = true;
    ac.abort(new Error('time limit reached'));
  }, Math.max(1, ms));
  return {
    signal: ac.signal,
    expired: () => expired,
    done: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}

/** Wait `ms`, or throw the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** ms since the epoch as an ISO time. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
