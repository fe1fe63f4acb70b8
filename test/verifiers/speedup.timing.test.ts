// The speedup verifier where the numbers depend on timing the machine: run alone, after the rest of
// the suite (vitest.timing.config.ts). Real kernels compiled by gcc, graded through the process
// boundary in a real sandbox (bwrap; `none` only where bwrap cannot run here, said in the output).
//   - smoke workloads: nop (the reference against itself) scores about 1, oracles clearly more,
//     edited copies of the task's files in the workspace change nothing;
//   - hidden workloads: the extend-attention oracle graded twice agrees within its spread; no
//     oracle is flagged (each workload below its roofline bound); every cheat kernel scores 0 or is
//     withheld and flagged, never above 1.05.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { VerifyOutcome } from '../../src/verifiers/verifier.js';
import { EXTEND_CHEATS, expectDefeated, FIXTURES, grade, kit, KERNELS, reason, SOFTMAX_CHEATS, type Kit } from './speedup-helpers.js';

let k: Kit;
beforeAll(async () => {
  k = await kit();
}, 120_000);

const HIDDEN = { workloads: 'workloads.txt', budget_sec: undefined, min_repeats: undefined, max_repeats: undefined };
type Details = { correct: boolean; speedup: number; spread: { p25: number; p75: number }; workloads: { name: string; roofline_fraction: number | null }[] };
const details = (o: VerifyOutcome) => o.score.details as unknown as Details;

describe('smoke workloads', () => {
  it('extend attention: nop (the reference itself) scores about 1, within its spread', { timeout: 120_000 }, async () => {
    const o = await grade(k, null, { task: 'extend-attention' });
    const d = details(o);
    expect(d.correct, reason(o)).toBe(true);
    console.log(`nop smoke run: ${o.score.value.toFixed(3)} [${d.spread.p25.toFixed(3)}, ${d.spread.p75.toFixed(3)}]`);
    expect(o.score.grader.settings.seed).toBe(1234);
    // ≈ 1 within the measured spread (plus a margin for this shared 2-core machine)
    expect(o.score.value).toBeGreaterThan(Math.min(0.8, d.spread.p25 - 0.1));
    expect(o.score.value).toBeLessThan(Math.max(1.25, d.spread.p75 + 0.1));
    expect(d.spread.p25 - 0.15).toBeLessThan(1);
    expect(d.spread.p75 + 0.15).toBeGreaterThan(1);
    expect(o.score.passed).toBe(o.score.value >= 1.1);
  });

  it('extend attention: the oracle is correct and clearly faster', { timeout: 120_000 }, async () => {
    const o = await grade(k, path.join(KERNELS, 'extend-attention/solution/kernel.c'), { task: 'extend-attention', seed: 11 });
    expect(details(o).correct, reason(o)).toBe(true);
    expect(o.score.value).toBeGreaterThan(1.3);
    expect(o.score.passed).toBe(true);
    expect(o.flags ?? []).toEqual([]);
  });

  for (const name of ['softmax', 'rmsnorm', 'matmul']) {
    it(`${name}: nop scores about 1, the oracle clearly more`, { timeout: 120_000 }, async () => {
      const nop = await grade(k, null, { task: name });
      expect(details(nop).correct, reason(nop)).toBe(true);
      expect(nop.score.value).toBeGreaterThan(0.75);
      expect(nop.score.value).toBeLessThan(1.3);
      const oracle = await grade(k, path.join(KERNELS, name, 'solution/kernel.c'), { task: name });
      expect(details(oracle).correct, reason(oracle)).toBe(true);
      // a modest bar: smoke workloads are small and this machine is shared (headroom on the hidden
      // workloads is measured by tasks/kernels/common/headroom.sh, see docs/kernels.md)
      expect(oracle.score.value).toBeGreaterThan(1.05);
    });
  }

  it('edited copies of the eval script, driver, rules, header and reference, and a planted result.json, change nothing (≈ 1)', { timeout: 120_000 }, async () => {
    const ed = (f: string) => path.join(FIXTURES, 'extend-attention/edited', f);
    const o = await grade(k, null, {
      task: 'extend-attention',
      extra: { 'eval.sh': ed('eval.sh'), 'driver.c': ed('driver.c'), 'reference.c': ed('reference.c'), 'kernel.h': ed('kernel.h'), 'result.json': ed('result.json'), 'check_kernel.py': ed('check_kernel.py') },
    });
    expect(details(o).correct, reason(o)).toBe(true);
    expect(o.score.value).toBeGreaterThan(0.7);
    expect(o.score.value).toBeLessThan(1.3);
    expect(o.score.passed).toBe(o.score.value >= 1.1);
  });
});

describe('hidden workloads', () => {
  // Two gradings of the same rollout (same seed: same shapes, fresh input values) on the real
  // hidden workloads agree within the spread they report. How long one takes is in bench/RESULTS.md.
  it('grades the extend-attention oracle with a real margin, twice, and the two runs agree within their spread', { timeout: 400_000 }, async () => {
    const runs: VerifyOutcome[] = [];
    for (let i = 0; i < 2; i++) {
      const t0 = Date.now();
      const o = await grade(k, path.join(KERNELS, 'extend-attention/solution/kernel.c'), { task: 'extend-attention', seed: 11, config: HIDDEN });
      console.log(`full extend-attention verification of the oracle: ${((Date.now() - t0) / 1000).toFixed(1)}s, speedup ${o.score.value.toFixed(2)} (spread ${JSON.stringify(details(o).spread)})`);
      expect(details(o).correct, reason(o)).toBe(true);
      expect(o.score.value).toBeGreaterThan(1.5);
      expect(o.flags ?? []).toEqual([]);
      runs.push(o);
    }
    const [sa, sb] = runs.map((o) => details(o).spread);
    // the intervals overlap (with a 15% margin for machine drift between the two runs)
    expect(sa!.p25 * 0.85).toBeLessThan(sb!.p75);
    expect(sb!.p25 * 0.85).toBeLessThan(sa!.p75);
  });

  for (const name of ['softmax', 'rmsnorm', 'matmul']) {
    it(`${name}: the oracle is correct, faster, and below its roofline bound on every workload`, { timeout: 200_000 }, async () => {
      const o = await grade(k, path.join(KERNELS, name, 'solution/kernel.c'), { task: name, config: HIDDEN });
      const d = details(o);
      expect(d.correct, reason(o)).toBe(true);
      expect(o.flags ?? []).toEqual([]);
      expect(o.score.value).toBeGreaterThan(1.05);
      for (const w of d.workloads) expect(w.roofline_fraction, w.name).toBeLessThan(1);
    });
  }

  for (const [file, what, why] of SOFTMAX_CHEATS) {
    it(`softmax: a kernel that ${what} scores 0 or is flagged`, { timeout: 200_000 }, async () => {
      const o = await grade(k, path.join(FIXTURES, 'softmax', file), { config: HIDDEN });
      expectDefeated(o);
      expect(reason(o)).toMatch(why);
    });
  }
  for (const [file, what, why] of EXTEND_CHEATS) {
    it(`extend-attention: a kernel that ${what} scores 0`, { timeout: 200_000 }, async () => {
      const o = await grade(k, path.join(FIXTURES, 'extend-attention', file), { task: 'extend-attention', config: HIDDEN });
      expectDefeated(o);
      expect(reason(o)).toMatch(why);
    });
  }
});
