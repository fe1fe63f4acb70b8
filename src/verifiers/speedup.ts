// The `speedup` verifier (the kernels suite; see docs/kernels.md). It grades a kernel by
// correctness first, then speed, with the task's own grader:
//   1. copy ONLY the kernel source files named in `sources` out of the final workspace into a fresh
//      directory (regular files, no symlinks); the agent's copies of everything else never reach
//      the grader;
//   2. run the grading command (default `bash /tests/grade.sh`) in a fresh sandbox with those
//      sources at the workdir, the task's pristine starting workspace read-only at /outlast/task
//      ($OUTLAST_TASK: the driver, reference, header, flags and the grader's own sources), the
//      pristine tests/ read-only at /tests (hidden workloads) and a fresh, empty directory at /out.
//      The grader builds the candidate into its own worker process, sandboxed apart from the grader,
//      checks it on inputs from fresh entropy, times it against the reference and writes
//      /out/result.json;
//   3. read result.json, which must carry this run's random nonce and seed (a file the kernel or the
//      agent prepared cannot pass), check that every declared workload ran its declared repeats,
//      recompute the geometric mean from the per-workload medians, set each workload's time beside
//      this machine's roofline bound, and score: value = geometric-mean speedup (0 when anything
//      failed), passed = correct and value >= threshold. A workload faster than the roofline allows
//      withholds the score (0, not passed) and raises a flag for human review.
// The load average and CPU governor before and after grading go into the score's details.
// Without bubblewrap (`--sandbox none`) mounts are impossible, so the grader gets host paths
// through TESTS_DIR/OUT_DIR/SRC_DIR/OUTLAST_TASK instead (and `/tests/` in the command is
// rewritten); the sandbox's provenance records that run as unsandboxed.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TASK_FILES_MOUNT, TESTS_MOUNT } from '../core/mounts.js';
import type { Score, VerifierConfig } from '../core/types.js';
import type { Mount } from '../sandbox/sandbox.js';
import { defaultCacheDir } from '../tasks/cache.js';
import { parseSpeedupConfig, type SpeedupVerifierConfig } from './speedup/config.js';
import { hostState } from './speedup/host.js';
import { resultSchema, scoreResult } from './speedup/result.js';
import { machineRoofline, workloadBound, type Roofline, type WorkloadBound } from './speedup/roofline.js';
import { declaredWorkloads, implausibleWorkloads, incompleteMeasurement } from './speedup/sanity.js';
import { pristineTests, runOf, throwIfAborted, type Verifier, type VerifyContext, type VerifyOutcome } from './verifier.js';

export { parseSpeedupConfig, speedupVerifierSchema, type SpeedupVerifierConfig } from './speedup/config.js';
export { geomean, scoreResult, type GraderResult, type ScoredResult, type WorkloadResult } from './speedup/result.js';

export const SPEEDUP_VERIFIER_VERSION = '2.0.0';

/** Largest kernel source file copied to the grader. */
const MAX_SOURCE_BYTES = 1024 * 1024;
/** Largest result.json read. */
const MAX_RESULT_BYTES = 4 * 1024 * 1024;
/** Where the fresh result directory is mounted in the sandbox. */
const OUT_MOUNT = '/out';

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
      min_repeats: c.min_repeats,
      max_repeats: c.max_repeats,
      implausible_fraction: c.implausible_fraction,
      seed,
      sandbox: ctx.sandbox.mode,
    };
    if (c.budget_sec !== undefined) settings.budget_sec = c.budget_sec;
    const started = Date.now();
    const before = hostState();
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

    const tests = await pristineTests(ctx);
    if (!tests) throw new Error(`task ${ctx.task.name}: the speedup verifier needs a tests/ directory holding the grader`);
    const taskFiles = ctx.task.workspace_dir;
    if (!taskFiles) throw new Error(`task ${ctx.task.name}: the speedup verifier needs the task's starting workspace (its driver, reference and grader)`);
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

    // this machine's physical limits (measured once per machine, cached)
    const rooflineOpts = { cacheDir: ctx.cacheDir ?? defaultCacheDir(), sandbox: ctx.sandbox, scratch: ctx.scratch, signal: ctx.signal };
    let roofline: Roofline | null = null;
    let rooflineError: string | null = null;
    try {
      roofline = await machineRoofline(rooflineOpts);
    } catch (err) {
      rooflineError = (err as Error).message;
    }
    throwIfAborted(ctx.signal); // a probe killed by an interrupt is no measurement

    // 2. the grader, in a fresh sandbox
    const workdir = ctx.task.workdir;
    const env: Record<string, string> = {
      SOURCES: c.sources.join(' '),
      SEED: String(seed),
      NONCE: nonce,
      WORKLOADS: c.workloads,
      OUTLAST_SEED: String(seed),
      MIN_REPEATS: String(c.min_repeats),
      MAX_REPEATS: String(c.max_repeats),
    };
    if (c.budget_sec !== undefined) env.BUDGET = String(c.budget_sec);
    let command = c.command;
    let mounts: Mount[] | undefined;
    if (!ctx.sandbox.unsandboxed) {
      Object.assign(env, { SRC_DIR: workdir, TESTS_DIR: TESTS_MOUNT, OUT_DIR: OUT_MOUNT, OUTLAST_TASK: TASK_FILES_MOUNT });
      mounts = [
        { host: tests, target: TESTS_MOUNT, readonly: true },
        { host: taskFiles, target: TASK_FILES_MOUNT, readonly: true },
        { host: outDir, target: OUT_MOUNT, readonly: false },
      ];
    } else {
      Object.assign(env, { SRC_DIR: srcDir, TESTS_DIR: tests, OUT_DIR: outDir, OUTLAST_TASK: taskFiles });
      command = command.replaceAll(`${TESTS_MOUNT}/`, `${tests}/`);
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
    const after = hostState();
    // timings only mean something together with the machine that produced them, and its state
    const host = { cpu: roofline?.identity.cpu ?? null, cores: roofline?.identity.cores ?? null, before, after };
    const base = { seed, seconds: res.duration_ms / 1000, sources: c.sources, host };
    const failed = (reason: string) => ({ score: score(0, false, { ...base, correct: false, reason }), run });
    // stopped from outside: nothing to grade (the rollout is resumed and graded again)
    throwIfAborted(ctx.signal, res);
    if (res.timed_out) return failed(`grading timed out after ${c.timeout_sec}s`);

    // 3. the result, written by this run's grader
    const resultFile = path.join(outDir, 'result.json');
    const tail = res.output.trim().split('\n').slice(-3).join(' | ').slice(-400);
    let raw: unknown;
    try {
      raw = JSON.parse(readResult(resultFile));
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'wrote no result.json' : `wrote an unreadable result.json (${(err as Error).message})`;
      return failed(`the grader ${why} (exit code ${res.exit_code}): ${tail}`);
    }
    const parsed = resultSchema.safeParse(raw);
    if (!parsed.success) return failed(`the grader's result.json is malformed: ${parsed.error.issues[0]?.message}`);
    const r = parsed.data;
    if (r.nonce !== nonce || r.seed !== seed) return failed("result.json does not carry this run's nonce and seed: it was not written by this grading run");
    // the grader's own failures (its reference or driver broken, a worker that could not be set up
    // before any candidate code ran) are not the agent's: infra_error, not a score of 0
    // — unless the sandbox ran out of memory: only the candidate's allocations are unbounded there
    // (its worker goes first when memory runs out; should the kernel still take the grader down with
    // it, that is the candidate's doing)
    if (!r.correct && r.reason.startsWith('internal:')) {
      if (res.oom_killed) return failed(`the sandbox's memory limit (${ctx.task.sandbox.memory_mb} MiB) was reached while the kernel ran: ${r.reason.replace(/^internal: /, '')}`);
      throw new Error(`task ${ctx.task.name}: the kernels grader failed: ${r.reason}`);
    }
    const s = scoreResult(r);
    let correct = s.correct;
    let reason = s.reason;
    if (correct) {
      const incomplete = incompleteMeasurement(r, declaredWorkloads(path.join(tests, c.workloads)), c.min_repeats, c.max_repeats);
      if (incomplete) [correct, reason] = [false, `incomplete measurement: ${incomplete}`];
    }

    // each workload beside the physical limit; faster than it is implausible
    const boundsOf = (rf: Roofline) => {
      const m = new Map<string, WorkloadBound>();
      for (const w of s.workloads) if (w.bytes !== null && w.flops !== null) m.set(w.name, workloadBound(rf, w.bytes, w.flops, w.cand_ms));
      return m;
    };
    let bounds = roofline ? boundsOf(roofline) : new Map<string, WorkloadBound>();
    let flags = correct && roofline ? implausibleWorkloads(bounds, c.implausible_fraction, { ...roofline.identity }) : [];
    if (flags.length && roofline) {
      // a roofline cached while the machine was busy could be too low: measure again before flagging
      try {
        roofline = await machineRoofline({ ...rooflineOpts, remeasure: true });
        bounds = boundsOf(roofline);
        flags = implausibleWorkloads(bounds, c.implausible_fraction, { ...roofline.identity });
      } catch (err) {
        rooflineError = (err as Error).message;
      }
      throwIfAborted(ctx.signal);
    }
    const details: Record<string, unknown> = {
      ...base,
      kernel: r.kernel,
      correct,
      speedup: s.value,
      spread: s.spread,
      threshold: c.threshold,
      tolerance: r.tolerance,
      workloads_file: c.workloads,
      boundary: r.boundary ?? null,
      handshake_us: r.handshake_us ?? null,
      cpu_ms: r.cpu_ms ?? null,
      roofline: roofline
        ? { key: roofline.key, fma_gflops: roofline.fma_gflops, cache_gbs: roofline.cache_gbs, dram_gbs: roofline.dram_gbs, llc_bytes: roofline.llc_bytes, measured_at: roofline.measured_at, runs: roofline.runs }
        : { error: rooflineError },
      workloads: s.workloads.map((w) => {
        const b = bounds.get(w.name);
        return b ? { ...w, bound_ms: b.bound_ms, roofline_fraction: b.fraction, limit: b.limit } : w;
      }),
    };
    if (!correct) {
      details.reason = reason;
      return { score: score(0, false, details), run };
    }
    if (flags.length) {
      details.reason = `score withheld for review: ${flags[0]!.summary}`;
      details.withheld = true;
      return { score: score(0, false, details), run, flags };
    }
    if (s.value < c.threshold) details.reason = `speedup ${s.value.toFixed(3)} is below the threshold ${c.threshold}`;
    if (typeof r.score === 'number' && Math.abs(r.score - s.value) > 1e-3 * Math.max(1, s.value)) details.grader_score_mismatch = r.score;
    return { score: score(s.value, s.value >= c.threshold, details), run };
  }
}

/** result.json as text: a regular file (no symlink followed), at most MAX_RESULT_BYTES. */
function readResult(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_RESULT_BYTES) throw new Error(`larger than ${MAX_RESULT_BYTES} bytes`);
    const buf = Buffer.alloc(st.size);
    const n = fs.readSync(fd, buf, 0, st.size, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
