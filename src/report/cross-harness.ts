// Cross-harness consistency (`outlast report --by harness`): the same model through several harnesses
// on the same tasks. Per-harness scores with CIs, their spread, rank stability across tasks, per-task
// pass/fail agreement (Cohen's kappa per pair), and cost, token and tool-call differences on matched
// tasks. Pure: aggregate.ts hands it one plain record per rollout. Definitions: docs/report-format.md.
import { bootstrapMean, cohenKappa, kendallW, mean, stdev, type BootstrapOptions } from './stats.js';
import type { CrossHarness, HarnessMeans, HarnessPair, HarnessRow, ScoreStat } from './schema.js';

/** One rollout as this module sees it. */
export interface HarnessRollout {
  task: string;
  family: string;
  harness: string;
  model: string | null;
  /** Counted in scores (finished; not infra_error unless the report includes them). */
  scored: boolean;
  infra_error: boolean;
  score: number;
  passed: boolean;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  tool_calls: number;
  turns: number;
  model_calls: number;
}

const MEASURES = ['cost_usd', 'input_tokens', 'output_tokens', 'tool_calls', 'turns', 'model_calls'] as const;
type Measure = (typeof MEASURES)[number];
const EPS = 1e-12;

/** A harness's numbers on one task: means over its scored repeats, and its pass/fail verdict. */
interface TaskCell {
  family: string;
  score: number;
  pass_share: number;
  /** More than half of the scored repeats passed. */
  pass: boolean;
  m: Record<Measure, number>;
}

function cells(rs: HarnessRollout[]): Map<string, TaskCell> {
  const byTask = new Map<string, HarnessRollout[]>();
  for (const r of rs) if (r.scored) byTask.set(r.task, [...(byTask.get(r.task) ?? []), r]);
  const out = new Map<string, TaskCell>();
  for (const [task, l] of byTask) {
    const passed = l.filter((r) => r.passed).length;
    const m = Object.fromEntries(MEASURES.map((k) => [k, mean(l.map((r) => r[k]))!])) as Record<Measure, number>;
    out.set(task, { family: l[0]!.family || task, score: mean(l.map((r) => r.score))!, pass_share: passed / l.length, pass: passed * 2 > l.length, m });
  }
  return out;
}

function scoreStat(units: { value: number; cluster: string }[], rollouts: number, o: BootstrapOptions): ScoreStat {
  const b = bootstrapMean(units, o);
  return { mean: b?.mean ?? null, ci: b?.ci ?? null, ci_method: b?.method ?? 'none', n_tasks: units.length, n_rollouts: rollouts, resamples: b?.resamples ?? 0 };
}

function means(tasks: string[], f: (task: string) => Record<Measure, number>): HarnessMeans {
  return Object.fromEntries(MEASURES.map((k) => [k, mean(tasks.map((t) => f(t)[k]))])) as HarnessMeans;
}

function harnessRow(harness: string, key: string, rs: HarnessRollout[], c: Map<string, TaskCell>, all: string[], common: string[], o: BootstrapOptions): HarnessRow {
  const scored = rs.filter((r) => r.scored);
  const commonSet = new Set(common);
  return {
    harness,
    key,
    rollouts: rs.length,
    scored: scored.length,
    infra_error: rs.filter((r) => r.infra_error).length,
    excluded: rs.length - scored.length,
    missing_tasks: all.filter((t) => !c.has(t)),
    score: scoreStat([...c.values()].map((x) => ({ value: x.score, cluster: x.family })), scored.length, o),
    matched: scoreStat(common.map((t) => ({ value: c.get(t)!.score, cluster: c.get(t)!.family })), scored.filter((r) => commonSet.has(r.task)).length, o),
    matched_pass_rate: mean(common.map((t) => c.get(t)!.pass_share)),
    means: means(common, (t) => c.get(t)!.m),
  };
}

function pair(a: string, b: string, ca: Map<string, TaskCell>, cb: Map<string, TaskCell>, o: BootstrapOptions): HarnessPair {
  const tasks = [...ca.keys()].filter((t) => cb.has(t)).sort();
  const boot = bootstrapMean(
    tasks.map((t) => ({ value: cb.get(t)!.score - ca.get(t)!.score, cluster: ca.get(t)!.family })),
    o,
  );
  const verdicts = { both_pass: 0, a_pass_b_fail: 0, a_fail_b_pass: 0, both_fail: 0 };
  for (const t of tasks) {
    const [pa, pb] = [ca.get(t)!.pass, cb.get(t)!.pass];
    if (pa && pb) verdicts.both_pass++;
    else if (pa) verdicts.a_pass_b_fail++;
    else if (pb) verdicts.a_fail_b_pass++;
    else verdicts.both_fail++;
  }
  const diff = Object.fromEntries(MEASURES.map((k) => [k, mean(tasks.map((t) => cb.get(t)!.m[k] - ca.get(t)!.m[k]))])) as HarnessMeans;
  return {
    a,
    b,
    tasks: tasks.length,
    only_a: [...ca.keys()].filter((t) => !cb.has(t)).sort(),
    only_b: [...cb.keys()].filter((t) => !ca.has(t)).sort(),
    score_diff: { mean: boot?.mean ?? null, ci: boot?.ci ?? null, ci_method: boot?.method ?? 'none' },
    verdicts,
    agreement: tasks.length ? (verdicts.both_pass + verdicts.both_fail) / tasks.length : null,
    kappa: cohenKappa(tasks.map((t) => [ca.get(t)!.pass, cb.get(t)!.pass] as const)),
    diff,
  };
}

/** Rank stability over the common tasks: Kendall's W and the share of tasks that do not reverse the overall order. */
function rank(harnesses: string[], cs: Map<string, TaskCell>[], common: string[], overall: (number | null)[]): CrossHarness['rank'] {
  const rows = common.map((t) => cs.map((c) => c.get(t)!.score));
  let contradicting = 0;
  let allTied = 0;
  for (const row of rows) {
    if (row.every((x) => Math.abs(x - row[0]!) <= EPS)) allTied++;
    let reversed = false;
    for (let i = 0; i < harnesses.length; i++)
      for (let j = 0; j < harnesses.length; j++) {
        const [oi, oj] = [overall[i], overall[j]];
        if (oi === null || oi === undefined || oj === null || oj === undefined) continue;
        if (oi - oj > EPS && row[j]! - row[i]! > EPS) reversed = true;
      }
    if (reversed) contradicting++;
  }
  return { tasks: common.length, kendall_w: kendallW(rows), contradicting, all_tied: allTied, agreement: common.length ? (common.length - contradicting) / common.length : null };
}

function spread(harnesses: string[], ms: (number | null)[]): CrossHarness['spread'] {
  const xs = ms.filter((x): x is number => x !== null);
  if (xs.length < 2) return { range: null, stdev: null, best: [], worst: [] };
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  const at = (v: number) => harnesses.filter((_, i) => ms[i] !== null && Math.abs(ms[i]! - v) <= EPS);
  return { range: hi - lo, stdev: stdev(xs), best: at(hi), worst: at(lo) };
}

/** One block: one model's rollouts across its harnesses (named in `order`). */
function block(model: string | null, order: string[], rs: HarnessRollout[], keyOf: (model: string | null, harness: string) => string, o: BootstrapOptions): CrossHarness {
  const byHarness = order.map((h) => rs.filter((r) => r.harness === h));
  const cs = byHarness.map(cells);
  const all = [...new Set(cs.flatMap((c) => [...c.keys()]))].sort();
  const common = all.filter((t) => cs.every((c) => c.has(t)));
  const rows = order.map((h, i) => harnessRow(h, keyOf(model, h), byHarness[i]!, cs[i]!, all, common, o));
  const pairs: HarnessPair[] = [];
  for (let i = 0; i < order.length; i++) for (let j = i + 1; j < order.length; j++) pairs.push(pair(order[i]!, order[j]!, cs[i]!, cs[j]!, o));
  const overall = rows.map((r) => r.matched.mean);
  const verdicts = common.map((t) => cs.map((c) => c.get(t)!.pass));
  const allPass = verdicts.filter((v) => v.every(Boolean)).length;
  const allFail = verdicts.filter((v) => v.every((x) => !x)).length;
  const several = order.length > 1;
  let note: string | null = null;
  if (!several) note = `only one harness (${order[0] ?? '-'}) ran ${model ?? 'without a model'}: nothing to compare across harnesses`;
  else if (common.length === 0) note = 'no task has scored rollouts from every harness: the matched numbers are empty (see the pairs)';
  else if (common.length < all.length) note = `${all.length - common.length} of ${all.length} tasks lack scores from some harness and are left out of the matched numbers (each pair is matched on its own shared tasks)`;
  return {
    model,
    harnesses: order,
    tasks: all.length,
    common_tasks: common,
    note,
    per_harness: rows,
    // With one harness there is nothing to rank or agree with: empty, not trivially perfect.
    spread: several ? spread(order, overall) : { range: null, stdev: null, best: [], worst: [] },
    rank: several ? rank(order, cs, common, overall) : { tasks: 0, kendall_w: null, contradicting: 0, all_tied: 0, agreement: null },
    agreement: several
      ? { tasks: common.length, all_pass: allPass, all_fail: allFail, share_alike: common.length ? (allPass + allFail) / common.length : null }
      : { tasks: 0, all_pass: 0, all_fail: 0, share_alike: null },
    pairs,
  };
}

/**
 * Cross-harness blocks, one per model (harnesses run without a model, like oracle and nop, form the
 * block of model null). `harnessOrder` names the harnesses in the experiment's order; any others
 * follow alphabetically.
 */
export function crossHarness(rs: HarnessRollout[], harnessOrder: string[], keyOf: (model: string | null, harness: string) => string, o: BootstrapOptions): CrossHarness[] {
  const models = [...new Set(rs.map((r) => r.model))].sort((a, b) => (a ?? '').localeCompare(b ?? ''));
  return models.map((model) => {
    const mine = rs.filter((r) => r.model === model);
    const present = new Set(mine.map((r) => r.harness));
    const order = [...harnessOrder.filter((h) => present.has(h)), ...[...present].filter((h) => !harnessOrder.includes(h)).sort()];
    return block(model, [...new Set(order)], mine, keyOf, o);
  });
}
