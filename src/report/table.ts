// The terminal rendering of a Report: a few narrow tables and the provenance block.
import { renderTable } from './plain-table.js';
import { fmtAttempts, fmtCi, fmtFixed, fmtDelta, fmtInt, fmtMs, fmtNum, fmtOutcomes, fmtPassK, fmtPct, fmtScore, fmtTokens, fmtUsd, unmeteredLine } from './format.js';
import type { GroupStats, Report } from './schema.js';

function scoreRows(gs: GroupStats[], withFamily: boolean): (string | number)[][] {
  return gs.map((g) => [
    ...(withFamily ? [g.family ?? '-'] : []),
    g.key,
    `${g.score.n_tasks}/${g.score.n_rollouts}`,
    fmtScore(g.score.mean),
    fmtCi(g.score.ci),
    fmtPct(g.pass_at_1),
    fmtPassK(g.pass_at_k),
    fmtOutcomes(g.outcomes),
    fmtIntegrity(g),
  ]);
}

/** Passed rollouts as review sees them: clean / hacked / unreviewed, and the hacks left out of the score (✗). */
function fmtIntegrity(g: GroupStats): string {
  const i = g.integrity;
  return `${i.clean_passed}/${i.hacked_passed}/${i.unreviewed_passed}${i.hacked_excluded ? ` ✗${i.hacked_excluded}` : ''}`;
}

export function renderReportTable(r: Report): string {
  const out: string[] = [];
  const conf = Math.round(r.provenance.report.confidence * 100);
  out.push(`experiment ${r.experiment.id} (created ${r.experiment.created_at}, ${r.experiment.finished}/${r.experiment.rollouts} finished)`);
  if (r.compare) out.push(`compared with ${r.compare.id} (created ${r.compare.created_at}, ${r.compare.finished}/${r.compare.rollouts} finished)`);
  out.push('');
  if (r.groups.length === 0) out.push('no rollouts');
  else {
    out.push(`Scores (mean over tasks, ${conf}% bootstrap CI; tasks/rollouts scored)`);
    out.push(renderTable(['model × harness', 'n', 'score', `${conf}% CI`, 'pass@1', 'pass@k', 'outcomes', 'passed clean/hacked/unreviewed'], scoreRows(r.groups, false)));
    for (const g of r.groups) if (g.integrity.hacked_excluded) out.push(`✗ ${g.key}: ${g.integrity.hacked_excluded} rollout(s) left out of the score: a reviewer confirmed a hack`);
    for (const g of r.groups) if (g.flags.open + g.flags.needs_info) out.push(`? ${g.key}: ${g.flags.open + g.flags.needs_info} flag(s) unreviewed: scored as graded until a reviewer decides`);
    if (r.families.length) {
      out.push('', 'By task family');
      out.push(renderTable(['family', 'model × harness', 'n', 'score', `${conf}% CI`, 'pass@1', 'pass@k', 'outcomes', 'passed clean/hacked/unreviewed'], scoreRows(r.families, true)));
    }
    out.push('', 'Endurance (p50 / p95 per rollout)');
    out.push(
      renderTable(
        ['model × harness', 'tool calls', 'turns', 'wall time', 'working time', 'attempts'],
        r.groups.map((g) => [
          g.key,
          `${fmtNum(g.endurance.tool_calls.p50, 1)} / ${fmtNum(g.endurance.tool_calls.p95, 1)}`,
          `${fmtNum(g.endurance.turns.p50, 1)} / ${fmtNum(g.endurance.turns.p95, 1)}`,
          `${fmtMs(g.endurance.wall_ms.p50)} / ${fmtMs(g.endurance.wall_ms.p95)}`,
          `${fmtMs(g.endurance.working_ms.p50)} / ${fmtMs(g.endurance.working_ms.p95)}`,
          fmtAttempts(g),
        ]),
      ),
    );
    out.push('(wall and working time summed over each rollout\'s attempts: a resumed rollout counts all of its time, not the pause)');
    out.push('', 'Tokens and cost (per task = mean per scored rollout)');
    out.push(
      renderTable(
        ['model × harness', 'input', 'cached', 'cache write', 'output', 'reasoning', 'cost/task', 'cost/solved', 'out tok/score', 'cache hit'],
        r.groups.map((g) => [
          g.key,
          fmtTokens(g.tokens.per_task?.input),
          fmtTokens(g.tokens.per_task?.cached),
          fmtTokens(g.tokens.per_task?.cache_write),
          fmtTokens(g.tokens.per_task?.output),
          fmtTokens(g.tokens.per_task?.reasoning),
          fmtUsd(g.cost.per_task_usd),
          fmtUsd(g.cost.per_solved_task_usd),
          fmtTokens(g.cost.output_tokens_per_score),
          fmtPct(g.cache_hit_ratio),
        ]),
      ),
    );
    for (const g of r.groups) if (g.cost.unmetered_calls > 0) out.push(`${g.key}: ${unmeteredLine(g)}`);
    out.push('', 'Latency (successful model calls) and monitor flags');
    out.push(
      renderTable(
        ['model × harness', 'calls', 'TTFT p50', 'TTFT p95', 'out tok/s p50', 'out tok/s p95', 'flags', 'unreviewed', 'confirmed', 'dismissed'],
        r.groups.map((g) => [
          g.key,
          g.model_calls,
          fmtMs(g.latency.ttft_ms.p50),
          fmtMs(g.latency.ttft_ms.p95),
          fmtNum(g.latency.output_tps.p50, 1),
          fmtNum(g.latency.output_tps.p95, 1),
          g.flags.total,
          g.flags.open + g.flags.needs_info,
          g.flags.confirmed,
          g.flags.dismissed,
        ]),
      ),
    );
  }
  if (r.rules.length) {
    out.push('', `Monitor rules (precision = confirmed / decided; ${r.review.decisions} decision(s), flag to decision p50 ${fmtMs(r.review.time_to_decision_ms.p50)})`);
    out.push(renderTable(['rule', 'flags', 'confirmed', 'dismissed', 'unreviewed', 'precision'], r.rules.map((x) => [x.rule_id, x.flags, x.confirmed, x.dismissed, x.pending, fmtPct(x.precision)])));
  }
  if (r.kernels.length) {
    out.push('', "Kernels: speedup over the reference and share of this machine's roofline, per workload");
    out.push(
      renderTable(
        ['task', 'model × harness', 'rep', 'workload', 'speedup', 'p25–p75', 'kernel ms', 'bound ms', 'of roofline'],
        r.kernels.map((k) => [
          k.task,
          k.key,
          k.repeat,
          k.workload,
          `${fmtFixed(k.speedup)}x${k.withheld ? ' (withheld)' : ''}`,
          k.p25 === null || k.p75 === null ? '–' : `${fmtFixed(k.p25)}–${fmtFixed(k.p75)}`,
          fmtNum(k.cand_ms, 3),
          fmtNum(k.bound_ms, 3),
          `${fmtPct(k.roofline_fraction)}${k.limit ? ` (${k.limit})` : ''}`,
        ]),
      ),
    );
  }
  if (r.paired.length) {
    out.push('', `Paired deltas (b − a, mean over shared tasks, ${conf}% CI)`);
    out.push(
      renderTable(
        ['a', 'b', 'tasks', 'Δ score', `${conf}% CI`, 'b better/worse/tie'],
        r.paired.map((p) => [
          r.compare ? `${p.a.key} [${p.a.experiment}]` : p.a.key,
          r.compare ? `${p.b.key} [${p.b.experiment}]` : p.b.key,
          p.tasks,
          fmtDelta(p.mean_diff),
          fmtCi(p.ci),
          `${p.wins}/${p.losses}/${p.ties}`,
        ]),
      ),
    );
  }
  out.push('', renderProvenanceText(r));
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}

export function renderProvenanceText(r: Report): string {
  const p = r.provenance;
  const kv = (k: string, v: string) => `  ${k.padEnd(13)} ${v || '–'}`;
  const lines = ['Provenance'];
  lines.push(kv('outlast', p.outlast.map((v) => `${v.version}${v.commit ? ` (${v.commit})` : ''}`).join(', ')));
  lines.push(kv('graders', p.verifiers.map((v) => `${v.verifier}@${v.version}`).join(', ')));
  lines.push(kv('harnesses', p.harnesses.map((h) => `${h.name}@${h.version}`).join(', ')));
  lines.push(kv('models', p.models.map((m) => `${m.name}${m.upstream_model ? ` → ${m.upstream_model}` : ''}${m.base_url ? ` @ ${m.base_url}` : ''}`).join(', ')));
  lines.push(kv('price tables', p.price_tables.join(', ')));
  lines.push(kv('tasks', `${p.tasks.length} (${p.tasks.slice(0, 3).map((t) => `${t.name}:${t.hash.replace(/^sha256:/, '').slice(0, 12)}`).join(', ')}${p.tasks.length > 3 ? ', …' : ''})`));
  lines.push(kv('limits', JSON.stringify(p.limits.experiment ?? p.limits.rollouts[0] ?? {})));
  lines.push(kv('sandbox', p.sandbox.map((s) => `${s.mode}${s.unsandboxed ? ' (unsandboxed)' : ''}`).join(', ')));
  lines.push(kv('dates', `created ${p.dates.experiment_created}; ran ${p.dates.first_started ?? '–'} → ${p.dates.last_finished ?? '–'}; report ${p.dates.generated_at}`));
  lines.push(kv('statistics', `bootstrap ${p.report.resamples} resamples, seed ${p.report.seed}, clustered by family when ≥ ${p.report.min_clusters} families; infra errors ${p.report.include_infra ? 'included' : 'excluded'}`));
  return lines.join('\n');
}

export { fmtInt };
