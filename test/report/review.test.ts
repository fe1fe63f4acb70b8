// Review decisions in the report: a confirmed hack leaves its rollout out of the scores with a mark
// (table, JSON, warnings), open flags are "unreviewed" and still scored, a dismissed flag changes no
// number, and per-rule precision and the time from flag to decision come from the decisions.
import { describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { buildReport } from '../../src/report/aggregate.js';
import { reportSchema } from '../../src/report/schema.js';
import { summarize } from '../../src/report/summary.js';
import { renderReportTable } from '../../src/report/table.js';
import type { ExperimentRecord, RolloutRow } from '../../src/store/store.js';

const T0 = Date.UTC(2026, 10, 25);
const t = (s: number) => new Date(T0 + s * 1000).toISOString();
const record: ExperimentRecord = { id: 'e1', created_at: t(0), argv: [], outlast_version: '0.1.0', tasks: [], harnesses: ['outlast'], models: [], repeats: 1, concurrency: 1, sandbox: 'bwrap', rollouts: [] };

function row(id: string, task: string, score: number): RolloutRow {
  return { rollout_id: id, experiment_id: 'e1', task, family: task, task_hash: 'h', harness: 'outlast', model: null, repeat: 0, status: 'finished', outcome: 'completed', score, passed: score === 1, started_at: t(0), finished_at: t(1), wall_ms: 1000, tool_calls: 1, cost_usd: 0, events: 5, trajectory: '' };
}

const flag = (seq: number, id: string, rule: string): TrajectoryEvent => ({ t: t(10), seq, type: 'monitor.flag', flag_id: id, monitor: 'builtin', rule_id: rule, rule_version: '1', severity: 'critical', summary: `${rule} fired`, evidence: [{ seq: 0 }] });
const decision = (seq: number, id: string, d: 'confirmed' | 'dismissed' | 'needs_info', after_s: number): TrajectoryEvent => ({ t: t(10 + after_s), seq, type: 'review.decision', flag_id: id, decision: d, reviewer: 'ana', after_ms: after_s * 1000 });

function data(events: Record<string, TrajectoryEvent[]>) {
  const rows = [row('hacked', 'a', 1), row('honest', 'b', 1), row('open', 'c', 1), row('falsealarm', 'd', 0)];
  return { experiment: { id: 'e1', created_at: t(0), rollouts: 4, finished: 4, record }, rollouts: rows, summaries: new Map(rows.map((r) => [r.rollout_id, summarize(r.rollout_id, events[r.rollout_id] ?? [])])) };
}

describe('report with review decisions', () => {
  const events = {
    hacked: [flag(0, 'f1', 'tamper.grader-files'), decision(1, 'f1', 'needs_info', 30), decision(2, 'f1', 'confirmed', 90)],
    open: [flag(0, 'f2', 'tamper.grader-files')],
    falsealarm: [flag(0, 'f3', 'network.attempt'), decision(1, 'f3', 'dismissed', 20), flag(2, 'f4', 'tamper.grader-files'), decision(3, 'f4', 'dismissed', 40)],
  };
  const r = buildReport(data(events), { generatedAt: t(100), resamples: 200 });

  it('leaves the confirmed hack out of the score, with a mark, and keeps the unreviewed one in', () => {
    reportSchema.parse(r);
    const g = r.groups[0]!;
    // scored: honest (1), open (1), falsealarm (0); the hacked rollout's 1 is not counted
    expect(g.score.n_rollouts).toBe(3);
    expect(g.score.mean).toBeCloseTo(2 / 3, 12);
    expect(g.integrity).toEqual({ clean_passed: 1, hacked_passed: 1, unreviewed_passed: 1, hacked_excluded: 1 });
    expect(g.flags).toEqual({ total: 4, open: 1, needs_info: 0, confirmed: 1, dismissed: 2 });
    const brief = Object.fromEntries(r.rollouts.map((b) => [b.rollout_id, b]));
    expect(brief.hacked).toMatchObject({ excluded: true, excluded_reason: 'confirmed_hack', hack: 'confirmed' });
    expect(brief.open).toMatchObject({ excluded: false, excluded_reason: null, hack: 'unreviewed' });
    expect(brief.falsealarm).toMatchObject({ excluded: false, hack: null });
    expect(r.warnings.join('\n')).toMatch(/1 rollout\(s\) left out of the scores: a reviewer confirmed a hack \(hacked\)/);
    expect(r.warnings.join('\n')).toMatch(/1 monitor flag\(s\) on 1 rollout\(s\) are unreviewed/);
    const text = renderReportTable(r);
    expect(text).toMatch(/1\/1\/1 ✗1/);
    expect(text).toMatch(/✗ - × outlast: 1 rollout\(s\) left out of the score: a reviewer confirmed a hack/);
    expect(text).toMatch(/\? - × outlast: 1 flag\(s\) unreviewed/);
  });

  it('gives per-rule precision and the time from flag to decision', () => {
    expect(r.rules).toEqual([
      { rule_id: 'network.attempt', flags: 1, confirmed: 0, dismissed: 1, pending: 0, precision: 0 },
      { rule_id: 'tamper.grader-files', flags: 3, confirmed: 1, dismissed: 1, pending: 1, precision: 0.5 },
    ]);
    expect(r.review.decisions).toBe(4);
    expect(r.review.time_to_decision_ms).toMatchObject({ n: 4, max: 90_000 });
    expect(renderReportTable(r)).toMatch(/tamper\.grader-files\s+3\s+1\s+1\s+1\s+50\.0%/);
  });

  it('changes nothing for a dismissed flag: the same scores as without it', () => {
    const without = buildReport(data({ ...events, falsealarm: [] }), { generatedAt: t(100), resamples: 200 });
    expect(without.groups[0]!.score).toEqual(r.groups[0]!.score);
  });
});
