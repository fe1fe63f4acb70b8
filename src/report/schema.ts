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

/** Per-harness means over tasks (each task's mean over its scored repeats), or pairwise differences of them. */
export const harnessMeansSchema = z.object({
  cost_usd: nnum,
  input_tokens: nnum,
  output_tokens: nnum,
  tool_calls: nnum,
  turns: nnum,
  model_calls: nnum,
});

/** One harness of a cross-harness block (`outlast report --by harness`). */
export const harnessRowSchema = z.object({
  harness: z.string(),
  /** The leaderboard's configuration key (model × harness). */
  key: z.string(),
  rollouts: z.number().int(),
  /** Rollouts in the scores. */
  scored: z.number().int(),
  infra_error: z.number().int(),
  /** Not in the scores: infra_error (unless --include-infra) and unfinished rollouts. */
  excluded: z.number().int(),
  /** Tasks of the block this harness has no scored rollout on. */
  missing_tasks: z.array(z.string()),
  /** Over every task this harness has scores on (the same number as the leaderboard). */
  score: scoreStatSchema,
  /** Over the block's common tasks (those every harness has scores on). */
  matched: scoreStatSchema,
  /** Mean over the common tasks of the share of passed repeats. */
  matched_pass_rate: nnum,
  /** Means over the common tasks. */
  means: harnessMeansSchema,
});

export const harnessPairSchema = z.object({
  a: z.string(),
  b: z.string(),
  /** Tasks both harnesses have scores on (the pair's matched tasks). */
  tasks: z.number().int(),
  /** Tasks only a / only b has scores on (not in this pair's numbers). */
  only_a: z.array(z.string()),
  only_b: z.array(z.string()),
  /** Mean over the matched tasks of (b's task mean − a's task mean), with the bootstrap CI. */
  score_diff: z.object({ mean: nnum, ci: interval.nullable(), ci_method: z.enum(['cluster', 'stratified', 'none']) }),
  /** Task verdicts (pass = more than half of the task's scored repeats passed). */
  verdicts: z.object({ both_pass: z.number().int(), a_pass_b_fail: z.number().int(), a_fail_b_pass: z.number().int(), both_fail: z.number().int() }),
  /** Share of matched tasks with the same verdict. */
  agreement: nnum,
  /** Cohen's kappa of the verdicts (null when chance agreement is 1). */
  kappa: nnum,
  /** Mean over the matched tasks of (b − a). */
  diff: harnessMeansSchema,
});

/** The same model through several harnesses on the same tasks. */
export const crossHarnessSchema = z.object({
  model: z.string().nullable(),
  /** In the order the experiment named them; pairs are (earlier, later). */
  harnesses: z.array(z.string()),
  /** Tasks any harness of this block has scores on, and those all of them have (the common tasks). */
  tasks: z.number().int(),
  common_tasks: z.array(z.string()),
  /** Why some numbers are missing (one harness only, no common task), or null. */
  note: z.string().nullable(),
  per_harness: z.array(harnessRowSchema),
  /** Of the harnesses' matched means: max − min, sample standard deviation, and who is at each end. */
  spread: z.object({ range: nnum, stdev: nnum, best: z.array(z.string()), worst: z.array(z.string()) }),
  /** Rank stability over the common tasks. */
  rank: z.object({
    tasks: z.number().int(),
    /** Kendall's W (tie-corrected) with tasks as raters and harnesses as items. */
    kendall_w: nnum,
    /** Tasks whose per-task order strictly reverses a pair the matched means order. */
    contradicting: z.number().int(),
    /** Tasks on which every harness has the same task mean. */
    all_tied: z.number().int(),
    /** Share of common tasks that do not contradict the overall order. */
    agreement: nnum,
  }),
  /** Pass/fail agreement of all harnesses over the common tasks. */
  agreement: z.object({ tasks: z.number().int(), all_pass: z.number().int(), all_fail: z.number().int(), share_alike: nnum }),
  pairs: z.array(harnessPairSchema),
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
  /** Cross-harness consistency, one block per model (`--by harness`); null when not asked for. */
  by_harness: z.array(crossHarnessSchema).nullable(),
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
export type CrossHarness = z.infer<typeof crossHarnessSchema>;
export type HarnessRow = z.infer<typeof harnessRowSchema>;
export type HarnessPair = z.infer<typeof harnessPairSchema>;
export type HarnessMeans = z.infer<typeof harnessMeansSchema>;
export type ScoreStat = z.infer<typeof scoreStatSchema>;
export type RuleStat = z.infer<typeof ruleStatSchema>;
