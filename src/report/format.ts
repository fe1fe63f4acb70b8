// Number formatting shared by the terminal table, the HTML report and the web viewer (which imports
// this file directly), so the same number reads the same everywhere. Pure; it imports types only.
import type { CrossHarness, GroupStats, HarnessPair } from './schema.js';

export const DASH = '–';

export function fmtNum(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  return v.toFixed(digits);
}

/** Always `digits` decimals (a speedup of 9 reads 9.00, beside 8.60). */
export function fmtFixed(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return v.toFixed(digits);
}

export function fmtScore(v: number | null | undefined): string {
  return fmtNum(v, 3);
}

export function fmtCi(ci: { lo: number; hi: number } | null | undefined): string {
  if (!ci) return DASH;
  return `[${ci.lo.toFixed(3)}, ${ci.hi.toFixed(3)}]`;
}

export function fmtPct(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return `${(v * 100).toFixed(1)}%`;
}

export function fmtUsd(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  if (v === 0) return '$0';
  // Three significant digits below a dollar (0.0275 → $0.0275, 0.00999… → $0.01).
  if (Math.abs(v) < 1) return `$${Number(v.toPrecision(3))}`;
  return `$${v.toFixed(2)}`;
}

export function fmtInt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return String(Math.round(v));
}

export function fmtTokens(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return String(Math.round(v));
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function fmtDelta(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;
}

export function fmtPassK(p: { k: number; value: number } | null | undefined): string {
  return p ? `pass@${p.k} ${fmtPct(p.value)}` : DASH;
}

/** Outcome counts as `completed/gave_up/budget/timeout/task_error (+infra)`. */
export function fmtOutcomes(o: Record<string, number>): string {
  const parts = [`${o.completed ?? 0} done`];
  for (const [k, label] of [
    ['gave_up', 'gave up'],
    ['budget_exhausted', 'budget'],
    ['timeout', 'timeout'],
    ['task_error', 'task err'],
    ['infra_error', 'infra'],
    ['running', 'running'],
    ['pending', 'pending'],
  ] as const) {
    if (o[k]) parts.push(`${o[k]} ${label}`);
  }
  return parts.join(', ');
}

/** Attempts per rollout: "1" when none was resumed, else how many were and the most attempts. */
export function fmtAttempts(g: GroupStats): string {
  const e = g.endurance;
  if (e.attempts.n === 0) return '–';
  return e.resumed === 0 ? '1' : `${e.resumed} of ${e.attempts.n} resumed (max ${fmtNum(e.attempts.max, 0)})`;
}

/** The calls never metered, said apart from the metered cost. */
export function unmeteredLine(g: GroupStats): string {
  const n = g.cost.unmetered_calls;
  return `${n} call${n === 1 ? '' : 's'} unmetered (crash), ~${fmtUsd(g.cost.unmetered_usd_estimate)} estimated (not in the cost above)`;
}

/** A cross-harness block's heading: its model and how many of its tasks every harness has scores on. */
export function crossHeadline(b: CrossHarness): string {
  const names = b.common_tasks.length > 8 ? `${b.common_tasks.slice(0, 8).join(', ')}, …` : b.common_tasks.join(', ');
  const matched = b.common_tasks.length === b.tasks ? `all ${b.tasks} matched` : `${b.common_tasks.length} matched${names ? `: ${names}` : ''}`;
  return `${b.model === null ? 'no model' : `model ${b.model}`} (${b.tasks} task${b.tasks === 1 ? '' : 's'}, ${matched})`;
}

/** The tasks a pair is not matched on, said from the side that lacks them ("codex lacks t5"). */
export function fmtUnmatched(p: HarnessPair): string {
  const parts: string[] = [];
  if (p.only_a.length) parts.push(`${p.b} lacks ${p.only_a.join(', ')}`);
  if (p.only_b.length) parts.push(`${p.a} lacks ${p.only_b.join(', ')}`);
  return parts.join('; ') || DASH;
}

/** Pass/fail verdict counts of a pair: both pass / only a / only b / both fail. */
export function fmtVerdicts(p: HarnessPair): string {
  const v = p.verdicts;
  return `${v.both_pass} / ${v.a_pass_b_fail} / ${v.a_fail_b_pass} / ${v.both_fail}`;
}

/** Spread, rank stability and agreement of a block in one line. */
export function crossSummaryLine(b: CrossHarness): string {
  const s = b.spread;
  const r = b.rank;
  const spread = s.range === null ? `spread ${DASH}` : `spread ${fmtFixed(s.range, 3)} (sd ${fmtFixed(s.stdev, 3)}; best ${s.best.join(', ')}, worst ${s.worst.join(', ')})`;
  const rank = r.tasks
    ? `rank stability over ${r.tasks} task(s): Kendall W ${fmtFixed(r.kendall_w, 3)}, ${r.tasks - r.contradicting} of ${r.tasks} keep the overall order (${r.all_tied} all tied)`
    : `rank stability ${DASH}`;
  const a = b.agreement;
  const agree = a.tasks ? `all pass/fail alike on ${a.all_pass + a.all_fail} of ${a.tasks} (${fmtPct(a.share_alike)}; ${a.all_pass} all pass, ${a.all_fail} all fail)` : `agreement ${DASH}`;
  return `${spread} · ${rank} · ${agree}`;
}
