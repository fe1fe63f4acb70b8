// The report's JSON schema (`outlast report --format json`), as zod: one definition gives the
// TypeScript types and the validator the tests run. Documented field by field in docs/report-format.md;
// keep the two in step, and bump REPORT_SCHEMA when a change is not purely additive.
import { z } from 'zod';

export const REPORT_SCHEMA = 'outlast.report/v1';

const num = z.number();
const nnum = z.number().nullable();
const interval = z.object({ lo: num, hi: num });

export const distSchema = z.object({ n: z.number().int(), mean: nnum, p50: nnum, p95: nnum, max: nnum });
export const usageSchema = z.object({ input: num, cached: num, cache_write: num, output: num, reasoning: num });

export const outcomeCountsSchema = z.object({
  completed: z.number().int(),
  gave_up: z.number().int(),
  budget_exhausted: z.number().int(),
  timeout: z.number().int(),
  task_error: z.number().int(),
  infra_error: z.number().int(),
  running: z.number().int(),
  pending: z.number().int(),
});

export const scoreStatSchema = z.object({
  /** Mean over tasks of each task's mean score over its repeats. */
  mean: nnum,
  ci: interval.nullable(),
  ci_method: z.enum(['cluster', 'stratified', 'none']),
  n_tasks: z.number().int(),
  n_rollouts: z.number().int(),
  resamples: z.number().int(),
});

export const groupSchema = z.object({
  key: z.string(),
  model: z.string().nullable(),
  harness: z.string(),
  /** Set on per-family rows. */
  family: z.string().nullable(),
  rollouts: z.number().int(),
  outcomes: outcomeCountsSchema,
  score: scoreStatSchema,
  pass_at_1: nnum,
  /** pass@k with k = the fewest repeats any task has (k ≥ 2), or null. */
  pass_at_k: z.object({ k: z.number().int(), value: num }).nullable(),
  /** Per finished rollout; wall and working time summed over its attempts. */
  endurance: z.object({
    tool_calls: distSchema,
    turns: distSchema,
    wall_ms: distSchema,
    working_ms: distSchema,
    /** Attempts per rollout (1 + the resumes after a crash, an interrupt or a full disk). */
    attempts: distSchema,
    /** Rollouts that took more than one attempt. */
    resumed: z.number().int(),
  }),
  tokens: z.object({ total: usageSchema, per_task: usageSchema.nullable() }),
  cost: z.object({
    total_usd: num,
    per_task_usd: nnum,
    per_solved_task_usd: nnum,
    output_tokens_per_score: nnum,
    solved: z.number().int(),
    /** Calls in flight when an attempt stopped, never metered (model.unmetered), and their estimated cost: not in total_usd. */
    unmetered_calls: z.number().int(),
    unmetered_usd_estimate: num,
  }),
  latency: z.object({ ttft_ms: distSchema, output_tps: distSchema }),
  cache_hit_ratio: nnum,
  model_calls: z.number().int(),
  /** Flags by review state (the last decision on each): `open` = unreviewed; `needs_info` still pending. */
  flags: z.object({ total: z.number().int(), open: z.number().int(), needs_info: z.number().int(), confirmed: z.number().int(), dismissed: z.number().int() }),
  /**
   * Passed rollouts by what review says of them: `clean_passed` (no confirmed flag, none pending),
   * `hacked_passed` (a reviewer confirmed a flag), `unreviewed_passed` (flags still pending);
   * `hacked_excluded`: finished rollouts with a confirmed hack, left out of every score above.
   */
  integrity: z.object({ clean_passed: z.number().int(), hacked_passed: z.number().int(), unreviewed_passed: z.number().int(), hacked_excluded: z.number().int() }),
});

export const pairedSchema = z.object({
  /** Baseline: configuration key and experiment. */
  a: z.object({ key: z.string(), experiment: z.string() }),
  b: z.object({ key: z.string(), experiment: z.string() }),
  /** Tasks both configurations have scores on. */
  tasks: z.number().int(),
  /** Mean over shared tasks of (b's task mean − a's task mean). */
  mean_diff: nnum,
  ci: interval.nullable(),
  ci_method: z.enum(['cluster', 'stratified', 'none']),
  /** Tasks where b scored higher / lower / the same. */
  wins: z.number().int(),
  losses: z.number().int(),
  ties: z.number().int(),
});

export const figureProvenanceSchema = z.object({
  experiments: z.array(z.string()),
  graders: z.array(z.string()),
  harnesses: z.array(z.string()),
  models: z.array(z.string()),
  price_tables: z.array(z.string()),
  outlast: z.array(z.string()),
  generated_at: z.string(),
});

export const figureSchema = z.object({
  id: z.string(),
  title: z.string(),
  kind: z.enum(['line', 'step', 'scatter', 'ecdf']),
  x: z.object({ label: z.string() }),
  y: z.object({ label: z.string() }),
  series: z.array(z.object({ name: z.string(), points: z.array(z.tuple([num, num])) })),
  /** Total points over all series. */
  points: z.number().int(),
  provenance: figureProvenanceSchema,
});

export const provenanceSchema = z.object({
  outlast: z.array(z.object({ version: z.string(), commit: z.string().nullable() })),
  node: z.array(z.string()),
  experiments: z.array(z.object({ id: z.string(), created_at: z.string(), argv: z.array(z.string()) })),
  tasks: z.array(z.object({ name: z.string(), family: z.string(), hash: z.string() })),
  verifiers: z.array(z.object({ verifier: z.string(), version: z.string(), settings: z.record(z.string(), z.unknown()) })),
  harnesses: z.array(z.object({ name: z.string(), version: z.string(), settings: z.record(z.string(), z.unknown()) })),
  models: z.array(
    z.object({ name: z.string(), upstream_model: z.string().nullable(), protocol: z.string().nullable(), base_url: z.string().nullable() }),
  ),
  price_tables: z.array(z.string()),
  limits: z.object({ experiment: z.record(z.string(), z.unknown()).nullable(), rollouts: z.array(z.record(z.string(), z.unknown())) }),
  sandbox: z.array(z.object({ mode: z.string(), unsandboxed: z.boolean() })),
  dates: z.object({ experiment_created: z.string(), first_started: z.string().nullable(), last_finished: z.string().nullable(), generated_at: z.string() }),
  report: z.object({ include_infra: z.boolean(), confidence: num, resamples: z.number().int(), seed: z.number().int(), min_clusters: z.number().int() }),
});

export const rolloutBriefSchema = z.object({
  experiment_id: z.string(),
  rollout_id: z.string(),
  task: z.string(),
  family: z.string(),
  harness: z.string(),
  model: z.string().nullable(),
  repeat: z.number().int(),
  status: z.enum(['pending', 'running', 'finished']),
  outcome: z.string().nullable(),
  score: nnum,
  passed: z.boolean().nullable(),
  /** Excluded from scores (infra_error without --include-infra, not finished, or a confirmed hack). */
  excluded: z.boolean(),
  excluded_reason: z.enum(['infra_error', 'unfinished', 'confirmed_hack']).nullable(),
  /** `confirmed`: a reviewer confirmed a flag; `unreviewed`: flags wait for a decision; null: neither. */
  hack: z.enum(['confirmed', 'unreviewed']).nullable(),
  tool_calls: z.number().int(),
  turns: z.number().int(),
  /** Summed over the attempts. */
  wall_ms: nnum,
  attempts: z.number().int(),
  cost_usd: num,
  /** Calls never metered (in flight at a crash) and their estimated cost, apart from cost_usd. */
  unmetered_calls: z.number().int(),
  unmetered_usd_estimate: num,
  events: z.number().int(),
  evaluations: z.number().int(),
  flags: z.number().int(),
});

/** One workload of one rollout graded by the speedup verifier: its speedup beside this machine's physical limit. */
export const kernelRowSchema = z.object({
  rollout_id: z.string(),
  task: z.string(),
  /** model × harness */
  key: z.string(),
  repeat: z.number().int(),
  workload: z.string(),
  speedup: nnum,
  p25: nnum,
  p75: nnum,
  ref_ms: nnum,
  cand_ms: nnum,
  /** The least time one call can take on the grading machine (ms), from the workload's bytes and FLOPs. */
  bound_ms: nnum,
  /** bound_ms / cand_ms: the share of the machine's limit the kernel reached (1 = at the limit). */
  roofline_fraction: nnum,
  limit: z.string().nullable(),
  /** The rollout's score was withheld for review (a workload beat the roofline). */
  withheld: z.boolean(),
});

export const ruleStatSchema = z.object({
  rule_id: z.string(),
  flags: z.number().int(),
  confirmed: z.number().int(),
  dismissed: z.number().int(),
  pending: z.number().int(),
  precision: nnum,
});

export const reportSchema = z.object({
  schema: z.literal(REPORT_SCHEMA),
  generated_at: z.string(),
  experiment: z.object({ id: z.string(), created_at: z.string(), rollouts: z.number().int(), finished: z.number().int() }),
  compare: z.object({ id: z.string(), created_at: z.string(), rollouts: z.number().int(), finished: z.number().int() }).nullable(),
  provenance: provenanceSchema,
  groups: z.array(groupSchema),
  families: z.array(groupSchema),
  compare_groups: z.array(groupSchema),
  paired: z.array(pairedSchema),
  figures: z.array(figureSchema),
  rollouts: z.array(rolloutBriefSchema),
  /** Per-workload speedup and fraction of roofline of every rollout a speedup verifier graded. */
  kernels: z.array(kernelRowSchema),
  /** Per monitor rule: its flags and their decisions; precision = confirmed / (confirmed + dismissed), null before any. */
  rules: z.array(ruleStatSchema),
  /** Review decisions made and the time from each flag to its decision. */
  review: z.object({ decisions: z.number().int(), time_to_decision_ms: distSchema }),
  warnings: z.array(z.string()),
});

export type Report = z.infer<typeof reportSchema>;
export type GroupStats = z.infer<typeof groupSchema>;
export type PairedDelta = z.infer<typeof pairedSchema>;
export type Figure = z.infer<typeof figureSchema>;
export type FigureProvenance = z.infer<typeof figureProvenanceSchema>;
export type Provenance = z.infer<typeof provenanceSchema>;
export type RolloutBrief = z.infer<typeof rolloutBriefSchema>;
export type KernelRow = z.infer<typeof kernelRowSchema>;
export type Dist = z.infer<typeof distSchema>;
export type RuleStat = z.infer<typeof ruleStatSchema>;
