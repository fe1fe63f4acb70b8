// What the kernels grader writes (result.json), read by the speedup verifier as untrusted input: its
// schema, and the score recomputed from the per-workload medians (never the file's own `score`).
import { z } from 'zod';

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
  /** The least bytes moved and FLOPs of one call (the driver's cost()), for the roofline. */
  bytes: number | null;
  flops: number | null;
}

const num = z.number().nullable();
export const resultSchema = z.looseObject({
  kernel: z.string().optional(),
  score: z.number().nullable(),
  correct: z.boolean(),
  reason: z.string().default(''),
  seed: z.number(),
  nonce: z.string(),
  tolerance: z.number().optional(),
  spread: z.object({ p25: num, p75: num }).optional(),
  seconds: z.number().optional(),
  repeats: z.object({ min: z.number().int(), max: z.number().int() }).optional(),
  handshake_us: z.object({ median: num, p90: num, calls: z.number().int() }).optional(),
  boundary: z.looseObject({ workers: z.string(), note: z.string().default('') }).optional(),
  cpu_ms: z.record(z.string(), z.record(z.string(), num)).optional(),
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
      bytes: num.default(null),
      flops: num.default(null),
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
  const workloads: WorkloadResult[] = r.workloads.map((w) => ({
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
    bytes: w.bytes,
    flops: w.flops,
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
