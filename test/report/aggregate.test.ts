import { describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { buildReport, pairedDelta, type ExperimentData } from '../../src/report/aggregate.js';
import { renderReportHtml, svgFigure } from '../../src/report/html.js';
import { reportSchema, type Figure } from '../../src/report/schema.js';
import { summarize } from '../../src/report/summary.js';
import { renderReportTable } from '../../src/report/table.js';
import type { ExperimentRecord, ExperimentRow, RolloutRow } from '../../src/store/store.js';

function experiment(id = 'e1', rollouts = 0): ExperimentRow {
  const record: ExperimentRecord = {
    id,
    created_at: '2026-11-25T00:00:00.000Z',
    argv: [],
    outlast_version: '0.1.0',
    tasks: [],
    harnesses: ['oracle'],
    models: [],
    repeats: 1,
    concurrency: 1,
    sandbox: 'bwrap',
    rollouts: [],
  };
  return { id, created_at: record.created_at, rollouts, finished: rollouts, record };
}

function row(p: Partial<RolloutRow> & { rollout_id: string; task: string }): RolloutRow {
  return {
    experiment_id: 'e1',
    family: p.task,
    task_hash: 'h',
    harness: 'oracle',
    model: null,
    repeat: 0,
    status: 'finished',
    outcome: 'completed',
    score: 1,
    passed: true,
    started_at: '2026-11-25T00:00:00.000Z',
    finished_at: '2026-11-25T00:00:01.000Z',
    wall_ms: 1000,
    tool_calls: 1,
    cost_usd: 0,
    events: 10,
    trajectory: '',
    ...p,
  };
}

const opts = { generatedAt: '2026-11-25T00:00:00.000Z', resamples: 200 };

describe('buildReport edge cases', () => {
  it('handles an experiment with no rollouts', () => {
    const r = buildReport({ experiment: experiment(), rollouts: [], summaries: new Map() }, opts);
    reportSchema.parse(r);
    expect(r.groups).toEqual([]);
    expect(r.figures.every((f) => f.points === 0)).toBe(true);
    expect(renderReportTable(r)).toContain('no rollouts');
    expect(renderReportHtml(r)).toContain('no rollouts');
  });

  it('reports oracle/nop rollouts without model events (rows only, no summaries)', () => {
    const rows = [
      row({ rollout_id: 'a--oracle', task: 'a' }),
      row({ rollout_id: 'b--oracle', task: 'b', score: 0, passed: false }),
      row({ rollout_id: 'c--oracle', task: 'c', status: 'pending', outcome: null, score: null, passed: null }),
      row({ rollout_id: 'a--nop', task: 'a', harness: 'nop', score: 0, passed: false }),
    ];
    const r = buildReport({ experiment: experiment('e1', 4), rollouts: rows, summaries: new Map() }, opts);
    reportSchema.parse(r);
    const oracle = r.groups.find((g) => g.harness === 'oracle')!;
    expect(oracle.score.mean).toBe(0.5);
    expect(oracle.score.n_tasks).toBe(2);
    expect(oracle.outcomes).toMatchObject({ completed: 2, pending: 1 });
    expect(oracle.latency.ttft_ms).toEqual({ n: 0, mean: null, p50: null, p95: null, max: null });
    expect(oracle.cost.per_solved_task_usd).toBe(0);
    expect(oracle.cache_hit_ratio).toBeNull();
    expect(r.warnings.join('\n')).toMatch(/not finished/);
    expect(r.warnings.join('\n')).toMatch(/no model calls/);
    // oracle vs nop on task a: 0 − 1
    expect(r.paired[0]).toMatchObject({ tasks: 1, mean_diff: -1, ci: null, losses: 1 });
    expect(renderReportTable(r)).toContain('oracle');
  });

  it('scores a finished rollout without a score as 0 and keeps k labelled', () => {
    const rows = [
      row({ rollout_id: 'x0', task: 'x', repeat: 0, outcome: 'timeout', score: null, passed: null }),
      row({ rollout_id: 'x1', task: 'x', repeat: 1 }),
      row({ rollout_id: 'x2', task: 'x', repeat: 2 }),
      row({ rollout_id: 'y0', task: 'y', repeat: 0, score: 0, passed: false }),
      row({ rollout_id: 'y1', task: 'y', repeat: 1, score: 0, passed: false }),
    ];
    const r = buildReport({ experiment: experiment(), rollouts: rows, summaries: new Map() }, opts);
    const g = r.groups[0]!;
    // x: (0 + 1 + 1) / 3, y: 0 → mean 1/3
    expect(g.score.mean).toBeCloseTo(1 / 3, 12);
    expect(g.pass_at_1).toBeCloseTo(1 / 3, 12);
    // k = fewest repeats = 2; x: n=3, c=2 → 1 − C(1,2)/C(3,2) = 1; y: 0 → 0.5
    expect(g.pass_at_k).toEqual({ k: 2, value: 0.5 });
    expect(g.outcomes.timeout).toBe(1);
  });

  it('derives per-rollout metering from the events', () => {
    const t = (s: number) => new Date(Date.UTC(2026, 10, 25, 0, 0, s)).toISOString();
    const events = [
      { t: t(0), seq: 0, type: 'rollout.started', spec: { rollout_id: 'r', experiment_id: 'e1', task: { name: 'a', family: 'a', dir: '/', hash: 'h', format: 'outlast' }, harness: { name: 'outlast', version: '1', settings: {} }, model: { name: 'm' }, verifier: { kind: 'command', command: 'x', timeout_sec: 1 }, repeat: 0, seed: 0, limits: {}, sandbox: 'bwrap' }, versions: { outlast: '0.1.0', commit: null, node: 'v20' }, sandbox: { mode: 'bwrap', unsandboxed: false, enforced: {} } },
      { t: t(1), seq: 1, type: 'model.response', call_id: 'c', protocol: 'anthropic', model: 'm', status: 200, usage: { input: 100, cached: 50, cache_write: 10, output: 20, reasoning: 5 }, usage_estimated: false, ttft_ms: 250, duration_ms: 1000, output_tps: 20, cost_usd: 0.5, price_table: 'builtin-x', retries: 0, retry_wait_ms: 0 },
      { t: t(2), seq: 2, type: 'model.response', call_id: 'd', protocol: 'anthropic', model: 'm', status: 529, usage: { input: 0, cached: 0, cache_write: 0, output: 0, reasoning: 0 }, usage_estimated: true, ttft_ms: null, duration_ms: 10, output_tps: null, cost_usd: 0, price_table: 'builtin-x', retries: 3, retry_wait_ms: 100, error: { message: 'overloaded', infra: true } },
      { t: t(3), seq: 3, type: 'assistant', text: 'hi', tool_calls: [] },
      { t: t(4), seq: 4, type: 'tool.result', call_id: 'x', name: 'bash', exit_code: 0, duration_ms: 1, output: '', truncated_bytes: 0, timed_out: false },
      { t: t(3604), seq: 5, type: 'evaluation', score: 0.7, details: {}, tool_calls: 1 },
      { t: t(3605), seq: 6, type: 'monitor.flag', flag_id: 'f', monitor: 'm', rule_id: 'r', rule_version: '1', severity: 'critical', summary: 'read tests' },
    ] as unknown as TrajectoryEvent[];
    const s = summarize('r', events);
    expect(s).toMatchObject({ model_calls: 2, failed_model_calls: 1, turns: 1, tool_calls: 1, cost_usd: 0.5, ttft_ms: [250], output_tps: [20], compactions: 0 });
    expect(s.usage).toEqual({ input: 100, cached: 50, cache_write: 10, output: 20, reasoning: 5 });
    expect(s.evaluations).toEqual([{ seq: 5, tool_calls: 1, hours: 1.0011111111111111, score: 0.7 }]);
    expect(s.flags.by_severity).toEqual({ critical: 1 });
    expect(s.provenance.price_tables).toEqual(['builtin-x']);
    const data: ExperimentData = { experiment: experiment(), rollouts: [row({ rollout_id: 'r', task: 'a', harness: 'outlast', model: 'm', status: 'running', outcome: null, score: null })], summaries: new Map([['r', s]]) };
    const r = buildReport(data, opts);
    // Running rollouts are not scored, but their flags count.
    expect(r.groups[0]!.score.n_rollouts).toBe(0);
    expect(r.groups[0]!.flags.total).toBe(1);
    expect(r.figures.find((f) => f.id === 'score_vs_hours')!.points).toBe(1);
  });

  it('paired delta: mean of per-task differences, only shared tasks', () => {
    const mk = (task: string, score: number, harness: string) => ({ experiment: 'e', row: row({ rollout_id: `${task}-${harness}`, task, harness, score }), s: null, key: harness, scored: true, score, passed: score >= 1 });
    const a = [mk('t1', 0, 'a'), mk('t2', 1, 'a'), mk('t3', 0.5, 'a'), mk('only-a', 1, 'a')];
    const b = [mk('t1', 1, 'b'), mk('t2', 1, 'b'), mk('t3', 0, 'b'), mk('only-b', 0, 'b')];
    const d = pairedDelta(a as never, b as never, { key: 'a', experiment: 'e' }, { key: 'b', experiment: 'e' }, { resamples: 200, seed: 1, confidence: 0.95, minClusters: 5 });
    expect(d.tasks).toBe(3);
    expect(d.mean_diff).toBeCloseTo((1 + 0 - 0.5) / 3, 12);
    expect([d.wins, d.losses, d.ties]).toEqual([1, 1, 1]);
  });
});

describe('figures', () => {
  it('a figure without provenance is withheld', () => {
    const f = { id: 'x', title: 'X', kind: 'line', x: { label: 'a' }, y: { label: 'b' }, series: [{ name: 's', points: [[0, 1]] }], points: 1 } as unknown as Figure;
    const html = svgFigure(f);
    expect(html).toContain('withheld');
    expect(html).not.toContain('<svg');
  });
});

describe('scale', () => {
  it('aggregates and draws 300,000 model calls without blowing the stack', () => {
    const s = summarize('big', []);
    s.ttft_ms = Array.from({ length: 300_000 }, (_, i) => i % 1000);
    s.output_tps = s.ttft_ms.map((x) => x + 1);
    s.model_calls = 300_000;
    const data: ExperimentData = { experiment: experiment(), rollouts: [row({ rollout_id: 'big', task: 'a', harness: 'outlast', model: 'm' })], summaries: new Map([['big', s]]) };
    const t0 = performance.now();
    const r = buildReport(data, opts);
    expect(r.groups[0]!.latency.ttft_ms).toMatchObject({ n: 300_000, max: 999, p50: 499.5 });
    const f = r.figures.find((x) => x.id === 'ttft')!;
    expect(f.points).toBe(300_000);
    expect(svgFigure(f)).toContain('data-points="300000"');
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
