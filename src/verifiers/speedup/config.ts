// The `[verifier]` table of a task graded by the speedup verifier (kind = "speedup"): one zod
// schema, defaults and a comment on each key (docs/kernels.md has the table).
import { z } from 'zod';
import type { VerifierConfig } from '../../core/types.js';
import { parseWith } from '../../core/validate.js';

export const FILE_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
/** Timed calls of each kernel per workload when the task does not say: at least / at most. */
export const DEFAULT_MIN_REPEATS = 6;
export const DEFAULT_MAX_REPEATS = 24;
/** A workload whose candidate ran faster than its roofline bound by more than this factor is implausible. */
export const DEFAULT_IMPLAUSIBLE_FRACTION = 1.5;

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
  /** Seconds of interleaved timing per workload (default: the task's build.conf / kernel.conf). */
  budget_sec: z.number().positive().optional(),
  /** Timed (reference, candidate) pairs per workload: at least / at most. */
  min_repeats: z.number().int().min(2).default(DEFAULT_MIN_REPEATS),
  max_repeats: z.number().int().positive().default(DEFAULT_MAX_REPEATS),
  /** Withhold the score (and flag it for review) when a workload ran at more than this fraction of its roofline bound; 0 turns the check off. */
  implausible_fraction: z.number().nonnegative().default(DEFAULT_IMPLAUSIBLE_FRACTION),
});

export type SpeedupVerifierConfig = z.output<typeof speedupVerifierSchema>;

/** Validate a task's [verifier] table for kind `speedup` (defaults filled in). Throws a one-line UserError. */
export function parseSpeedupConfig(config: VerifierConfig | Record<string, unknown>, source = 'task.toml'): SpeedupVerifierConfig {
  const c = parseWith(z.object({ verifier: speedupVerifierSchema }), { verifier: config }, source).verifier;
  if (c.max_repeats < c.min_repeats) return { ...c, max_repeats: c.min_repeats };
  return c;
}
