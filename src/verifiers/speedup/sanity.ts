// Sanity of a kernels measurement, checked by the verifier on the grader's result: every declared
// workload ran, in order, with its declared repeats; and no workload ran faster than this machine's
// physical limit (such a score is withheld and flagged for a human to review, never reported).
import fs from 'node:fs';
import type { VerifierFlag } from '../verifier.js';
import type { GraderResult } from './result.js';
import type { WorkloadBound } from './roofline.js';

export const IMPLAUSIBLE_RULE = { rule_id: 'kernels.roofline.implausible', rule_version: '1' } as const;

/** The workload names a workloads file declares, in order (the grader names a line without `name=` w<index>). */
export function declaredWorkloads(file: string): string[] {
  const names: string[] = [];
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /(?:^|\s)name=(\S+)/.exec(line);
    names.push(m ? m[1]!.slice(0, 63) : `w${names.length}`);
  }
  return names;
}

/** Why a correct result is not a complete measurement, or null when it is. */
export function incompleteMeasurement(r: GraderResult, declared: readonly string[], minRepeats: number, maxRepeats: number): string | null {
  const got = r.workloads.map((w) => w.name);
  if (got.length !== declared.length || got.some((n, i) => n !== declared[i])) {
    return `the grader reported workloads [${got.join(', ')}], not the declared [${declared.join(', ')}]`;
  }
  if (r.repeats && (r.repeats.min !== minRepeats || r.repeats.max !== maxRepeats)) {
    return `the grader ran with repeats ${r.repeats.min}..${r.repeats.max}, not the declared ${minRepeats}..${maxRepeats}`;
  }
  for (const w of r.workloads) {
    if (w.repeats < minRepeats || w.repeats > maxRepeats || w.repeats % 2 !== 0) {
      return `workload ${w.name} ran ${w.repeats} timed repeats, not an even number in ${minRepeats}..${maxRepeats}`;
    }
  }
  return null;
}

/** A flag for each workload whose candidate beat its roofline bound by more than `limit` (fraction > limit). */
export function implausibleWorkloads(bounds: ReadonlyMap<string, WorkloadBound>, limit: number, machine: Record<string, unknown>): VerifierFlag[] {
  const flags: VerifierFlag[] = [];
  if (!(limit > 0)) return flags;
  for (const [name, b] of bounds) {
    if (b.fraction === null || !(b.fraction > limit)) continue;
    flags.push({
      ...IMPLAUSIBLE_RULE,
      severity: 'critical',
      summary: `workload ${name} ran at ${b.fraction.toFixed(2)}x this machine's roofline bound (${b.bound_ms.toPrecision(3)} ms, ${b.limit}-bound): faster than physically possible, score withheld for review`,
      evidence: { workload: name, ...b, limit_fraction: limit, machine },
    });
  }
  return flags;
}
