// Aggregation: from stored rollouts (store rows + per-rollout event summaries) to a Report.
// Pure functions, no I/O (loader.ts reads the store and the logs). Every random draw is seeded, and
// the generation time is an input, so the same rollouts give the same report byte for byte.
import type { Usage } from '../core/types.js';
import { zeroUsage, addUsage } from '../core/usage.js';
import type { ExperimentRow, RolloutRow } from '../store/store.js';
import { crossHarness, type HarnessRollout } from './cross-harness.js';
import { bootstrapMean, extent, mean, passAtK, quantile, survival, type CiMethod } from './stats.js';
import type { RolloutSummary } from './summary.js';
import {
  REPORT_SCHEMA,
  type Dist,
  type Figure,
  type FigureProvenance,
  type GroupStats,
  type PairedDelta,
  type Provenance,
  type KernelRow,
  type Report,
  type RolloutBrief,
  type RuleStat,
} from './schema.js';

export interface ExperimentData {
  experiment: ExperimentRow;
  rollouts: RolloutRow[];
  /** Event summaries by rollout id; a rollout without one is reported from its row alone. */
  summaries: Map<string, RolloutSummary>;
}

export interface ReportOptions {
  includeInfra?: boolean;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  seed?: number;
  confidence?: number;
  minClusters?: number;
  /** ISO time stamped on the report (default: now). */
  generatedAt?: string;
  /** A second experiment to compare against (paired deltas on shared tasks). */
  compare?: ExperimentData;
  /** Add the cross-harness consistency blocks (`--by harness`). */
  byHarness?: boolean;
}

/** One rollout joined with its summary: the unit everything below works on. */
interface Unit {
  experiment: string;
  row: RolloutRow;
  s: RolloutSummary | null;
  key: string;
  /** Counted in scores. */
  scored: boolean;
  /** A reviewer confirmed one of its flags: a hack, left out of the scores (with a mark). */
  hacked: boolean;
  /** Flags waiting for a decision. */
  pending: number;
  score: number;
  passed: boolean;
}

export function groupKey(model: string | null, harness: string): string {
  return `${model ?? '-'} × ${harness}`;
}

function units(data: ExperimentData, includeInfra: boolean): Unit[] {
  return data.rollouts.map((row) => {
    const s = data.summaries.get(row.rollout_id) ?? null;
    const outcome = row.outcome ?? s?.outcome ?? null;
    const finished = row.status === 'finished' || (s !== null && s.outcome !== null);
    const hacked = (s?.flags.confirmed ?? 0) > 0;
    const pending = (s?.flags.open ?? 0) + (s?.flags.needs_info ?? 0);
    // a confirmed hack is no score: left out of the headline, and said so (brief, warnings, tables)
    const scored = finished && outcome !== null && (outcome !== 'infra_error' || includeInfra) && !hacked;
    // A finished rollout without a score (e.g. it never reached the verifier) scores 0: a failure is a failure.
    const score = row.score ?? s?.score ?? 0;
    const passed = row.passed ?? s?.passed ?? false;
    return { experiment: data.experiment.id, row, s, key: groupKey(row.model, row.harness), scored, hacked, pending, score, passed };
  });
}

function dist(xs: number[]): Dist {
  if (xs.length === 0) return { n: 0, mean: null, p50: null, p95: null, max: null };
  return { n: xs.length, mean: mean(xs), p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), max: extent(xs)![1] };
}

function byTask(us: Unit[]): Map<string, Unit[]> {
  const m = new Map<string, Unit[]>();
  for (const u of us) {
    const l = m.get(u.row.task);
    if (l) l.push(u);
    else m.set(u.row.task, [u]);
  }
  return m;
}

interface StatOpts {
  resamples: number;
  seed: number;
  confidence: number;
  minClusters: number;
}

/** A rollout's wall time over all its attempts: the log's summary knows (older logs' totals counted only the last attempt). */
function wallMs(u: Unit): number | null {
  return u.s?.wall_ms ?? u.row.wall_ms;
}

/** A rollout's attempts: from its log, else its row, else 1. */
function attempts(u: Unit): number {
  return u.s && u.s.attempts > 0 ? u.s.attempts : (u.row.attempts ?? 1);
}

function groupStats(all: Unit[], key: string, family: string | null, o: StatOpts): GroupStats {
  const first = all[0]!;
  const outcomes = { completed: 0, gave_up: 0, budget_exhausted: 0, timeout: 0, task_error: 0, infra_error: 0, running: 0, pending: 0 };
  for (const u of all) {
    const oc = u.row.outcome ?? u.s?.outcome ?? null;
    if (oc && oc in outcomes) outcomes[oc as keyof typeof outcomes]++;
    else if (u.row.status === 'running') outcomes.running++;
    else outcomes.pending++;
  }
  const scored = all.filter((u) => u.scored);
  const tasks = byTask(scored);
  const taskUnits = [...tasks.values()].map((l) => ({ value: mean(l.map((u) => u.score))!, cluster: l[0]!.row.family || l[0]!.row.task }));
  const boot = bootstrapMean(taskUnits, o);
  const pass1 = tasks.size ? mean([...tasks.values()].map((l) => l.filter((u) => u.passed).length / l.length)) : null;
  const kMin = tasks.size ? Math.min(...[...tasks.values()].map((l) => l.length)) : 0;
  const passK = kMin >= 2 ? { k: kMin, value: mean([...tasks.values()].map((l) => passAtK(l.length, l.filter((u) => u.passed).length, kMin)))! } : null;

  const sum = (f: (u: Unit) => number) => scored.reduce((a, u) => a + f(u), 0);
  let total: Usage = zeroUsage();
  for (const u of scored) if (u.s) total = addUsage(total, u.s.usage);
  const n = scored.length;
  const perTask = n ? { input: total.input / n, cached: total.cached / n, cache_write: total.cache_write / n, output: total.output / n, reasoning: total.reasoning / n } : null;
  const cost = sum((u) => u.s?.cost_usd ?? u.row.cost_usd ?? 0);
  const solved = scored.filter((u) => u.passed).length;
  const scoreSum = sum((u) => u.score);
  const ttft = scored.flatMap((u) => u.s?.ttft_ms ?? []);
  const tps = scored.flatMap((u) => u.s?.output_tps ?? []);
  const modelCalls = sum((u) => u.s?.model_calls ?? 0);
  const flags = { total: 0, open: 0, needs_info: 0, confirmed: 0, dismissed: 0 };
  for (const u of all) {
    if (!u.s) continue;
    for (const k of ['total', 'open', 'needs_info', 'confirmed', 'dismissed'] as const) flags[k] += u.s.flags[k];
  }
  const finishedUnits = all.filter((u) => u.row.status === 'finished' || (u.s !== null && u.s.outcome !== null));
  const passedUnits = finishedUnits.filter((u) => u.passed);
  const integrity = {
    clean_passed: passedUnits.filter((u) => !u.hacked && u.pending === 0).length,
    hacked_passed: passedUnits.filter((u) => u.hacked).length,
    unreviewed_passed: passedUnits.filter((u) => !u.hacked && u.pending > 0).length,
    hacked_excluded: finishedUnits.filter((u) => u.hacked).length,
  };
  const finishedNums = (f: (u: Unit) => number | null | undefined) =>
    scored.map(f).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return {
    key,
    model: first.row.model,
    harness: first.row.harness,
    family,
    rollouts: all.length,
    outcomes,
    score: {
      mean: boot ? boot.mean : null,
      ci: boot?.ci ?? null,
      ci_method: (boot?.method ?? 'none') as CiMethod,
      n_tasks: tasks.size,
      n_rollouts: n,
      resamples: boot?.resamples ?? 0,
    },
    pass_at_1: pass1,
    pass_at_k: passK,
    endurance: {
      tool_calls: dist(finishedNums((u) => u.s?.tool_calls ?? u.row.tool_calls)),
      turns: dist(finishedNums((u) => (u.s ? u.s.turns : null))),
      wall_ms: dist(finishedNums(wallMs)),
      working_ms: dist(finishedNums((u) => u.s?.working_ms)),
      attempts: dist(finishedNums(attempts)),
      resumed: scored.filter((u) => attempts(u) > 1).length,
    },
    tokens: { total, per_task: perTask },
    cost: {
      total_usd: cost,
      per_task_usd: n ? cost / n : null,
      per_solved_task_usd: solved ? cost / solved : null,
      output_tokens_per_score: scoreSum > 0 && total.output > 0 ? total.output / scoreSum : null,
      solved,
      unmetered_calls: sum((u) => u.s?.unmetered.calls ?? 0),
      unmetered_usd_estimate: sum((u) => u.s?.unmetered.cost_usd ?? 0),
    },
    latency: { ttft_ms: dist(ttft), output_tps: dist(tps) },
    cache_hit_ratio: total.input > 0 ? total.cached / total.input : null,
    model_calls: modelCalls,
    flags,
    integrity,
  };
}

function groupsOf(us: Unit[]): Map<string, Unit[]> {
  const m = new Map<string, Unit[]>();
  for (const u of us) {
    const l = m.get(u.key);
    if (l) l.push(u);
    else m.set(u.key, [u]);
  }
  return m;
}

/** Paired difference b − a over the tasks both have scored rollouts on. */
export function pairedDelta(a: Unit[], b: Unit[], aRef: { key: string; experiment: string }, bRef: { key: string; experiment: string }, o: StatOpts): PairedDelta {
  const ta = byTask(a.filter((u) => u.scored));
  const tb = byTask(b.filter((u) => u.scored));
  const diffs: { value: number; cluster: string }[] = [];
  let wins = 0;
  let losses = 0;
  let ties = 0;
  for (const [task, la] of ta) {
    const lb = tb.get(task);
    if (!lb) continue;
    const d = mean(lb.map((u) => u.score))! - mean(la.map((u) => u.score))!;
    diffs.push({ value: d, cluster: la[0]!.row.family || task });
    if (Math.abs(d) < 1e-12) ties++;
    else if (d > 0) wins++;
    else losses++;
  }
  const boot = bootstrapMean(diffs, o);
  return {
    a: aRef,
    b: bRef,
    tasks: diffs.length,
    mean_diff: boot ? boot.mean : null,
    ci: boot?.ci ?? null,
    ci_method: boot?.method ?? 'none',
    wins,
    losses,
    ties,
  };
}

function uniq<T>(xs: T[], key: (x: T) => string = (x) => JSON.stringify(x)): T[] {
  const seen = new Map<string, T>();
  for (const x of xs) if (!seen.has(key(x))) seen.set(key(x), x);
  return [...seen.values()];
}

/** Graders that scored rollouts; a verifier kind that never graded anything is listed from its config as `not graded`. */
function verifiersOf(ss: RolloutSummary[]): Provenance['verifiers'] {
  const graded = uniq(ss.flatMap((s) => (s.provenance.verifier ? [s.provenance.verifier] : [])));
  const kinds = new Set(graded.map((v) => v.verifier));
  const ungraded = uniq(
    ss.flatMap((s) => {
      const c = s.provenance.verifier_config;
      if (s.provenance.verifier || !c) return [];
      const kind = String(c.kind ?? 'unknown');
      return kinds.has(kind) ? [] : [{ verifier: kind, version: 'not graded', settings: c }];
    }),
  );
  return [...graded, ...ungraded];
}

function provenance(datas: ExperimentData[], us: Unit[], generatedAt: string, o: StatOpts & { includeInfra: boolean }): Provenance {
  const ss = us.map((u) => u.s).filter((s): s is RolloutSummary => s !== null);
  const endpoints = new Map<string, { base_url: string; upstream_model: string; protocol: string }>();
  for (const d of datas) for (const ep of d.experiment.record.model_config?.endpoints ?? []) endpoints.set(ep.name, ep);
  const recTasks = datas.flatMap((d) => d.experiment.record.tasks.map((t) => ({ name: t.name, family: t.family, hash: t.hash })));
  const models = uniq(
    [
      ...ss.flatMap((s) => (s.provenance.model ? [s.provenance.model] : [])),
      ...datas.flatMap((d) => d.experiment.record.models.map((name) => ({ name, upstream_model: null, protocol: null }))),
    ].map((m) => {
      const ep = endpoints.get(m.name);
      return { name: m.name, upstream_model: m.upstream_model ?? ep?.upstream_model ?? null, protocol: m.protocol ?? ep?.protocol ?? null, base_url: ep?.base_url ?? null };
    }),
    (m) => m.name,
  );
  const starts = ss.map((s) => s.started_at).filter((x): x is string => !!x).sort();
  const ends = ss.map((s) => s.finished_at).filter((x): x is string => !!x).sort();
  const exp0 = datas[0]!.experiment;
  return {
    outlast: uniq([
      ...ss.filter((s) => s.provenance.outlast).map((s) => ({ version: s.provenance.outlast!, commit: s.provenance.commit })),
      ...(ss.length ? [] : datas.map((d) => ({ version: d.experiment.record.outlast_version, commit: null }))),
    ]),
    node: uniq(ss.map((s) => s.provenance.node).filter((x): x is string => !!x)),
    experiments: datas.map((d) => ({ id: d.experiment.id, created_at: d.experiment.created_at, argv: d.experiment.record.argv ?? [] })),
    tasks: uniq([...recTasks, ...ss.flatMap((s) => (s.provenance.task ? [s.provenance.task] : []))], (t) => `${t.name}\0${t.hash}`),
    verifiers: verifiersOf(ss),
    harnesses: uniq(ss.flatMap((s) => (s.provenance.harness ? [s.provenance.harness] : []))),
    models,
    price_tables: uniq(ss.flatMap((s) => s.provenance.price_tables)).sort(),
    limits: {
      experiment: (exp0.record.limits as Record<string, unknown> | undefined) ?? null,
      rollouts: uniq(ss.map((s) => (s.provenance.limits ?? {}) as Record<string, unknown>)),
    },
    sandbox: uniq(ss.flatMap((s) => (s.provenance.sandbox ? [s.provenance.sandbox] : [])).concat(ss.length ? [] : datas.map((d) => ({ mode: d.experiment.record.sandbox, unsandboxed: d.experiment.record.sandbox === 'none' })))),
    dates: { experiment_created: exp0.created_at, first_started: starts[0] ?? null, last_finished: ends[ends.length - 1] ?? null, generated_at: generatedAt },
    report: { include_infra: o.includeInfra, confidence: o.confidence, resamples: o.resamples, seed: o.seed, min_clusters: o.minClusters },
  };
}

/** The short provenance every figure carries (a figure without it is not shown). */
export function figureProvenance(p: Provenance): FigureProvenance {
  return {
    experiments: p.experiments.map((e) => e.id),
    graders: p.verifiers.map((v) => `${v.verifier}@${v.version}`),
    harnesses: p.harnesses.map((h) => `${h.name}@${h.version}`),
    models: p.models.map((m) => (m.upstream_model && m.upstream_model !== m.name ? `${m.name} (${m.upstream_model})` : m.name)),
    price_tables: p.price_tables,
    outlast: p.outlast.map((v) => (v.commit ? `${v.version} (${v.commit.slice(0, 12)})` : v.version)),
    generated_at: p.dates.generated_at,
  };
}

function figure(id: string, title: string, kind: Figure['kind'], x: string, y: string, series: Figure['series'], prov: FigureProvenance): Figure {
  return { id, title, kind, x: { label: x }, y: { label: y }, series, points: series.reduce((n, s) => n + s.points.length, 0), provenance: prov };
}

function ecdf(xs: number[]): [number, number][] {
  const s = [...xs].sort((a, b) => a - b);
  return s.map((x, i) => [x, (i + 1) / s.length]);
}

function figures(groups: Map<string, Unit[]>, prov: FigureProvenance): Figure[] {
  const gs = [...groups.entries()];
  const scored = (us: Unit[]) => us.filter((u) => u.scored);
  const evals = (us: Unit[], f: (p: { tool_calls: number; hours: number }) => number): [number, number][] =>
    us.flatMap((u) => (u.s?.evaluations ?? []).map((e) => [f(e), e.score] as [number, number])).sort((a, b) => a[0] - b[0]);
  return [
    figure('score_vs_tool_calls', 'Intermediate score vs tool calls', 'scatter', 'tool calls', 'score', gs.map(([k, us]) => ({ name: k, points: evals(us, (e) => e.tool_calls) })), prov),
    figure('score_vs_hours', 'Intermediate score vs wall-clock hours', 'scatter', 'hours', 'score', gs.map(([k, us]) => ({ name: k, points: evals(us, (e) => e.hours) })), prov),
    figure(
      'cost_vs_score',
      'Cost vs score (one point per rollout)',
      'scatter',
      'cost (USD)',
      'score',
      gs.map(([k, us]) => ({ name: k, points: scored(us).map((u) => [u.s?.cost_usd ?? u.row.cost_usd ?? 0, u.score] as [number, number]).sort((a, b) => a[0] - b[0]) })),
      prov,
    ),
    figure(
      'survival_tool_calls',
      'Share of rollouts still working vs tool calls',
      'step',
      'tool calls',
      'share still working',
      gs.map(([k, us]) => ({ name: k, points: survival(scored(us).map((u) => u.s?.tool_calls ?? u.row.tool_calls ?? 0)) })),
      prov,
    ),
    figure(
      'survival_hours',
      'Share of rollouts still working vs hours',
      'step',
      'hours',
      'share still working',
      gs.map(([k, us]) => ({ name: k, points: survival(scored(us).map((u) => (wallMs(u) ?? 0) / 3_600_000)) })),
      prov,
    ),
    figure('ttft', 'Time to first token (ECDF)', 'ecdf', 'TTFT (ms)', 'share of calls ≤ x', gs.map(([k, us]) => ({ name: k, points: ecdf(scored(us).flatMap((u) => u.s?.ttft_ms ?? [])) })), prov),
    figure('output_tps', 'Output tokens/s (ECDF)', 'ecdf', 'output tokens/s', 'share of calls ≤ x', gs.map(([k, us]) => ({ name: k, points: ecdf(scored(us).flatMap((u) => u.s?.output_tps ?? [])) })), prov),
  ];
}

function brief(u: Unit): RolloutBrief {
  return {
    experiment_id: u.row.experiment_id,
    rollout_id: u.row.rollout_id,
    task: u.row.task,
    family: u.row.family,
    harness: u.row.harness,
    model: u.row.model,
    repeat: u.row.repeat,
    status: u.row.status,
    outcome: u.row.outcome ?? u.s?.outcome ?? null,
    score: u.row.score ?? u.s?.score ?? null,
    passed: u.row.passed ?? u.s?.passed ?? null,
    excluded: !u.scored,
    excluded_reason: u.scored ? null : u.hacked && finishedUnit(u) ? 'confirmed_hack' : !finishedUnit(u) ? 'unfinished' : 'infra_error',
    hack: u.hacked ? 'confirmed' : u.pending > 0 ? 'unreviewed' : null,
    tool_calls: u.s?.tool_calls ?? u.row.tool_calls ?? 0,
    turns: u.s?.turns ?? 0,
    wall_ms: wallMs(u),
    attempts: attempts(u),
    cost_usd: u.s?.cost_usd ?? u.row.cost_usd ?? 0,
    unmetered_calls: u.s?.unmetered.calls ?? 0,
    unmetered_usd_estimate: u.s?.unmetered.cost_usd ?? 0,
    events: u.row.events,
    evaluations: u.s?.evaluations.length ?? 0,
    flags: u.s?.flags.total ?? 0,
  };
}

function finishedUnit(u: Unit): boolean {
  return (u.row.status === 'finished' || (u.s !== null && u.s.outcome !== null)) && (u.row.outcome ?? u.s?.outcome ?? null) !== null;
}

/** Per-rule flags and decisions over every rollout, with precision from the decisions. */
function ruleStats(us: Unit[]): RuleStat[] {
  const m = new Map<string, RuleStat>();
  for (const u of us)
    for (const [rule_id, r] of Object.entries(u.s?.flags.by_rule ?? {})) {
      const x = m.get(rule_id) ?? { rule_id, flags: 0, confirmed: 0, dismissed: 0, pending: 0, precision: null };
      x.flags += r.flags;
      x.confirmed += r.confirmed;
      x.dismissed += r.dismissed;
      x.pending += r.pending;
      m.set(rule_id, x);
    }
  for (const x of m.values()) x.precision = x.confirmed + x.dismissed > 0 ? x.confirmed / (x.confirmed + x.dismissed) : null;
  return [...m.values()].sort((a, b) => (a.rule_id < b.rule_id ? -1 : 1));
}

function kernelRows(u: Unit): KernelRow[] {
  const k = u.s?.kernels;
  if (!k) return [];
  return k.workloads.map((w) => ({
    rollout_id: u.row.rollout_id,
    task: u.row.task,
    key: u.key,
    repeat: u.row.repeat,
    workload: w.name,
    speedup: w.speedup,
    p25: w.p25,
    p75: w.p75,
    ref_ms: w.ref_ms,
    cand_ms: w.cand_ms,
    bound_ms: w.bound_ms,
    roofline_fraction: w.roofline_fraction,
    limit: w.limit,
    withheld: k.withheld,
  }));
}

function harnessRollout(u: Unit): HarnessRollout {
  return {
    task: u.row.task,
    family: u.row.family,
    harness: u.row.harness,
    model: u.row.model,
    scored: u.scored,
    infra_error: (u.row.outcome ?? u.s?.outcome) === 'infra_error',
    score: u.score,
    passed: u.passed,
    cost_usd: u.s?.cost_usd ?? u.row.cost_usd ?? 0,
    input_tokens: u.s?.usage.input ?? 0,
    output_tokens: u.s?.usage.output ?? 0,
    tool_calls: u.s?.tool_calls ?? u.row.tool_calls ?? 0,
    turns: u.s?.turns ?? 0,
    model_calls: u.s?.model_calls ?? 0,
  };
}

/** What a reader of the cross-harness numbers must know: tasks some harness lacks, models with one harness. */
function crossHarnessWarnings(blocks: NonNullable<Report['by_harness']>): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    const who = b.model ?? 'no model';
    if (b.harnesses.length < 2) out.push(`--by harness: ${who} ran only one harness (${b.harnesses.join(', ')}): nothing to compare`);
    for (const h of b.per_harness)
      if (h.missing_tasks.length && b.harnesses.length > 1)
        out.push(`--by harness: ${h.key} has no scored rollout on ${h.missing_tasks.length} task(s) (${h.missing_tasks.slice(0, 8).join(', ')}${h.missing_tasks.length > 8 ? ', …' : ''}): matched numbers use ${b.common_tasks.length} common task(s), each pair its own shared tasks`);
  }
  return out;
}

export function buildReport(data: ExperimentData, opts: ReportOptions = {}): Report {
  const includeInfra = opts.includeInfra ?? false;
  const o: StatOpts = { resamples: opts.resamples ?? 2000, seed: opts.seed ?? 1, confidence: opts.confidence ?? 0.95, minClusters: opts.minClusters ?? 5 };
  const generatedAt = opts.generatedAt ?? new Date().toISOString();
  const us = units(data, includeInfra);
  const cmp = opts.compare ? units(opts.compare, includeInfra) : [];
  const groups = groupsOf(us);
  const cgroups = groupsOf(cmp);
  const datas = opts.compare ? [data, opts.compare] : [data];
  const prov = provenance(datas, [...us, ...cmp], generatedAt, { ...o, includeInfra });
  const fprov = figureProvenance(prov);
  const warnings: string[] = [];

  const groupRows = [...groups.entries()].map(([k, l]) => groupStats(l, k, null, o));
  const familyRows: GroupStats[] = [];
  for (const [k, l] of groups) {
    const fams = new Map<string, Unit[]>();
    for (const u of l) {
      const f = u.row.family || '-';
      const fl = fams.get(f);
      if (fl) fl.push(u);
      else fams.set(f, [u]);
    }
    if (fams.size > 1) for (const [f, fl] of [...fams.entries()].sort()) familyRows.push(groupStats(fl, k, f, o));
  }

  const paired: PairedDelta[] = [];
  const expId = data.experiment.id;
  if (opts.compare) {
    const cid = opts.compare.experiment.id;
    // Same configuration in both experiments; when each has exactly one, pair those two whatever their names.
    const pairs: [string, string][] =
      groups.size === 1 && cgroups.size === 1 ? [[[...cgroups.keys()][0]!, [...groups.keys()][0]!]] : [...groups.keys()].filter((k) => cgroups.has(k)).map((k) => [k, k]);
    if (pairs.length === 0) warnings.push(`no configuration (model × harness) appears in both ${expId} and ${cid}: no paired deltas`);
    for (const [ck, k] of pairs) paired.push(pairedDelta(cgroups.get(ck)!, groups.get(k)!, { key: ck, experiment: cid }, { key: k, experiment: expId }, o));
  } else {
    const keys = [...groups.keys()];
    for (let i = 0; i < keys.length; i++)
      for (let j = i + 1; j < keys.length; j++)
        paired.push(pairedDelta(groups.get(keys[i]!)!, groups.get(keys[j]!)!, { key: keys[i]!, experiment: expId }, { key: keys[j]!, experiment: expId }, o));
  }

  const infra = us.filter((u) => (u.row.outcome ?? u.s?.outcome) === 'infra_error').length;
  if (infra && !includeInfra) warnings.push(`${infra} rollout(s) ended in infra_error and are excluded from scores (use --include-infra to count them)`);
  const hacked = us.filter((u) => u.hacked && finishedUnit(u));
  if (hacked.length) warnings.push(`${hacked.length} rollout(s) left out of the scores: a reviewer confirmed a hack (${hacked.slice(0, 5).map((u) => u.row.rollout_id).join(', ')}${hacked.length > 5 ? ', …' : ''})`);
  const pendingFlags = us.reduce((n, u) => n + u.pending, 0);
  if (pendingFlags) warnings.push(`${pendingFlags} monitor flag(s) on ${us.filter((u) => u.pending > 0).length} rollout(s) are unreviewed: their scores count until a reviewer decides (\`outlast review\`)`);
  const unfinished = us.filter((u) => u.row.status !== 'finished').length;
  if (unfinished) warnings.push(`${unfinished} rollout(s) are not finished and are not scored`);
  if (us.length && us.every((u) => !u.s || u.s.model_calls === 0)) warnings.push('no model calls recorded: token, cost and latency figures are empty');

  let byHarness: Report['by_harness'] = null;
  if (opts.byHarness) {
    byHarness = crossHarness(us.map(harnessRollout), data.experiment.record.harnesses ?? [], groupKey, o);
    warnings.push(...crossHarnessWarnings(byHarness));
  }

  const meta = (d: ExperimentData) => ({ id: d.experiment.id, created_at: d.experiment.created_at, rollouts: d.experiment.rollouts, finished: d.experiment.finished });
  return {
    schema: REPORT_SCHEMA,
    generated_at: generatedAt,
    experiment: meta(data),
    compare: opts.compare ? meta(opts.compare) : null,
    provenance: prov,
    groups: groupRows,
    families: familyRows,
    compare_groups: [...cgroups.entries()].map(([k, l]) => groupStats(l, k, null, o)),
    paired,
    figures: figures(groups, fprov),
    rollouts: us.map(brief),
    kernels: us.flatMap(kernelRows),
    by_harness: byHarness,
    rules: ruleStats(us),
    review: { decisions: us.reduce((n, u) => n + (u.s?.flags.decision_ms.length ?? 0), 0), time_to_decision_ms: dist(us.flatMap((u) => u.s?.flags.decision_ms ?? [])) },
    warnings,
  };
}
