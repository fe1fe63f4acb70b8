// The report's kernels section: a rollout graded by the speedup verifier shows, per workload, its
// speedup over the reference beside the kernel's time as a fraction of the machine's roofline bound,
// in the JSON, the terminal table and the HTML; a withheld score says so.
import { describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { buildReport, type ExperimentData } from '../../src/report/aggregate.js';
import { renderReportHtml } from '../../src/report/html.js';
import { reportSchema } from '../../src/report/schema.js';
import { summarize } from '../../src/report/summary.js';
import { renderReportTable } from '../../src/report/table.js';
import type { ExperimentRecord, RolloutRow } from '../../src/store/store.js';

const T = '2026-11-25T00:00:00.000Z';

function verified(details: Record<string, unknown>, verifier = 'speedup'): TrajectoryEvent[] {
  return [
    { t: T, seq: 0, type: 'verifier.result', score: { value: 8.6, passed: true, details, grader: { verifier, version: '2.0.0', settings: {} }, graded_at: T }, run: { exit_code: 0, duration_ms: 1, output: '', truncated_bytes: 0, timed_out: false } },
  ] as unknown as TrajectoryEvent[];
}

function data(summaries: [string, TrajectoryEvent[]][]): ExperimentData {
  const record = { id: 'e1', created_at: T, argv: [], outlast_version: '0.1.0', tasks: [], harnesses: ['oracle'], models: [], repeats: 1, concurrency: 1, sandbox: 'bwrap', rollouts: [] } as ExperimentRecord;
  const rows: RolloutRow[] = summaries.map(([id]) => ({
    experiment_id: 'e1', rollout_id: id, task: 'kernels/softmax', family: 'kernels', task_hash: 'h', harness: 'oracle', model: null, repeat: 0, status: 'finished', outcome: 'completed',
    score: 8.6, passed: true, started_at: T, finished_at: T, wall_ms: 1, tool_calls: 0, cost_usd: 0, events: 1, trajectory: '',
  }));
  return { experiment: { id: 'e1', created_at: T, rollouts: rows.length, finished: rows.length, record }, rollouts: rows, summaries: new Map(summaries.map(([id, ev]) => [id, summarize(id, ev)])) };
}

describe('kernels in the report', () => {
  const details = {
    speedup: 8.6,
    workloads: [
      { name: 'vocab_128k', speedup: 8.6, p25: 8.1, p75: 9.0, ref_ms: 43, cand_ms: 5, bound_ms: 1.15, roofline_fraction: 0.23, limit: 'memory' },
      { name: 'no_roofline', speedup: 2, p25: 1.9, p75: 2.1, ref_ms: 2, cand_ms: 1 },
    ],
  };

  it('lists each workload with its speedup and fraction of roofline', () => {
    const r = buildReport(data([['r1', verified(details)]]), { generatedAt: T, resamples: 50 });
    reportSchema.parse(r);
    expect(r.kernels).toEqual([
      expect.objectContaining({ rollout_id: 'r1', task: 'kernels/softmax', workload: 'vocab_128k', speedup: 8.6, cand_ms: 5, bound_ms: 1.15, roofline_fraction: 0.23, limit: 'memory', withheld: false }),
      expect.objectContaining({ workload: 'no_roofline', speedup: 2, bound_ms: null, roofline_fraction: null, limit: null }),
    ]);
    const text = renderReportTable(r);
    expect(text).toMatch(/Kernels: speedup over the reference and share of this machine's roofline, per workload/);
    expect(text).toMatch(/vocab_128k\s+8\.60x\s+8\.10–9\.00\s+5\s+1\.150\s+23\.0% \(memory\)/);
    const html = renderReportHtml(r);
    expect(html).toContain('<table class="kernels">');
    expect(html).toMatch(/data-field="roofline_fraction">23\.0% \(memory\)</);
  });

  it('marks a withheld score, and shows nothing for other verifiers', () => {
    const r = buildReport(data([['r1', verified({ ...details, withheld: true })], ['r2', verified({ workloads: [{ name: 'x' }] }, 'command')]]), { generatedAt: T, resamples: 50 });
    expect(r.kernels.map((k) => [k.rollout_id, k.workload, k.withheld])).toEqual([
      ['r1', 'vocab_128k', true],
      ['r1', 'no_roofline', true],
    ]);
    expect(renderReportTable(r)).toMatch(/8\.60x \(withheld\)/);
    expect(renderReportTable(buildReport(data([['r2', verified({}, 'command')]]), { generatedAt: T, resamples: 50 }))).not.toMatch(/Kernels:/);
  });
});
