// The cross-harness report (`--by harness`) over fixture experiments written to a real SQLite store
// (test/fixtures/report/harnesses.ts): every number is worked out by hand in the comments below.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/aggregate.js';
import { renderByHarnessTable } from '../../src/report/cross-harness-table.js';
import { renderReportHtml } from '../../src/report/html.js';
import { loadExperiment } from '../../src/report/loader.js';
import { reportSchema, type CrossHarness, type Report } from '../../src/report/schema.js';
import { averageRanks, cohenKappa, kendallW } from '../../src/report/stats.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { ExperimentRow, RolloutRow } from '../../src/store/store.js';
import { EXP_SOLO, EXP_X, generateHarnessFixture } from '../fixtures/report/harnesses.js';

let home: string;
let store: SqliteStore;
let report: Report;

async function build(id: string, opts: { includeInfra?: boolean } = {}): Promise<Report> {
  const r = buildReport(await loadExperiment(store, (await store.getExperiment(id))!), { generatedAt: '2026-12-02T00:00:00.000Z', resamples: 400, byHarness: true, ...opts });
  reportSchema.parse(r);
  return r;
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-by-harness-'));
  await generateHarnessFixture(home);
  store = SqliteStore.open(path.join(home, 'outlast.db'), {});
  report = await build(EXP_X);
});
afterAll(async () => {
  await store?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const blockOf = (r: Report, model: string): CrossHarness => r.by_harness!.find((b) => b.model === model)!;
const row = (b: CrossHarness, h: string) => b.per_harness.find((x) => x.harness === h)!;
const pairOf = (b: CrossHarness, a: string, bb: string) => b.pairs.find((p) => p.a === a && p.b === bb)!;

describe('the statistics, by hand', () => {
  it('ranks with ties, Kendall W and Cohen kappa', () => {
    expect(averageRanks([0.5, 1, 1, 0])).toEqual([3, 1.5, 1.5, 4]);
    // Three raters agreeing perfectly on three items: W = 1; reversed pair of raters: 0.
    expect(kendallW([[3, 2, 1], [3, 2, 1], [3, 2, 1]])).toBeCloseTo(1, 12);
    expect(kendallW([[2, 1], [1, 2]])).toBeCloseTo(0, 12);
    // Every row tied: nothing ranked, no W.
    expect(kendallW([[1, 1], [0, 0]])).toBeNull();
    // Both raters always pass: chance agreement 1, kappa undefined.
    expect(cohenKappa([[true, true], [true, true]])).toBeNull();
    // Always opposite with pa = pb = 1/2: pₒ = 0, pₑ = 1/2, κ = −1.
    expect(cohenKappa([[true, false], [false, true]])).toBeCloseTo(-1, 12);
  });
});

describe('two harnesses (m2: outlast, codex), two repeats, five tasks', () => {
  // Task means (score over repeats)   t1  t2  t3  t4  t5
  //   outlast  [1,1] [1,0] [0,0] [1,1] [0.5 failed,1]  →  1   .5   0   1  .75   mean 3.25/5 = 0.65
  //   codex    [1,1] [0,0] [1,0] [1,0] [0,0]           →  1    0  .5  .5    0   mean 2/5   = 0.40
  it('scores each harness with the project CI and gives the spread', () => {
    const b = blockOf(report, 'm2');
    expect(b.harnesses).toEqual(['outlast', 'codex']); // the experiment's --harness order
    expect(b.tasks).toBe(5);
    expect(b.common_tasks).toEqual(['t1', 't2', 't3', 't4', 't5']);
    expect(b.note).toBeNull();
    const [o, c] = [row(b, 'outlast'), row(b, 'codex')];
    expect(o.score.mean).toBeCloseTo(0.65, 12);
    expect(c.score.mean).toBeCloseTo(0.4, 12);
    expect(o.matched.mean).toBeCloseTo(0.65, 12);
    // pass share per task: outlast 1, .5, 0, 1, .5 → 3/5 (t5's 0.5 is a failed repeat); codex 1, 0, .5, .5, 0 → 2/5
    expect(o.matched_pass_rate).toBeCloseTo(0.6, 12);
    expect(c.matched_pass_rate).toBeCloseTo(0.4, 12);
    // The same bootstrap as the leaderboard (2 families < 5: stratified), the same units: the same interval.
    const lead = report.groups.find((g) => g.key === 'm2 × outlast')!;
    expect(o.score.ci).toEqual(lead.score.ci);
    expect(o.score.ci_method).toBe('stratified');
    expect(o.score.ci!.lo).toBeLessThanOrEqual(0.65);
    expect(o.score.ci!.hi).toBeGreaterThanOrEqual(0.65);
    // spread: 0.65 − 0.40 = 0.25; sample sd of two values = range/√2
    expect(b.spread.range).toBeCloseTo(0.25, 12);
    expect(b.spread.stdev).toBeCloseTo(0.25 / Math.SQRT2, 12);
    expect(b.spread.best).toEqual(['outlast']);
    expect(b.spread.worst).toEqual(['codex']);
  });

  it('measures rank stability and pass/fail agreement', () => {
    const b = blockOf(report, 'm2');
    // Per task (outlast vs codex): t1 tie, t2 o>c, t3 c>o (reverses the overall o > c), t4 o>c, t5 o>c.
    // Kendall W for two items = (wins − losses)² / (m·(wins + losses)) = (3 − 1)² / (5·4) = 0.2:
    //   ranks t1 (1.5,1.5) t2 (1,2) t3 (2,1) t4 (1,2) t5 (1,2) → R = 6.5, 8.5; mean 7.5; S = 1 + 1 = 2;
    //   W = 12·2 / (5²·(2³−2) − 5·(2³−2)) = 24 / (150 − 30) = 0.2
    expect(b.rank).toEqual({ tasks: 5, kendall_w: expect.closeTo(0.2, 12), contradicting: 1, all_tied: 1, agreement: expect.closeTo(0.8, 12) });
    // Verdicts (pass = more than half of the repeats passed): outlast P F F P F (t5: 1 of 2 is not more than half);
    // codex P F F F F → both pass t1; outlast only t4; both fail t2, t3, t5.
    const p = pairOf(b, 'outlast', 'codex');
    expect(p.tasks).toBe(5);
    expect(p.only_a).toEqual([]);
    expect(p.only_b).toEqual([]);
    expect(p.verdicts).toEqual({ both_pass: 1, a_pass_b_fail: 1, a_fail_b_pass: 0, both_fail: 3 });
    expect(p.agreement).toBeCloseTo(0.8, 12);
    // κ: pₒ = 4/5; pa = 2/5, pb = 1/5 → pₑ = .4·.2 + .6·.8 = .56; κ = (.8 − .56)/(1 − .56) = .24/.44 = 6/11
    expect(p.kappa).toBeCloseTo(6 / 11, 12);
    expect(b.agreement).toEqual({ tasks: 5, all_pass: 1, all_fail: 3, share_alike: expect.closeTo(0.8, 12) });
    // score diff (codex − outlast) per task: 0, −.5, +.5, −.5, −.75 → −1.25/5 = −0.25
    expect(p.score_diff.mean).toBeCloseTo(-0.25, 12);
    expect(p.score_diff.ci!.lo).toBeLessThanOrEqual(-0.25);
    expect(p.score_diff.ci!.hi).toBeGreaterThanOrEqual(-0.25);
  });

  it('gives cost, token and tool-call means and differences', () => {
    const b = blockOf(report, 'm2');
    // outlast: 1 call per rollout ($0.01, 1000 in, 100 out, 1 turn), tool calls N + r → task mean N + .5 → 3.5
    // codex:   4 calls per rollout ($0.04, 4000 in, 400 out, 4 turns), tool calls 20 + N + r → 23.5
    expect(row(b, 'outlast').means).toEqual({ cost_usd: expect.closeTo(0.01, 12), input_tokens: 1000, output_tokens: 100, tool_calls: 3.5, turns: 1, model_calls: 1 });
    expect(row(b, 'codex').means).toEqual({ cost_usd: expect.closeTo(0.04, 12), input_tokens: 4000, output_tokens: 400, tool_calls: 23.5, turns: 4, model_calls: 4 });
    expect(pairOf(b, 'outlast', 'codex').diff).toEqual({ cost_usd: expect.closeTo(0.03, 12), input_tokens: 3000, output_tokens: 300, tool_calls: 20, turns: 3, model_calls: 3 });
  });
});

describe('three harnesses (m1), with infra errors and tasks some harness lacks', () => {
  //                  t1     t2          t3              t4     t5
  //   outlast       [1,1]  [1,1]       [1,0]           [0,0]  [1,1]   task means 1, 1, .5, 0, 1  → 3.5/5 = 0.7
  //   claude-code   [1,0]  [1,infra]   [infra,infra]   [1,1]  [0,0]   task means .5, 1, –, 1, 0  → 2.5/4 = 0.625
  //   codex         [0,0]  [1,1]       [1,1]           [0,1]  (none)  task means 0, 1, 1, .5, –  → 2.5/4 = 0.625
  // common tasks (scored by all three): t1, t2, t4
  //   matched means: outlast (1+1+0)/3 = 2/3, claude-code (.5+1+1)/3 = 5/6, codex (0+1+.5)/3 = 1/2
  it('says which tasks each harness lacks and which pairs are matched', () => {
    const b = blockOf(report, 'm1');
    expect(b.harnesses).toEqual(['outlast', 'claude-code', 'codex']);
    expect(b.tasks).toBe(5);
    expect(b.common_tasks).toEqual(['t1', 't2', 't4']);
    expect(b.note).toMatch(/2 of 5 tasks lack scores from some harness/);
    expect(row(b, 'outlast').missing_tasks).toEqual([]);
    expect(row(b, 'claude-code').missing_tasks).toEqual(['t3']); // both of its t3 rollouts died of infra
    expect(row(b, 'codex').missing_tasks).toEqual(['t5']); // never ran t5
    expect(b.pairs.map((p) => [p.a, p.b, p.tasks, p.only_a, p.only_b])).toEqual([
      ['outlast', 'claude-code', 4, ['t3'], []],
      ['outlast', 'codex', 4, ['t5'], []],
      ['claude-code', 'codex', 3, ['t5'], ['t3']],
    ]);
    expect(report.warnings).toContain('--by harness: m1 × claude-code has no scored rollout on 1 task(s) (t3): matched numbers use 3 common task(s), each pair its own shared tasks');
    expect(report.warnings).toContain('--by harness: m1 × codex has no scored rollout on 1 task(s) (t5): matched numbers use 3 common task(s), each pair its own shared tasks');
  });

  it('excludes infra_error rollouts from scores and counts them', () => {
    const b = blockOf(report, 'm1');
    const cc = row(b, 'claude-code');
    expect([cc.rollouts, cc.scored, cc.infra_error, cc.excluded]).toEqual([10, 7, 3, 3]);
    expect(cc.score).toMatchObject({ mean: expect.closeTo(0.625, 12), n_tasks: 4, n_rollouts: 7 });
    // matched rollouts: t1 ×2, t2 ×1 (the other died), t4 ×2
    expect(cc.matched).toMatchObject({ mean: expect.closeTo(5 / 6, 12), n_tasks: 3, n_rollouts: 5 });
    expect(row(b, 'outlast').score.mean).toBeCloseTo(0.7, 12);
    expect(row(b, 'outlast').matched.mean).toBeCloseTo(2 / 3, 12);
    expect(row(b, 'codex').score.mean).toBeCloseTo(0.625, 12);
    expect(row(b, 'codex').matched.mean).toBeCloseTo(0.5, 12);
    // The infra rollouts made 7 tool calls and 1 model call each; none of that is in the means.
    // claude-code tool calls: 10 + N + r → t1 (11+12)/2 = 11.5, t2 12 (r0 only), t4 (14+15)/2 = 14.5 → 38/3
    expect(cc.means.tool_calls).toBeCloseTo(38 / 3, 12);
    expect(cc.means.cost_usd).toBeCloseTo(0.02, 12);
    expect(cc.means.model_calls).toBe(2);
  });

  it('counts them in the scores with --include-infra', async () => {
    const r = await build(EXP_X, { includeInfra: true });
    const cc = row(blockOf(r, 'm1'), 'claude-code');
    // infra rollouts score 0: t2 [1, 0] → .5, t3 [0, 0] → 0; tasks .5, .5, 0, 1, 0 → 2/5
    expect(cc.score.mean).toBeCloseTo(0.4, 12);
    expect(cc.missing_tasks).toEqual([]);
    expect([cc.scored, cc.excluded, cc.infra_error]).toEqual([10, 0, 3]);
  });

  it('gives the spread, rank stability and agreement over the common tasks', () => {
    const b = blockOf(report, 'm1');
    // spread of 2/3, 5/6, 1/2: range 5/6 − 1/2 = 1/3; mean 2/3; deviations 0, 1/6, −1/6 → sd = √((2/36)/2) = 1/6
    expect(b.spread.range).toBeCloseTo(1 / 3, 12);
    expect(b.spread.stdev).toBeCloseTo(1 / 6, 12);
    expect(b.spread.best).toEqual(['claude-code']);
    expect(b.spread.worst).toEqual(['codex']);
    // overall order claude-code > outlast > codex. Per task (outlast, claude-code, codex):
    //   t1 (1, .5, 0): outlast > claude-code reverses the overall order → contradicts
    //   t2 (1, 1, 1): all tied
    //   t4 (0, 1, .5): codex > outlast reverses it → contradicts
    // Kendall W: ranks t1 (1,2,3), t2 (2,2,2), t4 (3,1,2) → R = 6, 5, 7; mean m(n+1)/2 = 6; S = 0 + 1 + 1 = 2;
    //   ties: t2 one group of 3 → 3³ − 3 = 24; W = 12·2 / (3²·(3³−3) − 3·24) = 24 / (216 − 72) = 1/6
    expect(b.rank).toEqual({ tasks: 3, kendall_w: expect.closeTo(1 / 6, 12), contradicting: 2, all_tied: 1, agreement: expect.closeTo(1 / 3, 12) });
    // verdicts on t1, t2, t4: outlast P P F; claude-code F P P (t2: its one scored repeat passed); codex F P F
    // all alike only on t2 (all pass)
    expect(b.agreement).toEqual({ tasks: 3, all_pass: 1, all_fail: 0, share_alike: expect.closeTo(1 / 3, 12) });
  });

  it('compares each pair on its own matched tasks', () => {
    const b = blockOf(report, 'm1');
    // outlast vs claude-code on t1, t2, t4, t5: diffs (cc − o) −.5, 0, +1, −1 → −0.125
    //   verdicts o P P F P, cc F P P F → both pass 1 (t2), o only 2 (t1, t5), cc only 1 (t4); agreement 1/4
    //   κ: pa = 3/4, pb = 2/4 → pₑ = .375 + .125 = .5; κ = (.25 − .5)/.5 = −0.5
    const oc = pairOf(b, 'outlast', 'claude-code');
    expect(oc.score_diff.mean).toBeCloseTo(-0.125, 12);
    expect(oc.verdicts).toEqual({ both_pass: 1, a_pass_b_fail: 2, a_fail_b_pass: 1, both_fail: 0 });
    expect(oc.agreement).toBeCloseTo(0.25, 12);
    expect(oc.kappa).toBeCloseTo(-0.5, 12);
    // tool calls (cc − o): t1 11.5 − 1.5, t2 12 − 2.5, t4 14.5 − 4.5, t5 15.5 − 5.5 = 10, 9.5, 10, 10 → 9.875
    expect(oc.diff).toEqual({ cost_usd: expect.closeTo(0.01, 12), input_tokens: 1000, output_tokens: 100, tool_calls: 9.875, turns: 1, model_calls: 1 });
    // outlast vs codex on t1–t4: diffs −1, 0, +.5, +.5 → 0; verdicts o P P F F, codex F P P F → 1 each; κ: pa = pb = 1/2, pₒ = pₑ = 1/2 → 0
    const ox = pairOf(b, 'outlast', 'codex');
    expect(ox.score_diff.mean).toBeCloseTo(0, 12);
    expect(ox.verdicts).toEqual({ both_pass: 1, a_pass_b_fail: 1, a_fail_b_pass: 1, both_fail: 1 });
    expect(ox.kappa).toBeCloseTo(0, 12);
    expect(ox.diff.tool_calls).toBeCloseTo(20, 12);
    // claude-code vs codex on t1, t2, t4: diffs −.5, 0, −.5 → −1/3; verdicts cc F P P, codex F P F → agreement 2/3
    //   κ: pa = 2/3, pb = 1/3 → pₑ = 2/9 + 2/9 = 4/9; κ = (6/9 − 4/9)/(5/9) = 0.4
    //   tool calls (codex − cc): 21.5 − 11.5, 22.5 − 12, 24.5 − 14.5 = 10, 10.5, 10 → 30.5/3
    const cx = pairOf(b, 'claude-code', 'codex');
    expect(cx.score_diff.mean).toBeCloseTo(-1 / 3, 12);
    expect(cx.verdicts).toEqual({ both_pass: 1, a_pass_b_fail: 1, a_fail_b_pass: 0, both_fail: 1 });
    expect(cx.agreement).toBeCloseTo(2 / 3, 12);
    expect(cx.kappa).toBeCloseTo(0.4, 12);
    expect(cx.diff.tool_calls).toBeCloseTo(30.5 / 3, 12);
    expect(cx.diff.cost_usd).toBeCloseTo(0.02, 12);
  });
});

describe('rendering and edge cases', () => {
  it('groups the blocks per model, and leaves by_harness null unless asked', async () => {
    expect(report.by_harness!.map((b) => b.model)).toEqual(['m1', 'm2']);
    const plain = buildReport(await loadExperiment(store, (await store.getExperiment(EXP_X))!), { resamples: 50 });
    expect(plain.by_harness).toBeNull();
  });

  it('says so when a model ran one harness only', async () => {
    const r = await build(EXP_SOLO);
    expect(r.by_harness).toHaveLength(1);
    const b = r.by_harness![0]!;
    expect(b.note).toBe('only one harness (outlast) ran m1: nothing to compare across harnesses');
    expect(b.pairs).toEqual([]);
    expect(b.spread).toEqual({ range: null, stdev: null, best: [], worst: [] });
    expect(b.rank.kendall_w).toBeNull();
    expect(b.rank.agreement).toBeNull();
    expect(b.agreement.share_alike).toBeNull();
    // its own score is still there: t1 [1, 0] → .5, t2 [1, 1] → 1 → 0.75
    expect(b.per_harness[0]!.score.mean).toBeCloseTo(0.75, 12);
    expect(r.warnings).toContain('--by harness: m1 ran only one harness (outlast): nothing to compare');
    expect(renderByHarnessTable(r)).toContain('only one harness (outlast) ran m1');
  });

  it('prints the numbers in the terminal table and the HTML report', () => {
    const t = renderByHarnessTable(report);
    expect(t).toContain('Across harnesses: model m2 (5 tasks, all 5 matched)');
    expect(t).toContain('Across harnesses: model m1 (5 tasks, 3 matched: t1, t2, t4)');
    // a, b, tasks, Δ score, CI, agreement, κ
    expect(t).toMatch(/outlast\s+codex\s+5\s+-0\.250\s+\[\S+ \S+\]\s+80\.0%\s+0\.545\s/);
    expect(t).toContain('W 0.200');
    expect(t).toContain('claude-code lacks t3');
    const html = renderReportHtml(report);
    expect(html).toContain('data-section="by-harness"');
    expect(html).toContain('data-group="m2 | outlast | codex" data-field="kappa">0.545<');
  });
});

/** Rows passed straight to buildReport (no log): for cases no fixture experiment needs a store for. */
const rowsExperiment: ExperimentRow = {
  id: 'e-rows',
  created_at: '2026-12-01T00:00:00.000Z',
  rollouts: 3,
  finished: 3,
  record: { id: 'e-rows', created_at: '2026-12-01T00:00:00.000Z', argv: [], outlast_version: '0.1.0', tasks: [], harnesses: ['oracle', 'nop'], models: [], repeats: 1, concurrency: 1, sandbox: 'bwrap', rollouts: [] },
};
const bare = (task: string, harness: string, score: number): RolloutRow => ({
  experiment_id: 'e-rows', rollout_id: `${task}-${harness}`, task, family: task, task_hash: 'h', harness, model: null, repeat: 0, status: 'finished',
  outcome: 'completed', score, passed: score >= 1, started_at: null, finished_at: null, wall_ms: 1, tool_calls: 0, cost_usd: 0, events: 0, trajectory: '',
});

describe('no common task', () => {
  it('leaves the matched numbers empty and says why', () => {
    const r = buildReport({ experiment: rowsExperiment, rollouts: [bare('t1', 'oracle', 1), bare('t2', 'nop', 0)], summaries: new Map() }, { resamples: 20, byHarness: true });
    reportSchema.parse(r);
    const b = r.by_harness![0]!;
    expect(b.common_tasks).toEqual([]);
    expect(b.note).toMatch(/no task has scored rollouts from every harness/);
    expect(b.per_harness.map((h) => [h.score.mean, h.matched.mean, h.missing_tasks])).toEqual([
      [1, null, ['t2']],
      [0, null, ['t1']],
    ]);
    expect(b.spread.range).toBeNull();
    expect(b.rank).toEqual({ tasks: 0, kendall_w: null, contradicting: 0, all_tied: 0, agreement: null });
    expect(b.pairs[0]).toMatchObject({ tasks: 0, only_a: ['t1'], only_b: ['t2'], agreement: null, kappa: null, score_diff: { mean: null, ci: null } });
    expect(renderByHarnessTable(r)).toContain('nop lacks t1; oracle lacks t2');
  });
});

describe('names are data, never markup', () => {
  it('escapes task and harness names in the HTML report', () => {
    // A task name is whatever a task.toml says; one harness lacks it, so the name is printed in the
    // missing-tasks and unmatched cells. It must come out as text.
    const evil = '<img src=x onerror=alert(1)>"&';
    const r = buildReport({ experiment: rowsExperiment, rollouts: [bare('ok', 'oracle', 1), bare('ok', 'nop', 0), bare(evil, 'oracle', 1)], summaries: new Map() }, { resamples: 20, byHarness: true });
    reportSchema.parse(r);
    expect(r.by_harness![0]!.per_harness[1]!.missing_tasks).toEqual([evil]);
    const html = renderReportHtml(r);
    expect(html).not.toContain('<img');
    expect(html).toContain('nop lacks &lt;img src=x onerror=alert(1)&gt;&quot;&amp;');
  });
});
