// The speedup verifier, for real: real kernels compiled by gcc, graded by the task's own grader in a
// real sandbox (bwrap; `none` only where bwrap cannot run here, said in the test output).
// Most cases use the small smoke workloads (tests/workloads_smoke.txt) through a config override;
// one case grades the oracle twice on the full hidden workloads and checks the two runs agree.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/types.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { loadTask } from '../../src/tasks/load.js';
import { geomean, parseSpeedupConfig, scoreResult, SpeedupVerifier, type GraderResult } from '../../src/verifiers/speedup.js';
import type { VerifyOutcome } from '../../src/verifiers/verifier.js';
import { ROOT, tmpdir } from '../helpers/cli.js';

const TASK_DIR = path.join(ROOT, 'tasks/kernels/extend-attention');
const FIX = path.join(ROOT, 'test/fixtures/kernels/extend-attention');
const SMOKE = { workloads: 'workloads_smoke.txt', budget_sec: 0.6, min_repeats: 8, max_repeats: 16 };

const KERNEL_TASKS = ['extend-attention', 'softmax', 'rmsnorm', 'matmul'] as const;
let sandbox: Sandbox;
const tasks = new Map<string, Task>();

beforeAll(async () => {
  try {
    sandbox = await createSandbox('bwrap');
  } catch (err) {
    console.warn(`speedup tests: bwrap unavailable (${(err as Error).message}); falling back to --sandbox none`);
    sandbox = await createSandbox('none');
  }
  for (const name of KERNEL_TASKS) tasks.set(name, await loadTask(path.join(ROOT, 'tasks/kernels', name)));
});

/** Grade a workspace: the task's starting workspace with `kernel` as kernel.c and `extra` files on top. */
async function grade(
  kernel: string | null,
  opts: { extra?: Record<string, string>; config?: Record<string, unknown>; seed?: number; task?: Task } = {},
): Promise<VerifyOutcome> {
  const task = opts.task ?? tasks.get('extend-attention')!;
  const ws = tmpdir('outlast-speedup-ws-');
  fs.cpSync(task.workspace_dir!, ws, { recursive: true });
  if (kernel !== null) fs.copyFileSync(kernel, path.join(ws, 'kernel.c'));
  for (const [name, from] of Object.entries(opts.extra ?? {})) fs.copyFileSync(from, path.join(ws, name));
  const scratch = tmpdir('outlast-speedup-scratch-');
  const v = new SpeedupVerifier({ ...task.verifier, ...SMOKE, ...opts.config });
  try {
    return await v.verify({ task, workspace: ws, tests: task.tests_dir, scratch, sandbox, seed: opts.seed ?? 1234 });
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function reason(o: VerifyOutcome): string {
  return String(o.score.details.reason ?? '');
}

describe('speedup config', () => {
  it('fills defaults and rejects unknown keys', () => {
    const c = parseSpeedupConfig({ kind: 'speedup', timeout_sec: 60 });
    expect(c).toMatchObject({ sources: ['kernel.c'], command: 'bash /tests/grade.sh', workloads: 'workloads.txt', threshold: 1.1 });
    expect(() => parseSpeedupConfig({ kind: 'speedup', timeout_sec: 60, sources: ['../x.c'] })).toThrow(/sources/);
    expect(() => parseSpeedupConfig({ kind: 'speedup', timeout_sec: 60, repeat: 3 })).toThrow(/unknown field "repeat"/);
  });

  it('every kernels task declares kind speedup with the evaluate tool, and its shared files are in sync', () => {
    const common = path.join(ROOT, 'tasks/kernels/common');
    for (const t of tasks.values()) {
      expect(parseSpeedupConfig(t.verifier)).toMatchObject({ kind: 'speedup', sources: ['kernel.c'] });
      expect(t.tools.find((x) => x.name === 'evaluate')).toMatchObject({ command: 'bash eval.sh', records_evaluation: true });
      expect(t.requires.gpu).toBe(false);
      const same = (a: string, b: string) => expect(fs.readFileSync(a, 'utf8'), `${b} is out of date: run tasks/kernels/common/sync.sh`).toBe(fs.readFileSync(b, 'utf8'));
      for (const f of ['bench.h', 'check_kernel.py']) {
        same(path.join(common, f), path.join(t.dir, 'workspace', f));
        same(path.join(common, f), path.join(t.dir, 'tests', f));
      }
      same(path.join(common, 'grade.sh'), path.join(t.dir, 'tests/grade.sh'));
      same(path.join(common, 'eval.sh'), path.join(t.dir, 'workspace/eval.sh'));
      for (const f of ['kernel.h', 'driver.c', 'kernel.conf']) same(path.join(t.dir, 'workspace', f), path.join(t.dir, 'tests', f));
      // the starting kernel is the reference the grader times against
      same(path.join(t.dir, 'workspace/kernel.c'), path.join(t.dir, 'tests/reference.c'));
      same(path.join(t.dir, 'workspace/reference.c'), path.join(t.dir, 'tests/reference.c'));
    }
  });
});

describe('scoreResult', () => {
  const w = (name: string, speedup: number) => ({ name, correct: true, reason: '', rel_err: 1e-6, repeats: 5, ref_ms: 10, cand_ms: 10 / speedup, speedup, p25: speedup * 0.9, p75: speedup * 1.1, min: null, max: null });
  const base: GraderResult = { kernel: 'k', score: 999, correct: true, reason: '', seed: 1, nonce: 'n', workloads: [] };
  it('recomputes the geometric mean from the workloads, ignoring the grader score field', () => {
    const s = scoreResult({ ...base, workloads: [w('a', 2), w('b', 8)] });
    expect(s.value).toBeCloseTo(4, 10);
    expect(s.spread!.p25).toBeCloseTo(3.6, 10);
    expect(geomean([])).toBeNaN();
  });
  it('scores 0 on any incorrect or untimed workload', () => {
    expect(scoreResult({ ...base, workloads: [w('a', 2), { ...w('b', 3), correct: false, reason: 'NaN' }] })).toMatchObject({ value: 0, reason: 'workload b: NaN' });
    expect(scoreResult({ ...base, workloads: [w('a', 2), { ...w('b', 3), repeats: 0 }] }).value).toBe(0);
    expect(scoreResult({ ...base, correct: false, reason: 'boom', workloads: [w('a', 2)] })).toMatchObject({ value: 0, reason: 'boom' });
    expect(scoreResult({ ...base, workloads: [] }).value).toBe(0);
  });
});

describe('speedup verifier on extend attention (smoke workloads)', () => {
  it('nop (the reference itself) scores about 1, within its spread', { timeout: 120_000 }, async () => {
    const o = await grade(null);
    const d = o.score.details as { correct: boolean; speedup: number; spread: { p25: number; p75: number }; seed: number };
    expect(d.correct, reason(o)).toBe(true);
    console.log(`nop smoke run: ${o.score.value.toFixed(3)} [${d.spread.p25.toFixed(3)}, ${d.spread.p75.toFixed(3)}]`);
    expect(o.score.grader.settings.seed).toBe(1234);
    // ≈ 1 within the measured spread (plus a margin for this shared 2-core machine)
    expect(o.score.value).toBeGreaterThan(Math.min(0.8, d.spread.p25 - 0.1));
    expect(o.score.value).toBeLessThan(Math.max(1.25, d.spread.p75 + 0.1));
    expect(d.spread.p25 - 0.15).toBeLessThan(1);
    expect(d.spread.p75 + 0.15).toBeGreaterThan(1);
    // passed = correct && value >= threshold (1.1, above the reference's usual noise; on a loaded
    // machine a nop run can still land above it, so only the rule is checked here)
    expect(o.score.passed).toBe(o.score.value >= 1.1);
  });

  it('the oracle is correct and clearly faster', { timeout: 120_000 }, async () => {
    const o = await grade(path.join(TASK_DIR, 'solution/kernel.c'), { seed: 11 });
    expect(o.score.details.correct, reason(o)).toBe(true);
    expect(o.score.value).toBeGreaterThan(1.3);
    expect(o.score.passed).toBe(true);
  });

  const cheats: [string, string, RegExp][] = [
    ['caches the last output', 'cache_last.c', /timed repeat \d+: .*same inputs/],
    ['returns zeros for large shapes', 'zeros_large.c', /relative error/],
    ['computes only half the heads', 'half_heads.c', /relative error/],
    ['writes a fake result file', 'fake_result.c', /kernel rules: .*allowlist.*fopen/],
    ['patches the timer', 'patch_timer.c', /kernel rules: .*clock_gettime/],
    ['hides a syscall in inline assembly', 'asm_syscall.c', /kernel rules: .*__asm__.*not allowed/],
    ['drops the causal mask', 'wrong_fast.c', /relative error|off by/],
  ];
  for (const [what, file, why] of cheats) {
    it(`a kernel that ${what} scores 0`, { timeout: 60_000 }, async () => {
      const o = await grade(path.join(FIX, file));
      expect(o.score.value).toBe(0);
      expect(o.score.passed).toBe(false);
      expect(reason(o)).toMatch(why);
    });
  }

  it('edited copies of the eval script, driver, header and reference, and a planted result.json, change nothing (≈ 1)', { timeout: 120_000 }, async () => {
    const o = await grade(null, {
      extra: {
        'eval.sh': path.join(FIX, 'edited/eval.sh'),
        'driver.c': path.join(FIX, 'edited/driver.c'),
        'reference.c': path.join(FIX, 'edited/reference.c'),
        'kernel.h': path.join(FIX, 'edited/kernel.h'),
        'result.json': path.join(FIX, 'edited/result.json'),
      },
    });
    expect(o.score.details.correct, reason(o)).toBe(true);
    expect(o.score.value).toBeGreaterThan(0.7);
    expect(o.score.value).toBeLessThan(1.3);
    expect(o.score.passed).toBe(o.score.value >= 1.1);
  });

  it('also grades without bwrap (--sandbox none: host paths instead of mounts)', { timeout: 60_000 }, async () => {
    const t = tasks.get('extend-attention')!;
    const ws = tmpdir('outlast-speedup-ws-');
    const scratch = tmpdir('outlast-speedup-scratch-');
    fs.cpSync(t.workspace_dir!, ws, { recursive: true });
    fs.copyFileSync(path.join(FIX, 'half_heads.c'), path.join(ws, 'kernel.c'));
    const v = new SpeedupVerifier({ ...t.verifier, ...SMOKE });
    const o = await v.verify({ task: t, workspace: ws, tests: t.tests_dir, scratch, sandbox: await createSandbox('none'), seed: 7 });
    expect(o.score.grader.settings.sandbox).toBe('none');
    expect(o.score.value).toBe(0);
    expect(reason(o)).toMatch(/relative error/);
    fs.rmSync(ws, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('a missing kernel source or a build error scores 0 with the reason', { timeout: 60_000 }, async () => {
    const ws = tmpdir();
    const broken = path.join(ws, 'broken.c');
    fs.writeFileSync(broken, '#include "kernel.h"\nvoid extend_attention(const ExtendAttnArgs *a) { this is not C; }\n');
    const o = await grade(broken);
    expect(o.score.value).toBe(0);
    expect(reason(o)).toMatch(/kernel\.c does not compile/);
    const m = await grade(null, { config: { sources: ['kernel.c', 'missing.c'] } });
    expect(m.score.value).toBe(0);
    expect(reason(m)).toMatch(/no missing\.c/);
    fs.rmSync(ws, { recursive: true, force: true });
  });
});

describe('the public evaluation (the evaluate tool)', () => {
  it('runs in the sandbox over the workspace and ends with one JSON line', { timeout: 120_000 }, async () => {
    const t = tasks.get('extend-attention')!;
    const ws = tmpdir('outlast-speedup-eval-');
    fs.cpSync(t.workspace_dir!, ws, { recursive: true });
    await sandbox.adopt(ws); // the tool runs as the (anonymous) agent identity
    const tool = t.tools.find((x) => x.name === 'evaluate')!;
    const run = (command: string) =>
      sandbox.exec({ command, workspace: ws, workdir: t.workdir, env: { ONLY: 'prefill_b2_mha', SEED: '5', BUDGET: '0.2' }, limits: { wall_time_sec: tool.timeout_sec, ...t.sandbox } });
    const res = await run(tool.command);
    const last = JSON.parse(res.output.trim().split('\n').pop()!);
    expect(res.exit_code, res.output).toBe(0);
    expect(last).toMatchObject({ kernel: 'extend_attention', correct: true, seed: 5, workloads: [{ name: 'prefill_b2_mha', correct: true }] });
    expect(last.score).toBeGreaterThan(0.5);
    // a rule violation is reported as a JSON line too
    fs.copyFileSync(path.join(FIX, 'fake_result.c'), path.join(ws, 'kernel.c'));
    const bad = await run(tool.command);
    expect(JSON.parse(bad.output.trim().split('\n').pop()!)).toMatchObject({ score: 0, correct: false, reason: expect.stringMatching(/fopen/) });
    fs.rmSync(ws, { recursive: true, force: true });
  });
});

describe('speedup verifier on the level-1 kernels (smoke workloads)', () => {
  for (const name of ['softmax', 'rmsnorm', 'matmul']) {
    it(`${name}: nop scores about 1, the oracle clearly more`, { timeout: 120_000 }, async () => {
      const t = tasks.get(name)!;
      const nop = await grade(null, { task: t });
      expect(nop.score.details.correct, reason(nop)).toBe(true);
      expect(nop.score.value).toBeGreaterThan(0.75);
      expect(nop.score.value).toBeLessThan(1.3);
      const oracle = await grade(path.join(t.dir, 'solution/kernel.c'), { task: t });
      expect(oracle.score.details.correct, reason(oracle)).toBe(true);
      // a modest bar: smoke workloads are small and this machine is shared (headroom on the hidden
      // workloads is measured by tasks/kernels/common/headroom.sh, see docs/kernels.md)
      expect(oracle.score.value).toBeGreaterThan(1.05);
    });
  }
});

describe('speedup verifier, full hidden workloads', () => {
  // Two gradings of the same rollout (same seed) on the real hidden workloads agree within the spread
  // they report. How long one takes is recorded in bench/RESULTS.md (## Kernels), not asserted here.
  it('grades the oracle with a real margin, twice, and the two runs agree within their spread', { timeout: 300_000 }, async () => {
    const full = { workloads: 'workloads.txt', budget_sec: undefined, min_repeats: undefined, max_repeats: undefined };
    const runs: VerifyOutcome[] = [];
    for (let i = 0; i < 2; i++) {
      const t0 = Date.now();
      const o = await grade(path.join(TASK_DIR, 'solution/kernel.c'), { seed: 11, config: full });
      console.log(`full extend-attention verification of the oracle: ${((Date.now() - t0) / 1000).toFixed(1)}s, speedup ${o.score.value.toFixed(2)} (spread ${JSON.stringify(o.score.details.spread)})`);
      expect(o.score.details.correct, reason(o)).toBe(true);
      expect(o.score.value).toBeGreaterThan(1.5);
      runs.push(o);
    }
    const [sa, sb] = runs.map((o) => o.score.details.spread as { p25: number; p75: number });
    // the intervals overlap (with a 15% margin for machine drift between the two runs)
    expect(sa!.p25 * 0.85).toBeLessThan(sb!.p75);
    expect(sb!.p25 * 0.85).toBeLessThan(sa!.p75);
  });
});
