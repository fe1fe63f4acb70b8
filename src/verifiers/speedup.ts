// The `speedup` verifier (the kernels suite; see docs/kernels.md). It grades a kernel by
// correctness first, then speed, with the task's own grader:
//   1. copy ONLY the kernel source files named in `sources` out of the final workspace into a fresh
//      directory (regular files, no symlinks); the agent's Makefile, driver, header, reference and
//      eval-script copies never reach the grader;
//   2. run the grading command (default `bash /tests/grade.sh`) in a fresh sandbox with those
//      sources at the workdir, the pristine tests/ read-only at /tests and a fresh, empty directory
//      at /out. The grader builds the sources with its own driver, reference copy, header and flags,
//      checks the kernel rules (no I/O, clocks, inline assembly or extra symbols), checks correctness
//      against a float64 reference on fresh random inputs drawn from the recorded seed, times
//      reference and candidate interleaved, and writes /out/result.json;
//   3. read result.json, which must carry this run's random nonce and seed (a file the kernel or the
//      agent prepared cannot pass), recompute the geometric mean from the per-workload medians, and
//      score: value = geometric-mean speedup (0 when anything failed), passed = correct and
//      value >= threshold.
// Without bubblewrap (`--sandbox none`) mounts are impossible, so the grader gets host paths
// through TESTS_DIR/OUT_DIR/SRC_DIR instead (and `/tests/` in the command is rewritten); the
// sandbox's provenance records that run as unsandboxed.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { Score, VerifierConfig } from '../core/types.js';
import { parseWith } from '../core/validate.js';
import type { Mount } from '../sandbox/sandbox.js';
import { runOf, type Verifier, type VerifyContext, type VerifyOutcome } from './verifier.js';

export const SPEEDUP_VERIFIER_VERSION = '1.0.0';

/** Largest kernel source file copied to the grader. */
const MAX_SOURCE_BYTES = 1024 * 1024;
/** Where the fresh result directory is mounted in the sandbox. */
const OUT_MOUNT = '/out';
const TESTS_MOUNT = '/tests';
const FILE_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export const speedupVerifierSchema = z.strictObject({
  kind: z.literal('speedup'),
  timeout_sec: z.number().positive().default(600),
  /** Kernel source files (names in the workspace's top directory) the grader builds. */
  sources: z
    .array(z.string().regex(FILE_NAME_RE, 'expected a plain file name (no "/", not starting with ".")'))
    .min(1)
    .default(['kernel.c']),
  /** Grading command run in the sandbox; it must write /out/result.json. */
  command: z.string().min(1).default('bash /tests/grade.sh'),
  /** Workloads file in tests/ (override with a smaller one for quick checks). */
  workloads: z.string().regex(FILE_NAME_RE, 'expected a plain file name in tests/').default('workloads.txt'),
  /** `passed` needs a correct kernel with a geometric-mean speedup of at least this. */
  threshold: z.number().nonnegative().default(1.1),
  /** Seconds of interleaved timing per workload (default: the task's kernel.conf). */
  budget_sec: z.number().positive().optional(),
  /** Timed (reference, candidate) pairs per workload: at least / at most. */
  min_repeats: z.number().int().positive().optional(),
  max_repeats: z.number().int().positive().optional(),
});

export type SpeedupVerifierConfig = z.output<typeof speedupVerifierSchema>;

/** Validate a task's [verifier] table for kind `speedup` (defaults filled in). Throws a one-line UserError. */
export function parseSpeedupConfig(config: VerifierConfig | Record<string, unknown>, source = 'task.toml'): SpeedupVerifierConfig {
  return parseWith(z.object({ verifier: speedupVerifierSchema }), { verifier: config }, source).verifier;
}

/** One workload's line in the grader's result.json. */
export interface WorkloadResult {
  name: string;
  shape?: Record<string, unknown>;
  correct: boolean;
  reason?: string;
  rel_err: number | null;
  repeats: number;
  ref_ms: number | null;
  cand_ms: number | null;
  speedup: number | null;
  p25: number | null;
  p75: number | null;
  min: number | null;
  max: number | null;
}

const num = z.number().nullable();
const resultSchema = z.looseObject({
  kernel: z.string().optional(),
  score: z.number().nullable(),
  correct: z.boolean(),
  reason: z.string().default(''),
  seed: z.number(),
  nonce: z.string(),
  tolerance: z.number().optional(),
  spread: z.object({ p25: num, p75: num }).optional(),
  seconds: z.number().optional(),
  workloads: z.array(
    z.looseObject({
      name: z.string(),
      shape: z.record(z.string(), z.unknown()).optional(),
      correct: z.boolean(),
      reason: z.string().default(''),
      rel_err: num.default(null),
      repeats: z.number().int().default(0),
      ref_ms: num.default(null),
      cand_ms: num.default(null),
      speedup: num.default(null),
      p25: num.default(null),
      p75: num.default(null),
      min: num.default(null),
      max: num.default(null),
    }),
  ),
});
export type GraderResult = z.output<typeof resultSchema>;

/** Geometric mean of positive numbers (NaN for an empty list or a non-positive value). */
export function geomean(xs: readonly number[]): number {
  if (xs.length === 0 || xs.some((x) => !(x > 0) || !Number.isFinite(x))) return NaN;
  return Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
}

export interface ScoredResult {
  value: number;
  correct: boolean;
  reason: string;
  spread: { p25: number; p75: number } | null;
  workloads: WorkloadResult[];
}

/**
 * Turn a grader result into the score: the geometric mean of the per-workload median speedups,
 * recomputed here (never the grader's own `score` field), or 0 with the reason when any workload
 * failed or lacks timings.
 */
export function scoreResult(r: GraderResult): ScoredResult {
  const workloads = r.workloads.map((w) => ({
    name: w.name,
    shape: w.shape,
    correct: w.correct,
    reason: w.reason || undefined,
    rel_err: w.rel_err,
    repeats: w.repeats,
    ref_ms: w.ref_ms,
    cand_ms: w.cand_ms,
    speedup: w.speedup,
    p25: w.p25,
    p75: w.p75,
    min: w.min,
    max: w.max,
  }));
  const fail = (reason: string): ScoredResult => ({ value: 0, correct: false, reason, spread: null, workloads });
  if (!r.correct) return fail(r.reason || 'the kernel failed a correctness check');
  if (workloads.length === 0) return fail('the grader ran no workloads');
  const bad = workloads.find((w) => !w.correct);
  if (bad) return fail(`workload ${bad.name}: ${bad.reason ?? 'incorrect'}`);
  const untimed = workloads.find((w) => !(typeof w.speedup === 'number' && w.speedup > 0 && w.repeats > 0));
  if (untimed) return fail(`workload ${untimed.name} has no timing`);
  const value = geomean(workloads.map((w) => w.speedup as number));
  const lo = geomean(workloads.map((w) => w.p25 ?? NaN));
  const hi = geomean(workloads.map((w) => w.p75 ?? NaN));
  return {
    value,
    correct: true,
    reason: '',
    spread: Number.isFinite(lo) && Number.isFinite(hi) ? { p25: lo, p75: hi } : null,
    workloads,
  };
}

export class SpeedupVerifier implements Verifier {
  readonly kind = 'speedup';
  readonly version = SPEEDUP_VERIFIER_VERSION;
  readonly config: SpeedupVerifierConfig;

  /** @param config the task's [verifier] table (kind `speedup`); validated here, defaults filled in. */
  constructor(config: VerifierConfig | Record<string, unknown>, source = 'task.toml') {
    this.config = parseSpeedupConfig(config, source);
  }

  async verify(ctx: VerifyContext): Promise<VerifyOutcome> {
    const c = this.config;
    const seed = Math.abs(Math.trunc(ctx.seed)) % 2 ** 48;
    const nonce = randomBytes(16).toString('hex');
    const settings: Record<string, unknown> = {
      sources: c.sources,
      command: c.command,
      workloads: c.workloads,
      threshold: c.threshold,
      timeout_sec: c.timeout_sec,
      seed,
      sandbox: ctx.sandbox.mode,
    };
    if (c.budget_sec !== undefined) settings.budget_sec = c.budget_sec;
    if (c.min_repeats !== undefined) settings.min_repeats = c.min_repeats;
    if (c.max_repeats !== undefined) settings.max_repeats = c.max_repeats;
    const started = Date.now();
    const score = (value: number, passed: boolean, details: Record<string, unknown>): Score => ({
      value,
      passed,
      details,
      grader: { verifier: this.kind, version: this.version, settings },
      graded_at: new Date().toISOString(),
    });
    const noRun = (reason: string): VerifyOutcome => ({
      score: score(0, false, { correct: false, reason, seed }),
      run: { exit_code: null, duration_ms: Date.now() - started, output: reason, truncated_bytes: 0, timed_out: false },
    });

    if (!ctx.tests) throw new Error(`task ${ctx.task.name}: the speedup verifier needs a tests/ directory holding the grader`);
    // 1. only the named kernel sources, copied into a fresh directory
    const srcDir = path.join(ctx.scratch, 'speedup-src');
    const outDir = path.join(ctx.scratch, 'speedup-out');
    for (const d of [srcDir, outDir]) {
      fs.rmSync(d, { recursive: true, force: true });
      fs.mkdirSync(d, { recursive: true });
      await ctx.sandbox.adopt(d);
    }
    for (const name of c.sources) {
      const from = path.join(ctx.workspace, name);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(from);
      } catch {
        return noRun(`the workspace has no ${name}`);
      }
      if (!st.isFile()) return noRun(`${name} in the workspace is not a regular file`);
      if (st.size > MAX_SOURCE_BYTES) return noRun(`${name} is larger than ${MAX_SOURCE_BYTES} bytes`);
      fs.copyFileSync(from, path.join(srcDir, name));
    }
    await ctx.sandbox.adopt(srcDir);

    // 2. the grader, in a fresh sandbox
    const useMounts = !ctx.sandbox.unsandboxed;
    const workdir = ctx.task.workdir;
    const env: Record<string, string> = {
      SOURCES: c.sources.join(' '),
      SEED: String(seed),
      NONCE: nonce,
      WORKLOADS: c.workloads,
      OUTLAST_SEED: String(seed),
    };
    if (c.budget_sec !== undefined) env.BUDGET = String(c.budget_sec);
    if (c.min_repeats !== undefined) env.MIN_REPEATS = String(c.min_repeats);
    if (c.max_repeats !== undefined) env.MAX_REPEATS = String(c.max_repeats);
    let command = c.command;
    let mounts: Mount[] | undefined;
    if (useMounts) {
      Object.assign(env, { SRC_DIR: workdir, TESTS_DIR: TESTS_MOUNT, OUT_DIR: OUT_MOUNT });
      mounts = [
        { host: ctx.tests, target: TESTS_MOUNT, readonly: true },
        { host: outDir, target: OUT_MOUNT, readonly: false },
      ];
    } else {
      Object.assign(env, { SRC_DIR: srcDir, TESTS_DIR: ctx.tests, OUT_DIR: outDir });
      command = command.replaceAll(`${TESTS_MOUNT}/`, `${ctx.tests}/`);
    }
    const res = await ctx.sandbox.exec({
      command,
      workspace: srcDir,
      workdir,
      mounts,
      env,
      limits: { wall_time_sec: c.timeout_sec, ...ctx.task.sandbox },
      signal: ctx.signal,
    });
    const run = runOf(res);
    const cpus = os.cpus();
    // timings only mean something together with the machine that produced them
    const host = { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, load_avg_1m: Number(os.loadavg()[0]!.toFixed(2)) };
    const base = { seed, seconds: res.duration_ms / 1000, sources: c.sources, host };
    if (res.timed_out) return { score: score(0, false, { ...base, correct: false, reason: `grading timed out after ${c.timeout_sec}s` }), run };
    if (res.aborted) return { score: score(0, false, { ...base, correct: false, reason: 'grading was aborted' }), run };

    // 3. the result, written by this run's grader
    const resultFile = path.join(outDir, 'result.json');
    const tail = res.output.trim().split('\n').slice(-3).join(' | ').slice(-400);
    let raw: unknown;
    try {
      const st = fs.lstatSync(resultFile);
      if (!st.isFile()) throw new Error('not a regular file');
      raw = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'wrote no result.json' : `wrote an unreadable result.json (${(err as Error).message})`;
      return { score: score(0, false, { ...base, correct: false, reason: `the grader ${why} (exit code ${res.exit_code}): ${tail}` }), run };
    }
    const parsed = resultSchema.safeParse(raw);
    if (!parsed.success) {
      return { score: score(0, false, { ...base, correct: false, reason: `the grader's result.json is malformed: ${parsed.error.issues[0]?.message}` }), run };
    }
    const r = parsed.data;
    if (r.nonce !== nonce || r.seed !== seed) {
      return { score: score(0, false, { ...base, correct: false, reason: 'result.json does not carry this run\'s nonce and seed: it was not written by this grading run' }), run };
    }
    const s = scoreResult(r);
    const details: Record<string, unknown> = {
      ...base,
      kernel: r.kernel,
      correct: s.correct,
      speedup: s.value,
      spread: s.spread,
      threshold: c.threshold,
      tolerance: r.tolerance,
      workloads_file: c.workloads,
      workloads: s.workloads,
    };
    if (!s.correct) details.reason = s.reason;
    else if (s.value < c.threshold) details.reason = `speedup ${s.value.toFixed(3)} is below the threshold ${c.threshold}`;
    if (typeof r.score === 'number' && s.correct && Math.abs(r.score - s.value) > 1e-3 * Math.max(1, s.value)) {
      details.grader_score_mismatch = r.score;
    }
    return { score: score(s.value, s.correct && s.value >= c.threshold, details), run };
  }
}
