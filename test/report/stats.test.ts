import { describe, expect, it } from 'vitest';
import { bootstrapMean, mean, passAtK, quantile, rng, survival } from '../../src/report/stats.js';

function binom(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

describe('pass@k', () => {
  it('matches 1 - C(n-c,k)/C(n,k) computed by hand', () => {
    expect(passAtK(2, 1, 2)).toBe(1); // one of two passed, pick both: always includes the pass
    expect(passAtK(2, 1, 1)).toBeCloseTo(0.5, 12);
    expect(passAtK(5, 0, 3)).toBe(0);
    expect(passAtK(5, 5, 1)).toBe(1);
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
    // n=10, c=3, k=5: 1 - C(7,5)/C(10,5) = 1 - 21/252
    expect(passAtK(10, 3, 5)).toBeCloseTo(1 - 21 / 252, 12);
    for (let n = 1; n <= 12; n++)
      for (let c = 0; c <= n; c++) for (let k = 1; k <= n; k++) expect(passAtK(n, c, k)).toBeCloseTo(1 - binom(n - c, k) / binom(n, k), 10);
  });
  it('is stable for large n and rejects k > n', () => {
    expect(passAtK(1000, 10, 100)).toBeCloseTo(1 - Math.exp([...Array(10)].reduce((a, _, i) => a + Math.log((900 - i) / (1000 - i)), 0)), 10);
    expect(() => passAtK(3, 1, 4)).toThrow(RangeError);
  });
});

describe('quantile, mean, survival', () => {
  it('interpolates like numpy', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.95)).toBeCloseTo(48, 12);
    expect(quantile([], 0.5)).toBeNull();
    expect(mean([])).toBeNull();
  });
  it('survival: share still working after each distinct stop point', () => {
    expect(survival([3, 3, 5, 10])).toEqual([
      [0, 1],
      [3, 0.5],
      [5, 0.25],
      [10, 0],
    ]);
    expect(survival([])).toEqual([]);
  });
});

describe('bootstrap confidence intervals', () => {
  it('is seeded: same seed, same interval; one unit gives none', () => {
    const units = [0.1, 0.5, 0.9, 0.4, 0.7].map((value, i) => ({ value, cluster: `f${i % 2}` }));
    expect(bootstrapMean(units, { seed: 3, resamples: 500 })).toEqual(bootstrapMean(units, { seed: 3, resamples: 500 }));
    expect(bootstrapMean(units, { seed: 3 })!.method).toBe('stratified');
    expect(bootstrapMean([{ value: 1, cluster: 'a' }])).toEqual({ mean: 1, ci: null, method: 'none', resamples: 0 });
    expect(bootstrapMean([])).toBeNull();
  });

  // Coverage by simulation: 1,000 simulated experiments, each with tasks drawn from a known
  // distribution; the 95% interval should contain the true mean about 95% of the time. Resamples are
  // kept small (200) so the test runs in well under a second; the percentile bootstrap with n=40
  // undercovers slightly, so the accepted band is 92–97.5%.
  it('covers the true mean ~95% of the time (stratified, 40 tasks in 2 families)', () => {
    const r = rng(12345);
    const trueMean = 0.35; // tasks: score = 1 with probability 0.35 (a pass/fail task)
    let covered = 0;
    const N = 1000;
    for (let e = 0; e < N; e++) {
      const units = Array.from({ length: 40 }, (_, i) => ({ value: r() < trueMean ? 1 : 0, cluster: i < 20 ? 'a' : 'b' }));
      const b = bootstrapMean(units, { resamples: 200, seed: e + 1 })!;
      if (b.ci!.lo <= trueMean && trueMean <= b.ci!.hi) covered++;
    }
    const coverage = covered / N;
    console.log(`stratified bootstrap coverage: ${(coverage * 100).toFixed(1)}% of ${N}`);
    expect(coverage).toBeGreaterThanOrEqual(0.92);
    expect(coverage).toBeLessThanOrEqual(0.975);
  });

  it('covers the true mean ~95% of the time (cluster bootstrap, 30 families with shared effects)', () => {
    const r = rng(777);
    const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    let covered = 0;
    const N = 1000;
    for (let e = 0; e < N; e++) {
      const units: { value: number; cluster: string }[] = [];
      for (let f = 0; f < 30; f++) {
        const fam = 0.5 * normal(); // family effect: tasks of one family move together
        for (let t = 0; t < 3; t++) units.push({ value: fam + 0.5 * normal(), cluster: `f${f}` });
      }
      const b = bootstrapMean(units, { resamples: 200, seed: e + 1 })!;
      expect(b.method).toBe('cluster');
      if (b.ci!.lo <= 0 && 0 <= b.ci!.hi) covered++;
    }
    const coverage = covered / N;
    console.log(`cluster bootstrap coverage: ${(coverage * 100).toFixed(1)}% of ${N}`);
    expect(coverage).toBeGreaterThanOrEqual(0.91);
    expect(coverage).toBeLessThanOrEqual(0.975);
  });
});
