// Per-rollout event summaries: everything a report needs from a trajectory that the store's rollout
// row does not carry (metering, intermediate evaluations, flags, provenance). Pure: feed it events.
import { AttemptClock } from '../core/attempts.js';
import type { TrajectoryEvent } from '../core/events.js';
import type { Limits, Outcome, Usage } from '../core/types.js';
import { addUsage, zeroUsage } from '../core/usage.js';

export interface EvaluationPoint {
  seq: number;
  /** Tool calls made so far in the rollout. */
  tool_calls: number;
  /** Hours of the rollout's wall time at this point, summed over its attempts so far. */
  hours: number;
  score: number;
}

/** One workload of a kernel graded by the speedup verifier (from its verifier.result details). */
export interface KernelWorkload {
  name: string;
  speedup: number | null;
  p25: number | null;
  p75: number | null;
  ref_ms: number | null;
  cand_ms: number | null;
  /** This machine's roofline bound of one call (ms), and the candidate's time as a fraction of it. */
  bound_ms: number | null;
  roofline_fraction: number | null;
  limit: string | null;
}

export interface RolloutSummary {
  rollout_id: string;
  events: number;
  started_at: string | null;
  finished_at: string | null;
  outcome: Outcome | null;
  score: number | null;
  passed: boolean | null;
  reason: string | null;
  /** Wall and working time summed over the attempts (from the finish totals; counted from the events for older logs). */
  wall_ms: number | null;
  working_ms: number | null;
  /** Attempts the log shows (1 + the resumes; 0 before any start). */
  attempts: number;
  /** Calls in flight when an attempt stopped, never metered: their count and estimated usage and cost (apart from `usage` and `cost_usd`). */
  unmetered: { calls: number; usage: Usage; cost_usd: number };
  tool_calls: number;
  turns: number;
  model_calls: number;
  failed_model_calls: number;
  usage: Usage;
  cost_usd: number;
  /** TTFT of each successful model call that reported one (ms). */
  ttft_ms: number[];
  /** Output tokens/s of each successful model call that reported it. */
  output_tps: number[];
  evaluations: EvaluationPoint[];
  /**
   * Flags by their review state (the last decision on each counts): `open` has none yet
   * ("unreviewed"), `needs_info` is still pending; `by_rule` for per-rule precision; `decision_ms`:
   * time from a flag to each decision on it.
   */
  flags: {
    total: number;
    open: number;
    needs_info: number;
    confirmed: number;
    dismissed: number;
    by_severity: Record<string, number>;
    by_rule: Record<string, { flags: number; confirmed: number; dismissed: number; pending: number }>;
    decision_ms: number[];
    /** flag_id → its rule and state (what the counts above are folded from). */
    states: Record<string, { rule_id: string; state: 'open' | 'needs_info' | 'confirmed' | 'dismissed' }>;
  };
  compactions: number;
  /** Per-workload numbers of a speedup-verified kernel (null for other verifiers); `withheld`: the score was withheld for review. */
  kernels: { workloads: KernelWorkload[]; withheld: boolean } | null;
  /** Provenance of this rollout as its log records it. */
  provenance: {
    outlast: string | null;
    commit: string | null;
    node: string | null;
    task: { name: string; family: string; hash: string } | null;
    harness: { name: string; version: string; settings: Record<string, unknown> } | null;
    model: { name: string; upstream_model: string | null; protocol: string | null } | null;
    verifier: { verifier: string; version: string; settings: Record<string, unknown> } | null;
    /** The verifier config from the spec (when no verifier.result was recorded). */
    verifier_config: Record<string, unknown> | null;
    price_tables: string[];
    limits: Limits | null;
    seed: number | null;
    sandbox: { mode: string; unsandboxed: boolean } | null;
    resumed: number;
  };
}

export function emptySummary(rolloutId: string): RolloutSummary {
  return {
    rollout_id: rolloutId,
    events: 0,
    started_at: null,
    finished_at: null,
    outcome: null,
    score: null,
    passed: null,
    reason: null,
    wall_ms: null,
    working_ms: null,
    attempts: 0,
    unmetered: { calls: 0, usage: zeroUsage(), cost_usd: 0 },
    tool_calls: 0,
    turns: 0,
    model_calls: 0,
    failed_model_calls: 0,
    usage: zeroUsage(),
    cost_usd: 0,
    ttft_ms: [],
    output_tps: [],
    evaluations: [],
    flags: { total: 0, open: 0, needs_info: 0, confirmed: 0, dismissed: 0, by_severity: {}, by_rule: {}, decision_ms: [], states: {} },
    compactions: 0,
    kernels: null,
    provenance: {
      outlast: null,
      commit: null,
      node: null,
      task: null,
      harness: null,
      model: null,
      verifier: null,
      verifier_config: null,
      price_tables: [],
      limits: null,
      seed: null,
      sandbox: null,
      resumed: 0,
    },
  };
}

/** The attempts' times as each summary's events show them (kept beside it: a summary is plain JSON). */
const clocks = new WeakMap<RolloutSummary, AttemptClock>();
function clockOf(s: RolloutSummary): AttemptClock {
  let c = clocks.get(s);
  if (!c) clocks.set(s, (c = new AttemptClock()));
  return c;
}

/** Fold one event into a summary (mutates and returns it). Events must come in log order. */
export function addEvent(s: RolloutSummary, e: TrajectoryEvent): RolloutSummary {
  s.events++;
  clockOf(s).observe(e);
  switch (e.type) {
    case 'rollout.started': {
      if (s.started_at === null) s.started_at = e.t;
      s.attempts++;
      if (e.resumed) s.provenance.resumed++;
      const p = s.provenance;
      p.outlast = e.versions.outlast;
      p.commit = e.versions.commit;
      p.node = e.versions.node;
      p.task = { name: e.spec.task.name, family: e.spec.task.family, hash: e.spec.task.hash };
      p.harness = { name: e.spec.harness.name, version: e.spec.harness.version, settings: e.spec.harness.settings ?? {} };
      p.model = e.spec.model
        ? { name: e.spec.model.name, upstream_model: e.spec.model.upstream_model ?? null, protocol: e.spec.model.protocol ?? null }
        : null;
      p.verifier_config = { ...(e.spec.verifier as unknown as Record<string, unknown>) };
      p.limits = e.spec.limits ?? null;
      p.seed = e.spec.seed;
      p.sandbox = { mode: e.sandbox.mode, unsandboxed: e.sandbox.unsandboxed };
      break;
    }
    case 'model.response': {
      s.model_calls++;
      s.usage = addUsage(s.usage, e.usage);
      s.cost_usd += e.cost_usd;
      const ok = !e.error && e.status >= 200 && e.status < 300;
      if (!ok) s.failed_model_calls++;
      if (ok && typeof e.ttft_ms === 'number' && Number.isFinite(e.ttft_ms)) s.ttft_ms.push(e.ttft_ms);
      if (ok && typeof e.output_tps === 'number' && Number.isFinite(e.output_tps)) s.output_tps.push(e.output_tps);
      if (e.price_table && !s.provenance.price_tables.includes(e.price_table)) s.provenance.price_tables.push(e.price_table);
      break;
    }
    case 'model.unmetered':
      s.unmetered.calls++;
      s.unmetered.usage = addUsage(s.unmetered.usage, e.usage);
      s.unmetered.cost_usd += e.cost_usd;
      break;
    case 'assistant':
      s.turns++;
      break;
    case 'tool.result':
      s.tool_calls++;
      break;
    case 'evaluation': {
      // hours of the rollout's own time (its attempts so far), not of the clock between them
      s.evaluations.push({ seq: e.seq, tool_calls: e.tool_calls, hours: clockOf(s).times(Date.parse(e.t)).wall_ms / 3_600_000, score: e.score });
      break;
    }
    case 'context.compacted':
      s.compactions++;
      break;
    case 'monitor.flag':
      if (s.flags.states[e.flag_id]) break;
      s.flags.states[e.flag_id] = { rule_id: e.rule_id, state: 'open' };
      s.flags.by_severity[e.severity] = (s.flags.by_severity[e.severity] ?? 0) + 1;
      recountFlags(s);
      break;
    case 'review.decision': {
      const f = s.flags.states[e.flag_id];
      if (!f) break;
      f.state = e.decision;
      if (typeof e.after_ms === 'number') s.flags.decision_ms.push(e.after_ms);
      recountFlags(s);
      break;
    }
    case 'verifier.result':
      s.provenance.verifier = { verifier: e.score.grader.verifier, version: e.score.grader.version, settings: e.score.grader.settings ?? {} };
      s.kernels = e.score.grader.verifier === 'speedup' ? kernelWorkloads(e.score.details) : null;
      break;
    case 'rollout.finished':
      s.finished_at = e.t;
      s.outcome = e.outcome;
      s.score = e.score ? e.score.value : null;
      s.passed = e.score ? e.score.passed : null;
      s.reason = e.reason;
      if (typeof e.totals.attempts === 'number') {
        s.wall_ms = e.totals.wall_ms;
        s.working_ms = e.totals.working_ms;
      } else {
        // a log from before totals spanned attempts: its wall_ms is the last attempt's; sum them
        const t = clockOf(s).times();
        s.wall_ms = t.attempts > 1 ? Math.max(e.totals.wall_ms, t.wall_ms) : e.totals.wall_ms;
        s.working_ms = Math.max(0, s.wall_ms - (e.totals.wall_ms - e.totals.working_ms));
      }
      // The finish totals are authoritative (they survive a resume); keep the larger of the two counts.
      s.tool_calls = Math.max(s.tool_calls, e.totals.tool_calls);
      s.turns = Math.max(s.turns, e.totals.turns);
      if (e.totals.cost_usd > s.cost_usd) s.cost_usd = e.totals.cost_usd;
      if (e.totals.usage && e.totals.usage.input + e.totals.usage.output > s.usage.input + s.usage.output) s.usage = { ...e.totals.usage };
      break;
    default:
      break;
  }
  return s;
}

/** The flag counts from their states (a few flags per rollout: folded again on each change). */
function recountFlags(s: RolloutSummary): void {
  const f = s.flags;
  f.total = f.open = f.needs_info = f.confirmed = f.dismissed = 0;
  f.by_rule = {};
  for (const { rule_id, state } of Object.values(f.states)) {
    f.total++;
    f[state]++;
    const r = (f.by_rule[rule_id] ??= { flags: 0, confirmed: 0, dismissed: 0, pending: 0 });
    r.flags++;
    if (state === 'confirmed') r.confirmed++;
    else if (state === 'dismissed') r.dismissed++;
    else r.pending++;
  }
}

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The per-workload rows of a speedup score's details (tolerant: details are free-form JSON). */
export function kernelWorkloads(details: Record<string, unknown>): { workloads: KernelWorkload[]; withheld: boolean } | null {
  if (!Array.isArray(details.workloads)) return null;
  const workloads = (details.workloads as Record<string, unknown>[])
    .filter((w) => w && typeof w === 'object' && typeof w.name === 'string')
    .map((w) => ({
      name: w.name as string,
      speedup: numOrNull(w.speedup),
      p25: numOrNull(w.p25),
      p75: numOrNull(w.p75),
      ref_ms: numOrNull(w.ref_ms),
      cand_ms: numOrNull(w.cand_ms),
      bound_ms: numOrNull(w.bound_ms),
      roofline_fraction: numOrNull(w.roofline_fraction),
      limit: typeof w.limit === 'string' ? w.limit : null,
    }));
  return { workloads, withheld: details.withheld === true };
}

export function summarize(rolloutId: string, events: Iterable<TrajectoryEvent>): RolloutSummary {
  const s = emptySummary(rolloutId);
  for (const e of events) addEvent(s, e);
  return s;
}
