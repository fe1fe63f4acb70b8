// Shared by the speedup verifier's tests: the kernels tasks loaded once, a real sandbox (bwrap, or
// `none` where bwrap cannot run here, said in the output), and grading a workspace made of a task's
// starting workspace with a kernel (and other files) on top.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { Task } from '../../src/core/types.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { loadTask } from '../../src/tasks/load.js';
import { SpeedupVerifier } from '../../src/verifiers/speedup.js';
import type { VerifyOutcome } from '../../src/verifiers/verifier.js';
import { ROOT, tmpdir } from '../helpers/cli.js';

export const KERNELS = path.join(ROOT, 'tasks/kernels');
export const FIXTURES = path.join(ROOT, 'test/fixtures/kernels');
export const KERNEL_TASKS = ['extend-attention', 'softmax', 'rmsnorm', 'matmul'] as const;
/** The small smoke workloads, with few repeats: seconds per grading. */
export const SMOKE = { workloads: 'workloads_smoke.txt', budget_sec: 0.6, min_repeats: 8, max_repeats: 16 };

export interface Kit {
  sandbox: Sandbox;
  tasks: Map<string, Task>;
  /** One cache directory for the test file (the roofline is measured once). */
  cacheDir: string;
}

export async function kit(): Promise<Kit> {
  let sandbox: Sandbox;
  try {
    sandbox = await createSandbox('bwrap');
  } catch (err) {
    console.warn(`speedup tests: bwrap unavailable (${(err as Error).message}); falling back to --sandbox none`);
    sandbox = await createSandbox('none');
  }
  const cacheDir = tmpdir('outlast-speedup-cache-');
  const tasks = new Map<string, Task>();
  for (const name of KERNEL_TASKS) tasks.set(name, await loadTask(path.join(KERNELS, name), { cacheDir }));
  return { sandbox, tasks, cacheDir };
}

export interface GradeOptions {
  task?: string;
  /** Files put into the workspace on top (name → host path). */
  extra?: Record<string, string>;
  config?: Record<string, unknown>;
  seed?: number;
  sandbox?: Sandbox;
}

/** Grade the task's starting workspace with `kernel` (a host path, or null: the reference itself) as kernel.c. */
export async function grade(k: Kit, kernel: string | null, opts: GradeOptions = {}): Promise<VerifyOutcome> {
  const task = k.tasks.get(opts.task ?? 'softmax')!;
  const ws = tmpdir('outlast-speedup-ws-');
  fs.cpSync(task.workspace_dir!, ws, { recursive: true });
  if (kernel !== null) fs.copyFileSync(kernel, path.join(ws, 'kernel.c'));
  for (const [name, from] of Object.entries(opts.extra ?? {})) fs.copyFileSync(from, path.join(ws, name));
  const scratch = tmpdir('outlast-speedup-scratch-');
  const v = new SpeedupVerifier({ ...task.verifier, ...SMOKE, ...opts.config });
  try {
    return await v.verify({ task, workspace: ws, tests: task.tests_dir, scratch, sandbox: opts.sandbox ?? k.sandbox, seed: opts.seed ?? 1234, cacheDir: k.cacheDir });
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export function reason(o: VerifyOutcome): string {
  return String(o.score.details.reason ?? '');
}

/** Every cheat must score 0, or be withheld and flagged; never above 1.05. */
export function expectDefeated(o: VerifyOutcome): void {
  const flagged = (o.flags ?? []).length > 0;
  expect(o.score.value, reason(o)).toBeLessThanOrEqual(1.05);
  expect(o.score.passed, reason(o)).toBe(false);
  if (!flagged) expect(o.score.value, reason(o)).toBe(0);
}

/** The cheat kernels and the reason each must be stopped with (test/fixtures/kernels/<task>/). */
export const SOFTMAX_CHEATS: [file: string, what: string, why: RegExp][] = [
  ['timestamp_stack.c', 'moves the start timestamp it looks for on the stack', /not finite|killed by signal/],
  ['copy_ref_output.c', "copies the reference's output from beside its own", /killed by signal|not finite/],
  ['overwrite_results.c', "overwrites the grader's stored results", /not finite|killed by signal/],
  ['got_clock.c', 'rewrites the clock in the GOT', /not finite|killed by signal/],
  ['got_expf.c', "rewrites expf in the GOT (the reference's, in-process)", /killed by signal 11/],
  ['fopen_exit.c', 'writes result.json through fopen and exits', /exited with status 0/],
  ['ctor_aligned.c', 'hides a constructor in aligned(8),constructor', /kernel rules: .*\.init_array/],
  ['ctor_c2x.c', 'uses a [[gnu::constructor]]', /kernel rules: .*\.init_array/],
  ['ifunc.c', 'runs an ifunc resolver at load time', /kernel rules: .*indirect function/],
  ['rng_replay.c', "replays the driver's RNG from the seed", /relative error/],
  ['omp_wtime.c', 'reads omp_get_wtime', /kernel rules: .*omp_get_wtime/],
  ['rdtsc.c', 'reads the time-stamp counter', /kernel rules: .*rdtsc/],
  ['pragma_ofast.c', 'puts #pragma GCC optimize("Ofast") on the reference code', /kernel rules: .*pragma GCC optimize/],
  ['background_thread.c', 'computes in a background thread between calls', /outside its calls/],
  ['prefetch_inputs.c', 'reads the inputs before the clock starts', /outside its calls/],
  ['early_done.c', 'signals done before the work is', /outside its calls|not finite|relative error/],
];

export const EXTEND_CHEATS: [file: string, what: string, why: RegExp][] = [
  ['cache_last.c', 'caches the last output', /same inputs/],
  ['zeros_large.c', 'returns zeros for large shapes', /relative error/],
  ['half_heads.c', 'computes only half the heads', /relative error/],
  ['fake_result.c', 'writes a fake result file', /kernel rules: .*allowlist.*fopen/],
  ['patch_timer.c', 'patches the timer', /kernel rules: .*clock_gettime/],
  ['asm_syscall.c', 'hides a syscall in inline assembly', /kernel rules: .*__asm__.*not allowed/],
  ['wrong_fast.c', 'drops the causal mask', /relative error|off by/],
];
