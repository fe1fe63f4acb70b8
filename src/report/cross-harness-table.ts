// The terminal rendering of `outlast report --by harness`: per model, one table of the harnesses,
// a line of spread / rank stability / agreement, and one table of the harness pairs.
import { renderTable } from './plain-table.js';
import { crossHeadline, crossSummaryLine, fmtCi, fmtDelta, fmtNum, fmtPct, fmtScore, fmtTokens, fmtUnmatched, fmtUsd, fmtVerdicts } from './format.js';
import type { CrossHarness, Report } from './schema.js';
import { renderProvenanceText } from './table.js';

const signed = (v: number | null, digits: number) => (v === null ? fmtNum(v) : `${v >= 0 ? '+' : ''}${fmtNum(v, digits)}`);

function block(b: CrossHarness, conf: number): string[] {
  const out = [`Across harnesses: ${crossHeadline(b)}`];
  if (b.note) out.push(`note: ${b.note}`);
  out.push(
    renderTable(
      ['harness', 'tasks/rollouts', 'infra', 'score', `${conf}% CI`, 'matched', `${conf}% CI`, 'pass rate', 'cost', 'in tok', 'out tok', 'tool calls', 'turns', 'missing tasks'],
      b.per_harness.map((h) => [
        h.harness,
        `${h.score.n_tasks}/${h.scored}`,
        h.infra_error ? `${h.infra_error}${h.excluded ? ' excl.' : ''}` : '0',
        fmtScore(h.score.mean),
        fmtCi(h.score.ci),
        fmtScore(h.matched.mean),
        fmtCi(h.matched.ci),
        fmtPct(h.matched_pass_rate),
        fmtUsd(h.means.cost_usd),
        fmtTokens(h.means.input_tokens),
        fmtTokens(h.means.output_tokens),
        fmtNum(h.means.tool_calls, 2),
        fmtNum(h.means.turns, 2),
        h.missing_tasks.join(', ') || '–',
      ]),
    ),
  );
  out.push('(score: its own tasks, as in the leaderboard; matched and the columns after it: the common tasks, means per task over scored repeats)');
  if (b.harnesses.length < 2) return out;
  out.push(crossSummaryLine(b));
  out.push(
    renderTable(
      ['a', 'b', 'tasks', 'Δ score', `${conf}% CI`, 'agree', 'κ', 'pass both/a/b/neither', 'Δ cost', 'Δ in tok', 'Δ out tok', 'Δ tool calls', 'unmatched'],
      b.pairs.map((p) => [
        p.a,
        p.b,
        p.tasks,
        fmtDelta(p.score_diff.mean),
        fmtCi(p.score_diff.ci),
        fmtPct(p.agreement),
        fmtNum(p.kappa, 3),
        fmtVerdicts(p),
        p.diff.cost_usd === null ? fmtUsd(null) : `${p.diff.cost_usd >= 0 ? '+' : '-'}${fmtUsd(Math.abs(p.diff.cost_usd))}`,
        signed(p.diff.input_tokens, 1),
        signed(p.diff.output_tokens, 1),
        signed(p.diff.tool_calls, 2),
        fmtUnmatched(p),
      ]),
    ),
  );
  out.push('(pairs: b − a over the tasks both have scores on; verdict pass = more than half of a task\'s scored repeats passed)');
  return out;
}

export function renderByHarnessTable(r: Report): string {
  const conf = Math.round(r.provenance.report.confidence * 100);
  const out = [`experiment ${r.experiment.id} (created ${r.experiment.created_at}, ${r.experiment.finished}/${r.experiment.rollouts} finished): the same model across harnesses`];
  for (const b of r.by_harness ?? []) out.push('', ...block(b, conf));
  if (!r.by_harness?.length) out.push('', 'no rollouts');
  out.push('', renderProvenanceText(r));
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}
