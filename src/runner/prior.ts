// What earlier attempts of a rollout left in its log, for the attempt that resumes it: whether the
// harness already finished (then only the grading is left to do), and the model calls that were in
// flight when the last attempt stopped (recorded now as `model.unmetered`, with an estimate).
import type { PhaseEvent, TrajectoryEvent } from '../core/events.js';
import type { ModelEndpoint, Outcome } from '../core/types.js';
import { estimateUnmetered, unansweredRequests } from '../core/unmetered.js';
import { resolvePricing } from '../models/pricing.js';
import type { TrajectoryWriter } from '../store/trajectory.js';
import type { DiskRoom } from './grade.js';

/** Harness ends that are graded: a resume after one only grades again. (A harness that ended in
 *  infra_error or task_error was not graded, and a resume runs it again.) */
const GRADED: ReadonlySet<string> = new Set<Outcome>(['completed', 'gave_up', 'budget_exhausted', 'timeout']);

/** The harness's end as an earlier attempt recorded it. */
export interface HarnessEnd {
  outcome: Outcome;
  reason: string;
  tool_calls: number;
  turns: number;
}

/**
 * The harness's end when the log's last harness phase is `done` with a graded outcome (an earlier
 * attempt finished the harness and was stopped while grading), else null. Counts missing from older logs' `done` detail
 * are counted from the events.
 */
export function finishedHarness(prior: readonly TrajectoryEvent[]): HarnessEnd | null {
  let last: PhaseEvent | null = null;
  for (const e of prior) if (e.type === 'phase' && e.phase === 'harness') last = e;
  if (!last || last.status !== 'done') return null;
  const d = last.detail ?? {};
  if (typeof d.outcome !== 'string' || !GRADED.has(d.outcome)) return null;
  const count = (type: TrajectoryEvent['type']): number => prior.filter((e) => e.type === type).length;
  return {
    outcome: d.outcome as Outcome,
    reason: typeof d.reason === 'string' ? d.reason : '',
    tool_calls: typeof d.tool_calls === 'number' ? d.tool_calls : count('tool.result'),
    turns: typeof d.turns === 'number' ? d.turns : count('assistant'),
  };
}

/**
 * Record each model call of `prior` that never got its response as `model.unmetered`, with an
 * estimate at the endpoint's prices (see core/unmetered.ts). Returns how many were recorded.
 */
export function recordUnmetered(log: TrajectoryWriter, prior: readonly TrajectoryEvent[], endpoint: ModelEndpoint | undefined): number {
  const open = unansweredRequests(prior);
  if (open.length === 0) return 0;
  const { pricing, price_table } = endpoint ? resolvePricing(endpoint) : { pricing: null, price_table: 'unknown' };
  for (const req of open) {
    const est = estimateUnmetered(prior, req, pricing);
    log.append({
      type: 'model.unmetered',
      call_id: req.call_id,
      request_seq: req.seq,
      model: req.model,
      usage: est.usage,
      cost_usd: est.cost_usd,
      price_table,
      basis: est.basis,
      reason: 'in flight when the previous attempt stopped: the response, and the upstream usage with it, never reached the log',
    });
  }
  return open.length;
}

/** The most room the agent ever started an attempt with: `now`, or what an earlier prepare recorded. */
export function largestRoom(prior: readonly TrajectoryEvent[], now: DiskRoom | undefined): DiskRoom | undefined {
  let best = now;
  for (const e of prior) {
    if (e.type !== 'phase' || e.phase !== 'prepare' || e.status !== 'done') continue;
    const r = e.detail?.room as Partial<DiskRoom> | undefined;
    if (!r || typeof r.bytes !== 'number' || typeof r.inodes !== 'number') continue;
    best = best ? { bytes: Math.max(best.bytes, r.bytes), inodes: Math.max(best.inodes, r.inodes) } : { bytes: r.bytes, inodes: r.inodes };
  }
  return best;
}
