import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/aggregate.js';
import { loadExperiment } from '../../src/report/loader.js';
import { reportSchema } from '../../src/report/schema.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { EXPECTED, EXP_A, EXP_B, generateFixture, type Fixture } from '../fixtures/report/generate.js';

let fx: Fixture;
let store: SqliteStore;

beforeAll(async () => {
  fx = await generateFixture(fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-report-')));
  store = SqliteStore.open(fx.layout.db, { layout: fx.layout });
});
afterAll(async () => {
  await store?.close();
  fs.rmSync(fx.home, { recursive: true, force: true });
});

describe('report over the fixture experiment', () => {
  it('matches the hand-computed numbers', async () => {
    const exp = (await store.getExperiment(EXP_A))!;
    const t0 = performance.now();
    const r = buildReport(await loadExperiment(store, exp), { generatedAt: '2026-11-25T00:00:00.000Z', resamples: 500 });
    console.log(`report built in ${(performance.now() - t0).toFixed(0)} ms`);
    reportSchema.parse(r);
    expect(r.groups.map((g) => g.key)).toEqual(Object.keys(EXPECTED.groups));
    for (const g of r.groups) {
      const e = EXPECTED.groups[g.key as keyof typeof EXPECTED.groups];
      expect(g.score.mean).toBeCloseTo(e.mean, 10);
      expect(g.pass_at_1).toBeCloseTo(e.pass1, 10);
      if (e.passK) {
        expect(g.pass_at_k?.k).toBe(e.passK.k);
        expect(g.pass_at_k?.value).toBeCloseTo(e.passK.value, 10);
      } else expect(g.pass_at_k).toBeNull();
      expect(g.score.n_tasks).toBe(e.tasks);
      expect(g.score.n_rollouts).toBe(e.rollouts);
      expect(g.cost.per_task_usd).toBeCloseTo(e.costPerTask, 10);
      expect(g.cost.per_solved_task_usd).toBeCloseTo(e.costPerSolved, 10);
      expect(g.latency.ttft_ms.p50).toBeCloseTo(e.ttftP50, 10);
      expect(g.latency.ttft_ms.p95).toBeCloseTo(e.ttftP95, 10);
      expect(g.cache_hit_ratio).toBeCloseTo(e.cacheHit, 10);
      expect(g.flags.total).toBe(e.flags);
      expect(g.flags.confirmed).toBe(e.confirmed);
      expect(g.score.ci!.lo).toBeLessThanOrEqual(g.score.mean!);
      expect(g.score.ci!.hi).toBeGreaterThanOrEqual(g.score.mean!);
    }
    expect(r.groups[1]!.outcomes.infra_error).toBe(EXPECTED.infra);
    expect(r.warnings.join(' ')).toMatch(/infra_error/);
    expect(r.paired[0]!.mean_diff).toBeCloseTo(EXPECTED.pairedWithin, 10);
    for (const f of r.figures) expect(f.points, f.id).toBe(EXPECTED.figurePoints[f.id]);
    expect(r.families.length).toBe(4);
    expect(r.provenance.price_tables).toEqual(['fixture-prices-1']);
    expect(r.provenance.models.find((m) => m.name === 'm-fast')).toMatchObject({ upstream_model: 'fast-1', base_url: 'http://127.0.0.1:9/v1' });
    expect(r.provenance.verifiers).toEqual([{ verifier: 'command', version: '1', settings: { command: 'bash /tests/test.sh' } }]);
  });

  it('is reproducible (seeded bootstrap) and counts infra errors only when asked', async () => {
    const data = await loadExperiment(store, (await store.getExperiment(EXP_A))!);
    const a = buildReport(data, { generatedAt: 'x', resamples: 300, seed: 7 });
    const b = buildReport(data, { generatedAt: 'x', resamples: 300, seed: 7 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const inc = buildReport(data, { generatedAt: 'x', resamples: 300, includeInfra: true });
    const slow = inc.groups.find((g) => g.key.startsWith('m-slow'))!;
    expect(slow.score.n_rollouts).toBe(12);
    expect(slow.pass_at_k).toEqual({ k: 2, value: expect.any(Number) });
  });

  it('pairs the same configuration across two experiments', async () => {
    const a = await loadExperiment(store, (await store.getExperiment(EXP_A))!);
    const b = await loadExperiment(store, (await store.getExperiment(EXP_B))!);
    const r = buildReport(a, { compare: b, resamples: 300 });
    reportSchema.parse(r);
    expect(r.paired).toHaveLength(1);
    expect(r.paired[0]!.a).toEqual({ key: 'm-fast × outlast', experiment: EXP_B });
    expect(r.paired[0]!.mean_diff).toBeCloseTo(EXPECTED.pairedCompare, 10);
    expect(r.paired[0]!.tasks).toBe(6);
  });
});
