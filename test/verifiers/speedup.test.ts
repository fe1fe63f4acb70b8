// The speedup verifier, timing-independent parts, for real: the config, the score arithmetic, the
// sanity checks and the roofline bound; the kernel rules on real objects; the worker's sandbox and
// seccomp filter probed from inside; and every cheat kernel graded on the smoke workloads in a real
// sandbox, where each must score 0 (or be withheld and flagged) whatever the machine's speed: each is
// stopped by a rule, a correctness check, a crash or the CPU accounting, never by a timing threshold.
// What depends on timing (nop about 1, the oracle's margin) is in speedup.timing.test.ts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/sandbox/index.js';
import { loadTask } from '../../src/tasks/load.js';
import { geomean, parseSpeedupConfig, scoreResult, SpeedupVerifier, type GraderResult } from '../../src/verifiers/speedup.js';
import { cpuGovernor, hostState } from '../../src/verifiers/speedup/host.js';
import { machineIdentity, machineRoofline, workloadBound, type Roofline } from '../../src/verifiers/speedup/roofline.js';
import { declaredWorkloads, implausibleWorkloads, incompleteMeasurement } from '../../src/verifiers/speedup/sanity.js';
import type { MonitorFlagEvent } from '../../src/core/events.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { cliAsync, tmpdir } from '../helpers/cli.js';
import { EXTEND_CHEATS, expectDefeated, FIXTURES, grade, kit, KERNELS, reason, SMOKE, SOFTMAX_CHEATS, type Kit } from './speedup-helpers.js';

let k: Kit;
beforeAll(async () => {
  k = await kit();
}, 120_000);

describe('speedup config', () => {
  it('fills defaults and rejects unknown keys', () => {
    const c = parseSpeedupConfig({ kind: 'speedup', timeout_sec: 60 });
    expect(c).toMatchObject({ sources: ['kernel.c'], command: 'bash /tests/grade.sh', workloads: 'workloads.txt', threshold: 1.1, min_repeats: 6, max_repeats: 24, implausible_fraction: 1.5 });
    expect(() => parseSpeedupConfig({ kind: 'speedup', timeout_sec: 60, sources: ['../x.c'] })).toThrow(/sources/);
    expect(() => parseSpeedupConfig({ kind: 'speedup', timeout_sec: 60, repeat: 3 })).toThrow(/unknown field "repeat"/);
    expect(parseSpeedupConfig({ kind: 'speedup', min_repeats: 10, max_repeats: 4 }).max_repeats).toBe(10);
  });

  it('every kernels task declares kind speedup with the evaluate tool', () => {
    for (const t of k.tasks.values()) {
      expect(parseSpeedupConfig(t.verifier)).toMatchObject({ kind: 'speedup', sources: ['kernel.c'] });
      expect(t.requires.gpu).toBe(false);
    }
  });
});

const w = (name: string, speedup: number, extra: Partial<GraderResult['workloads'][number]> = {}) => ({
  name, correct: true, reason: '', rel_err: 1e-6, repeats: 8, ref_ms: 10, cand_ms: 10 / speedup, speedup, p25: speedup * 0.9, p75: speedup * 1.1, min: null, max: null, bytes: 1e6, flops: 1e6, ...extra,
});
const base: GraderResult = { kernel: 'k', score: 999, correct: true, reason: '', seed: 1, nonce: 'n', workloads: [] };

describe('scoreResult', () => {
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

describe('sanity of a measurement', () => {
  it('names the declared workloads of a workloads file in order', () => {
    const f = path.join(tmpdir(), 'w.txt');
    fs.writeFileSync(f, '# comment\nname=a rows=1\n\n  rows=2\nname=c x=1\n');
    expect(declaredWorkloads(f)).toEqual(['a', 'w1', 'c']);
    expect(declaredWorkloads(path.join(KERNELS, 'softmax/tests/workloads_smoke.txt'))).toEqual(['smoke_a', 'smoke_b']);
  });
  it('wants every declared workload, in order, each with an even number of repeats in the declared range', () => {
    const r = (ws: ReturnType<typeof w>[], repeats = { min: 6, max: 24 }) => ({ ...base, repeats, workloads: ws });
    expect(incompleteMeasurement(r([w('a', 2), w('b', 2)]), ['a', 'b'], 6, 24)).toBeNull();
    expect(incompleteMeasurement(r([w('a', 2)]), ['a', 'b'], 6, 24)).toMatch(/reported workloads \[a\], not the declared \[a, b\]/);
    expect(incompleteMeasurement(r([w('b', 2), w('a', 2)]), ['a', 'b'], 6, 24)).toMatch(/not the declared/);
    expect(incompleteMeasurement(r([w('a', 2, { repeats: 2 })]), ['a'], 6, 24)).toMatch(/workload a ran 2 timed repeats/);
    expect(incompleteMeasurement(r([w('a', 2, { repeats: 7 })]), ['a'], 6, 24)).toMatch(/ran 7 timed repeats, not an even number/);
    expect(incompleteMeasurement(r([w('a', 2)], { min: 1, max: 1 }), ['a'], 6, 24)).toMatch(/ran with repeats 1\.\.1/);
  });
  it('bounds a workload by the larger of its memory and compute times, generous to the kernel, and flags what beats it', () => {
    const rf = { fma_gflops: 100, cache_gbs: 200, dram_gbs: 50, llc_bytes: 32e6 } as Roofline;
    // 1 GB moved: 32 MB may come from the cache, the rest from DRAM
    const big = workloadBound(rf, 1e9, 1e6, 100);
    expect(big.limit).toBe('memory');
    expect(big.bound_ms).toBeCloseTo(((1e9 - 32e6) / 50e9) * 1e3, 6);
    expect(big.fraction).toBeCloseTo(big.bound_ms / 100, 9);
    // fits in the cache: the cache's bandwidth
    expect(workloadBound(rf, 10e6, 0, null)).toMatchObject({ bound_ms: expect.closeTo(0.05, 9), fraction: null });
    // 1 TFLOP at 100 GFLOP/s: 10 s
    expect(workloadBound(rf, 1e6, 1e12, 20_000)).toMatchObject({ limit: 'compute', bound_ms: expect.closeTo(10_000, 6), fraction: 0.5 });
    const bounds = new Map([['ok', workloadBound(rf, 1e9, 0, 100)], ['fast', workloadBound(rf, 1e9, 0, 1)]]);
    const flags = implausibleWorkloads(bounds, 1.25, { cpu: 'x' });
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ rule_id: 'kernels.roofline.implausible', rule_version: '1', severity: 'critical', summary: expect.stringMatching(/workload fast ran at 19\.36x/), evidence: { workload: 'fast', machine: { cpu: 'x' } } });
    expect(implausibleWorkloads(bounds, 0, {})).toEqual([]);
  });
});

describe('the machine', () => {
  it('measures its roofline once with the probe in the sandbox and caches it by the machine identity', { timeout: 120_000 }, async () => {
    const cacheDir = tmpdir();
    const scratch = tmpdir();
    const r = await machineRoofline({ cacheDir, sandbox: k.sandbox, scratch });
    expect(r.identity).toEqual(machineIdentity());
    expect(r.fma_gflops).toBeGreaterThan(1);
    expect(r.dram_gbs).toBeGreaterThan(0.5);
    expect(r.cache_gbs).toBeGreaterThanOrEqual(r.dram_gbs);
    expect(r.runs).toBe(1);
    const file = path.join(cacheDir, 'roofline', `${r.key}.json`);
    expect(fs.existsSync(file)).toBe(true);
    // cached: read back without running the probe (a sandbox that cannot run anything proves it)
    const broken = { ...k.sandbox, exec: async () => { throw new Error('ran the probe again'); } } as typeof k.sandbox;
    expect((await machineRoofline({ cacheDir, sandbox: broken, scratch })).fma_gflops).toBe(r.fma_gflops);
    // remeasured: the best of both runs
    const again = await machineRoofline({ cacheDir, sandbox: k.sandbox, scratch, remeasure: true });
    expect(again.runs).toBe(2);
    expect(again.fma_gflops).toBeGreaterThanOrEqual(r.fma_gflops);
  });

  it('reads the load average and the CPU governor (null where cpufreq is absent)', () => {
    const s = hostState();
    expect(s.load_avg).toHaveLength(3);
    const root = tmpdir();
    for (const [cpu, g] of [['cpu0', 'performance'], ['cpu1', 'powersave'], ['cpu2', 'performance']]) {
      fs.mkdirSync(path.join(root, cpu!, 'cpufreq'), { recursive: true });
      fs.writeFileSync(path.join(root, cpu!, 'cpufreq/scaling_governor'), `${g}\n`);
    }
    expect(cpuGovernor(root)).toBe('performance,powersave');
    expect(cpuGovernor(tmpdir())).toBeNull();
  });
});

describe('kernel rules (check_kernel.py on compiled objects)', () => {
  const common = path.join(KERNELS, 'common/workspace');
  function check(task: string, kernel: string): { ok: boolean; out: string } {
    const dir = tmpdir();
    const t = k.tasks.get(task)!;
    fs.copyFileSync(kernel, path.join(dir, 'kernel.c'));
    const flags = ['-O3', '-march=native', '-fopenmp', '-std=gnu11', '-fno-plt', `-I${t.workspace_dir}`];
    const cc = spawnSync('gcc', [...flags, '-c', 'kernel.c', '-o', 'kernel.o'], { cwd: dir, encoding: 'utf8' });
    if (cc.status !== 0) return { ok: false, out: cc.stderr };
    const entry = /ENTRY=(\w+)/.exec(fs.readFileSync(path.join(t.workspace_dir!, 'kernel.conf'), 'utf8'))![1]!;
    const r = spawnSync('python3', [path.join(common, 'check_kernel.py'), entry, 'kernel.o', 'kernel.c', '--', ...flags], { cwd: dir, encoding: 'utf8' });
    return { ok: r.status === 0, out: r.stdout + r.stderr };
  }
  it("accepts every task's reference and oracle", () => {
    for (const [name, t] of k.tasks) {
      for (const f of [path.join(t.workspace_dir!, 'kernel.c'), path.join(t.solution_dir!, 'kernel.c')]) expect(check(name, f), `${name}: ${f}`).toMatchObject({ ok: true });
    }
  });
  it('rejects, from the object, what the cheat kernels compile to', () => {
    for (const [file, , why] of SOFTMAX_CHEATS) {
      if (!why.source.startsWith('kernel rules')) continue;
      const r = check('softmax', path.join(FIXTURES, 'softmax', file));
      expect(r.ok, file).toBe(false);
      expect(`kernel rules: ${r.out}`, file).toMatch(why);
    }
  });
});

describe('the worker process, probed from inside', () => {
  // Each probe exits with 64 + a bit per thing it could do (see the fixtures' headers).
  it('the seccomp filter refuses open, socket, ptrace, kill, fork and clock system calls (through the verifier)', { timeout: 60_000 }, async () => {
    const o = await grade(k, path.join(FIXTURES, 'softmax/probe_syscalls.c'));
    expect(reason(o)).toMatch(/the candidate's process exited with status 64$/);
  });

  it('inside nested bwrap the worker sees none of the grader\'s files, no /proc, and is PID 1 of its own namespace', { timeout: 60_000 }, () => {
    // grade.sh run directly on this machine with the workers in bwrap (outlast's own sandbox may not
    // allow nested namespaces as root; it records the fallback, tested below)
    const t = k.tasks.get('softmax')!;
    const src = tmpdir();
    const out = tmpdir();
    fs.copyFileSync(path.join(FIXTURES, 'softmax/probe_view.c'), path.join(src, 'kernel.c'));
    const run = spawnSync('bash', [path.join(t.tests_dir!, 'grade.sh')], {
      env: { ...process.env, OUTLAST_TASK: t.workspace_dir!, SRC_DIR: src, OUT_DIR: out, SEED: '3', NONCE: 'x', WORKLOADS: 'workloads_smoke.txt', WORKER_SANDBOX: 'bwrap', BUDGET: '0.3' },
      encoding: 'utf8',
      timeout: 50_000,
    });
    const r = JSON.parse(fs.readFileSync(path.join(out, 'result.json'), 'utf8'));
    expect(r.reason, run.stdout + run.stderr).toMatch(/the candidate's process exited with status 66$/);
  });

  it('records which boundary the workers had', { timeout: 60_000 }, async () => {
    const o = await grade(k, null);
    const b = o.score.details.boundary as { workers: string; note: string; inputs: string; threads: { candidate: number } };
    expect(['bwrap', 'seccomp']).toContain(b.workers);
    if (b.workers === 'seccomp') expect(b.note).toMatch(/nested bwrap unavailable/);
    expect(b.inputs).toBe('getrandom');
    expect(o.score.details.handshake_us).toMatchObject({ median: expect.any(Number), calls: 128 });
    expect((o.score.details.host as { before: { load_avg: number[] } }).before.load_avg).toHaveLength(3);
  });
});

describe('cheat kernels, smoke workloads: each scores 0 (or is withheld and flagged)', () => {
  for (const [file, what, why] of SOFTMAX_CHEATS) {
    it(`softmax: a kernel that ${what}`, { timeout: 60_000 }, async () => {
      const o = await grade(k, path.join(FIXTURES, 'softmax', file));
      expectDefeated(o);
      expect(reason(o)).toMatch(why);
    });
  }
  for (const [file, what, why] of EXTEND_CHEATS) {
    it(`extend-attention: a kernel that ${what}`, { timeout: 60_000 }, async () => {
      const o = await grade(k, path.join(FIXTURES, 'extend-attention', file), { task: 'extend-attention' });
      expectDefeated(o);
      expect(reason(o)).toMatch(why);
    });
  }

  it('also without bwrap (--sandbox none: host paths instead of mounts, workers with their seccomp filter)', { timeout: 60_000 }, async () => {
    const none = await createSandbox('none');
    const o = await grade(k, path.join(FIXTURES, 'softmax/background_thread.c'), { sandbox: none, seed: 7 });
    expect(o.score.grader.settings.sandbox).toBe('none');
    expect(o.score.value).toBe(0);
    expect(reason(o)).toMatch(/outside its calls/);
  });

  it("the grader's own failure (here a workload line its driver rejects) is an error, not the agent's 0", { timeout: 60_000 }, async () => {
    const t = k.tasks.get('softmax')!;
    const tests = tmpdir();
    fs.cpSync(t.tests_dir!, tests, { recursive: true });
    fs.writeFileSync(path.join(tests, 'workloads_smoke.txt'), 'name=empty rows=0 cols=10\n');
    const ws = tmpdir();
    fs.cpSync(t.workspace_dir!, ws, { recursive: true });
    const v = new SpeedupVerifier({ ...t.verifier, ...SMOKE });
    await expect(v.verify({ task: t, workspace: ws, tests, scratch: tmpdir(), sandbox: k.sandbox, seed: 1, cacheDir: k.cacheDir })).rejects.toThrow(/the kernels grader failed: internal: the grader failed \(exit status 2\)/);
  });

  it('a missing kernel source or a build error scores 0 with the reason', { timeout: 60_000 }, async () => {
    const ws = tmpdir();
    const broken = path.join(ws, 'broken.c');
    fs.writeFileSync(broken, '#include "kernel.h"\nvoid softmax(const SoftmaxArgs *a) { this is not C; }\n');
    const o = await grade(k, broken);
    expect(o.score.value).toBe(0);
    expect(reason(o)).toMatch(/kernel\.c does not compile/);
    const m = await grade(k, null, { config: { sources: ['kernel.c', 'missing.c'] } });
    expect(m.score.value).toBe(0);
    expect(reason(m)).toMatch(/no missing\.c/);
  });
});

describe('threads', () => {
  // on one core two threads cannot use more CPU than one: the check needs two (said as skipped)
  it.skipIf(os.cpus().length < 2)('a task that allows one thread stops a kernel that uses two; by default it may', { timeout: 120_000 }, async () => {
    const suite = tmpdir();
    fs.cpSync(path.join(KERNELS, 'common'), path.join(suite, 'common'), { recursive: true });
    fs.cpSync(path.join(KERNELS, 'softmax'), path.join(suite, 'softmax'), { recursive: true });
    fs.appendFileSync(path.join(suite, 'softmax/workspace/kernel.conf'), 'THREADS=1\n');
    const one = await loadTask(path.join(suite, 'softmax'), { cacheDir: k.cacheDir });
    const two = path.join(FIXTURES, 'softmax/two_threads.c');
    const ws = tmpdir();
    fs.cpSync(one.workspace_dir!, ws, { recursive: true });
    fs.copyFileSync(two, path.join(ws, 'kernel.c'));
    const o = await new SpeedupVerifier({ ...one.verifier, ...SMOKE }).verify({ task: one, workspace: ws, tests: one.tests_dir, scratch: tmpdir(), sandbox: k.sandbox, seed: 1, cacheDir: k.cacheDir });
    expect(o.score.value).toBe(0);
    expect(reason(o)).toMatch(/more than its 1 allowed thread/);
    expect((o.score.details.boundary as { threads: { candidate: number } }).threads.candidate).toBe(1);
    const ok = await grade(k, two);
    expect(ok.score.details.correct, reason(ok)).toBe(true);
  });
});

describe('memory', () => {
  it('a kernel that eats the sandbox\'s memory is killed itself and scores 0; the grader survives (never infra_error)', { timeout: 120_000 }, async () => {
    const t = k.tasks.get('softmax')!;
    const small = { ...t, sandbox: { ...t.sandbox, memory_mb: 768 } };
    const ws = tmpdir();
    fs.cpSync(t.workspace_dir!, ws, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'softmax/memory_hog.c'), path.join(ws, 'kernel.c'));
    const o = await new SpeedupVerifier({ ...t.verifier, ...SMOKE }).verify({ task: small, workspace: ws, tests: t.tests_dir, scratch: tmpdir(), sandbox: k.sandbox, seed: 1, cacheDir: k.cacheDir });
    expect(o.score.value).toBe(0);
    expect(o.score.passed).toBe(false);
    expect(reason(o)).toMatch(/candidate|killed|memory/);
    expect(reason(o)).not.toMatch(/^internal/);
  });
});

describe('implausible speedups', () => {
  // With the bound set absurdly low, every correct kernel is "faster than physics": the path a real
  // implausible result takes, end to end (the threshold is the only thing changed).
  it('withhold the score and raise a flag, after measuring the roofline again', { timeout: 120_000 }, async () => {
    const o = await grade(k, path.join(KERNELS, 'softmax/solution/kernel.c'), { config: { implausible_fraction: 1e-6 } });
    expect(o.score.value).toBe(0);
    expect(o.score.passed).toBe(false);
    expect(o.score.details).toMatchObject({ correct: true, withheld: true, reason: expect.stringMatching(/^score withheld for review: workload smoke_a ran at/) });
    expect((o.score.details.speedup as number) > 0).toBe(true);
    expect((o.score.details.roofline as { runs: number }).runs).toBeGreaterThanOrEqual(2);
    expect(o.flags!.map((f) => f.evidence!.workload)).toEqual(['smoke_a', 'smoke_b']);
    expect(o.flags![0]).toMatchObject({ rule_id: 'kernels.roofline.implausible', severity: 'critical' });
  });

  it('reach the trajectory as monitor.flag events after the verifier result', { timeout: 180_000 }, async () => {
    const suite = tmpdir();
    fs.cpSync(path.join(KERNELS, 'common'), path.join(suite, 'common'), { recursive: true });
    fs.cpSync(path.join(KERNELS, 'softmax'), path.join(suite, 'softmax'), { recursive: true });
    const toml = path.join(suite, 'softmax/task.toml');
    fs.writeFileSync(toml, fs.readFileSync(toml, 'utf8').replace('threshold = 1.1', 'threshold = 1.1\nimplausible_fraction = 1e-6').replace('workloads = "workloads.txt"', 'workloads = "workloads_smoke.txt"\nbudget_sec = 0.3'));
    const home = tmpdir();
    const r = await cliAsync(['run', path.join(suite, 'softmax'), '--harness', 'oracle'], { home, timeoutMs: 170_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const exp = fs.readdirSync(path.join(home, 'experiments'))[0]!;
    const dir = path.join(home, 'experiments', exp, 'rollouts');
    const { events } = readTrajectory(path.join(dir, fs.readdirSync(dir)[0]!, 'trajectory.jsonl'));
    const types = events.map((e) => e.type);
    const flags = events.filter((e): e is MonitorFlagEvent => e.type === 'monitor.flag');
    expect(flags).toHaveLength(2);
    expect(types.indexOf('monitor.flag')).toBeGreaterThan(types.indexOf('verifier.result'));
    expect(flags[0]).toMatchObject({ flag_id: 'verifier-1', monitor: 'verifier:speedup', rule_id: 'kernels.roofline.implausible', rule_version: '1', severity: 'critical', summary: expect.stringMatching(/withheld for review/) });
    const finished = events.at(-1)!;
    expect(finished.type === 'rollout.finished' && finished.score?.value).toBe(0);
  });
});

describe('the public evaluation (the evaluate tool)', () => {
  it('runs the pristine eval script over the workspace, ignoring edited copies there, and ends with one JSON line', { timeout: 120_000 }, async () => {
    const t = k.tasks.get('softmax')!;
    const ws = tmpdir('outlast-speedup-eval-');
    fs.cpSync(t.workspace_dir!, ws, { recursive: true });
    await k.sandbox.adopt(ws); // the tool runs as the (anonymous) agent identity
    // the agent's edited copies: a fake eval script, a permissive rule checker, a driver claiming 100x
    for (const f of ['eval.sh', 'check_kernel.py', 'driver.c']) fs.copyFileSync(path.join(FIXTURES, 'extend-attention/edited', f), path.join(ws, f));
    const tool = t.tools.find((x) => x.name === 'evaluate')!;
    const files = k.sandbox.unsandboxed
      ? { env: { OUTLAST_TASK: t.workspace_dir! } }
      : { mounts: [{ host: t.workspace_dir!, target: '/outlast/task', readonly: true }], env: { OUTLAST_TASK: '/outlast/task' } };
    const run = (env: Record<string, string>) =>
      k.sandbox.exec({ command: tool.command, workspace: ws, workdir: t.workdir, mounts: files.mounts, env: { ...files.env, ...env }, limits: { wall_time_sec: tool.timeout_sec, ...t.sandbox } });
    const res = await run({ ONLY: 'narrow_64', SEED: '5', BUDGET: '0.2' });
    const last = JSON.parse(res.output.trim().split('\n').pop()!);
    expect(res.exit_code, res.output).toBe(0);
    expect(last).toMatchObject({ kernel: 'softmax', correct: true, seed: 5, workloads: [{ name: 'narrow_64', correct: true }] });
    expect(last.score).toBeGreaterThan(0.3);
    expect(last.score).toBeLessThan(5);
    // a rule violation is reported as a JSON line too (the edited check_kernel.py is not the one used)
    fs.copyFileSync(path.join(FIXTURES, 'softmax/omp_wtime.c'), path.join(ws, 'kernel.c'));
    const bad = await run({ SEED: '5' });
    expect(JSON.parse(bad.output.trim().split('\n').pop()!)).toMatchObject({ score: 0, correct: false, reason: expect.stringMatching(/omp_get_wtime/) });
    fs.rmSync(ws, { recursive: true, force: true });
  });
});
