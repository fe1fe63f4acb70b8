// The single-file HTML report: inline CSS, charts drawn as inline SVG at generation time, the report
// JSON embedded for tools. Nothing in it refers to the network, so it opens from disk anywhere.
// Charts are static SVG here (no script needed, prints well, small); the live viewer uses uPlot.
import {
  crossHeadline,
  crossSummaryLine,
  fmtAttempts,
  fmtCi,
  fmtFixed,
  fmtDelta,
  fmtMs,
  fmtNum,
  fmtOutcomes,
  fmtPassK,
  fmtPct,
  fmtScore,
  fmtTokens,
  fmtUnmatched,
  fmtUsd,
  fmtVerdicts,
  unmeteredLine,
} from './format.js';
import type { CrossHarness, Figure, GroupStats, Report } from './schema.js';
import { extent } from './stats.js';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f'];

function td(field: string, group: string, text: string): string {
  return `<td data-group="${esc(group)}" data-field="${field}">${esc(text)}</td>`;
}

function groupTable(gs: GroupStats[], conf: number, prefix: string): string {
  const head = ['model × harness', ...(gs.some((g) => g.family) ? ['family'] : []), 'tasks', 'rollouts', 'score', `${conf}% CI`, 'pass@1', 'pass@k', 'outcomes'];
  const rows = gs.map((g) => {
    const id = g.family ? `${g.key} | ${g.family}` : g.key;
    return `<tr>${td('key', id, g.key)}${g.family ? td('family', id, g.family) : gs.some((x) => x.family) ? '<td></td>' : ''}${td('score.n_tasks', id, String(g.score.n_tasks))}${td('score.n_rollouts', id, String(g.score.n_rollouts))}${td('score.mean', id, fmtScore(g.score.mean))}${td('score.ci', id, fmtCi(g.score.ci))}${td('pass_at_1', id, fmtPct(g.pass_at_1))}${td('pass_at_k', id, fmtPassK(g.pass_at_k))}${td('outcomes', id, fmtOutcomes(g.outcomes))}</tr>`;
  });
  return `<table class="${prefix}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function detailTables(gs: GroupStats[]): string {
  const end = gs.map(
    (g) =>
      `<tr>${td('key', g.key, g.key)}${td('endurance.tool_calls.p50', g.key, fmtNum(g.endurance.tool_calls.p50, 1))}${td('endurance.tool_calls.p95', g.key, fmtNum(g.endurance.tool_calls.p95, 1))}${td('endurance.turns.p50', g.key, fmtNum(g.endurance.turns.p50, 1))}${td('endurance.wall_ms.p50', g.key, fmtMs(g.endurance.wall_ms.p50))}${td('endurance.working_ms.p50', g.key, fmtMs(g.endurance.working_ms.p50))}${td('endurance.attempts', g.key, fmtAttempts(g))}</tr>`,
  );
  const unmetered = gs.filter((g) => g.cost.unmetered_calls > 0).map((g) => `<p class="unmetered" data-key="${esc(g.key)}">${esc(`${g.key}: ${unmeteredLine(g)}`)}</p>`);
  const cost = gs.map(
    (g) =>
      `<tr>${td('key', g.key, g.key)}${td('tokens.per_task.input', g.key, fmtTokens(g.tokens.per_task?.input))}${td('tokens.per_task.cached', g.key, fmtTokens(g.tokens.per_task?.cached))}${td('tokens.per_task.cache_write', g.key, fmtTokens(g.tokens.per_task?.cache_write))}${td('tokens.per_task.output', g.key, fmtTokens(g.tokens.per_task?.output))}${td('tokens.per_task.reasoning', g.key, fmtTokens(g.tokens.per_task?.reasoning))}${td('cost.per_task_usd', g.key, fmtUsd(g.cost.per_task_usd))}${td('cost.per_solved_task_usd', g.key, fmtUsd(g.cost.per_solved_task_usd))}${td('cost.output_tokens_per_score', g.key, fmtTokens(g.cost.output_tokens_per_score))}${td('cache_hit_ratio', g.key, fmtPct(g.cache_hit_ratio))}</tr>`,
  );
  const lat = gs.map(
    (g) =>
      `<tr>${td('key', g.key, g.key)}${td('model_calls', g.key, String(g.model_calls))}${td('latency.ttft_ms.p50', g.key, fmtMs(g.latency.ttft_ms.p50))}${td('latency.ttft_ms.p95', g.key, fmtMs(g.latency.ttft_ms.p95))}${td('latency.output_tps.p50', g.key, fmtNum(g.latency.output_tps.p50, 1))}${td('latency.output_tps.p95', g.key, fmtNum(g.latency.output_tps.p95, 1))}${td('flags.total', g.key, String(g.flags.total))}${td('flags.open', g.key, String(g.flags.open + g.flags.needs_info))}${td('flags.confirmed', g.key, String(g.flags.confirmed))}${td('integrity', g.key, `${g.integrity.clean_passed}/${g.integrity.hacked_passed}/${g.integrity.unreviewed_passed}${g.integrity.hacked_excluded ? ` ✗${g.integrity.hacked_excluded} excluded` : ''}`)}</tr>`,
  );
  const t = (h: string[], rows: string[]) => `<table><thead><tr>${h.map((x) => `<th>${esc(x)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
  return [
    '<h2>Endurance</h2>',
    t(['model × harness', 'tool calls p50', 'tool calls p95', 'turns p50', 'wall time p50', 'working time p50', 'attempts'], end),
    '<p><small>Wall and working time are summed over each rollout\'s attempts (a resumed rollout counts all of its time, not the pause).</small></p>',
    '<h2>Tokens and cost <small>(per task = mean per scored rollout)</small></h2>',
    t(['model × harness', 'input', 'cached', 'cache write', 'output', 'reasoning', 'cost/task', 'cost/solved task', 'output tokens/score', 'cache hit'], cost),
    ...unmetered,
    '<h2>Latency and monitor flags</h2>',
    t(['model × harness', 'model calls', 'TTFT p50', 'TTFT p95', 'out tok/s p50', 'out tok/s p95', 'flags', 'unreviewed', 'confirmed', 'passed clean/hacked/unreviewed'], lat),
  ].join('\n');
}

function nice(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 0.01) return v.toExponential(1);
  if (a >= 1000) return String(Math.round(v));
  return Number(v.toPrecision(3)).toString();
}

/** One figure as inline SVG; withheld (with a note) when it carries no provenance. */
export function svgFigure(f: Figure): string {
  if (!f.provenance) return `<figure class="withheld" data-figure="${esc(f.id)}"><p>Figure “${esc(f.title)}” withheld: it has no provenance.</p></figure>`;
  const W = 640;
  const H = 300;
  const m = { l: 56, r: 12, t: 10, b: 40 };
  const pts = f.series.flatMap((s) => s.points);
  const caption = `<figcaption><b>${esc(f.title)}</b><br><span class="prov">experiment ${esc(f.provenance.experiments.join(', '))}; graded by ${esc(f.provenance.graders.join(', ') || '–')}; harness ${esc(f.provenance.harnesses.join(', ') || '–')}; model ${esc(f.provenance.models.join(', ') || '–')}; prices ${esc(f.provenance.price_tables.join(', ') || '–')}; outlast ${esc(f.provenance.outlast.join(', '))}; generated ${esc(f.provenance.generated_at)}</span></figcaption>`;
  if (pts.length === 0) {
    return `<figure data-figure="${esc(f.id)}" data-points="0">${caption}<p class="empty">no data yet</p></figure>`;
  }
  let [x0, x1] = extent(pts.map((p) => p[0]))!;
  const ys = extent(pts.map((p) => p[1]))!;
  const y0 = Math.min(0, ys[0]);
  let y1 = ys[1];
  if (x1 === x0) {
    x0 -= 1;
    x1 += 1;
  }
  if (y1 === y0) y1 = y0 + 1;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const r = (v: number) => v.toFixed(1);
  const paths = f.series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    if (s.points.length === 0) return '';
    let d = '';
    if (f.kind === 'scatter') d = s.points.map((p) => `M${r(sx(p[0]))} ${r(sy(p[1]))}h0`).join('');
    else if (f.kind === 'step' || f.kind === 'ecdf') {
      d = `M${r(sx(s.points[0]![0]))} ${r(sy(s.points[0]![1]))}`;
      for (let j = 1; j < s.points.length; j++) d += `H${r(sx(s.points[j]![0]))}V${r(sy(s.points[j]![1]))}`;
    } else d = s.points.map((p, j) => `${j ? 'L' : 'M'}${r(sx(p[0]))} ${r(sy(p[1]))}`).join('');
    const style = f.kind === 'scatter' ? `stroke="${color}" stroke-width="5" stroke-linecap="round"` : `stroke="${color}" stroke-width="1.8" fill="none"`;
    return `<path data-series="${esc(s.name)}" data-points="${s.points.length}" d="${d}" ${style} fill="none"/>`;
  });
  const ticks = (a: number, b: number) => [0, 0.25, 0.5, 0.75, 1].map((q) => a + (b - a) * q);
  const axes = [
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#999"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#999"/>`,
    ...ticks(x0, x1).map((x) => `<text x="${r(sx(x))}" y="${H - m.b + 14}" text-anchor="middle">${nice(x)}</text>`),
    ...ticks(y0, y1).map((y) => `<text x="${m.l - 4}" y="${r(sy(y) + 4)}" text-anchor="end">${nice(y)}</text>`),
    `<text x="${(W + m.l) / 2}" y="${H - 6}" text-anchor="middle">${esc(f.x.label)}</text>`,
    `<text transform="translate(12 ${(H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(f.y.label)}</text>`,
  ];
  const legend = f.series.map((s, i) => `<span><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(s.name)} (${s.points.length})</span>`).join(' ');
  return `<figure data-figure="${esc(f.id)}" data-points="${f.points}">${caption}<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(f.title)}">${axes.join('')}${paths.join('')}</svg><div class="legend">${legend}</div></figure>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1400px;padding:0 16px;color:#111}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px}h3{font-size:15px;margin:18px 0 6px}small{color:#666;font-weight:normal}
table{border-collapse:collapse;margin:6px 0 12px;font-variant-numeric:tabular-nums}th,td{border-bottom:1px solid #e5e7eb;padding:4px 10px;text-align:left;white-space:nowrap}
th{background:#f8fafc;font-weight:600}.warn{background:#fff7ed;border:1px solid #fdba74;padding:6px 10px;margin:6px 0}
figure{display:inline-block;margin:8px 14px 18px 0;vertical-align:top;max-width:660px}figcaption{font-size:13px;margin-bottom:4px}.prov{color:#666;font-size:11px}
svg text{font-size:10px;fill:#444}.legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
dl.prov-block{display:grid;grid-template-columns:160px 1fr;gap:2px 12px;font-size:13px}dl.prov-block dt{color:#555}dl.prov-block dd{margin:0;word-break:break-all}.empty{color:#888}
`;

export function renderProvenanceHtml(r: Report): string {
  const p = r.provenance;
  const row = (k: string, v: string) => `<dt>${esc(k)}</dt><dd data-prov="${esc(k)}">${esc(v || '–')}</dd>`;
  return `<dl class="prov-block">${[
    row('outlast', p.outlast.map((v) => `${v.version}${v.commit ? ` (${v.commit})` : ''}`).join(', ')),
    row('node', p.node.join(', ')),
    row('experiments', p.experiments.map((e) => `${e.id} (created ${e.created_at}; ${e.argv.join(' ')})`).join('; ')),
    row('graders', p.verifiers.map((v) => `${v.verifier}@${v.version} ${JSON.stringify(v.settings)}`).join('; ')),
    row('harnesses', p.harnesses.map((h) => `${h.name}@${h.version} ${JSON.stringify(h.settings)}`).join('; ')),
    row('models', p.models.map((m) => `${m.name}${m.upstream_model ? ` → ${m.upstream_model}` : ''}${m.protocol ? ` (${m.protocol})` : ''}${m.base_url ? ` @ ${m.base_url}` : ''}`).join('; ')),
    row('price tables', p.price_tables.join(', ')),
    row('limits', JSON.stringify(p.limits)),
    row('sandbox', p.sandbox.map((s) => `${s.mode}${s.unsandboxed ? ' (unsandboxed)' : ''}`).join(', ')),
    row('dates', `created ${p.dates.experiment_created}; ran ${p.dates.first_started ?? '–'} → ${p.dates.last_finished ?? '–'}; report generated ${p.dates.generated_at}`),
    row('statistics', `${Math.round(p.report.confidence * 100)}% percentile bootstrap over tasks, ${p.report.resamples} resamples, seed ${p.report.seed}; clustered by family when ≥ ${p.report.min_clusters} families, else stratified; infra errors ${p.report.include_infra ? 'included' : 'excluded'}`),
    row('tasks', p.tasks.map((t) => `${t.name} [${t.family}] ${t.hash}`).join('; ')),
  ].join('')}</dl>`;
}

/** Per-workload speedup and share of the machine's roofline, for rollouts a speedup verifier graded. */
function kernelTable(r: Report): string {
  if (!r.kernels.length) return '';
  const rows = r.kernels.map((k) => {
    const id = `${k.rollout_id}/${k.workload}`;
    const spread = k.p25 === null || k.p75 === null ? '–' : `${fmtFixed(k.p25)}–${fmtFixed(k.p75)}`;
    return `<tr>${td('task', id, k.task)}${td('key', id, k.key)}${td('repeat', id, String(k.repeat))}${td('workload', id, k.workload)}${td('speedup', id, `${fmtFixed(k.speedup)}x${k.withheld ? ' (withheld)' : ''}`)}${td('spread', id, spread)}${td('cand_ms', id, fmtNum(k.cand_ms, 3))}${td('bound_ms', id, fmtNum(k.bound_ms, 3))}${td('roofline_fraction', id, `${fmtPct(k.roofline_fraction)}${k.limit ? ` (${k.limit})` : ''}`)}</tr>`;
  });
  const head = ['task', 'model × harness', 'repeat', 'workload', 'speedup', 'p25–p75', 'kernel ms', 'bound ms', 'of roofline'];
  return `<h2>Kernels <small>(speedup over the reference, and the kernel's time against this machine's roofline bound)</small></h2><table class="kernels"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** One model's harnesses side by side: per-harness scores, spread, rank stability, agreement and the pairs. */
function crossHarnessBlock(b: CrossHarness, conf: number): string {
  const m = b.model ?? '-';
  const t = (h: string[], rows: string[], cls: string) => `<table class="${cls}"><thead><tr>${h.map((x) => `<th>${esc(x)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
  const rows = b.per_harness.map((h) => {
    const id = `${m} | ${h.harness}`;
    return `<tr>${td('harness', id, h.harness)}${td('score.n_tasks', id, String(h.score.n_tasks))}${td('scored', id, String(h.scored))}${td('infra_error', id, String(h.infra_error))}${td('score.mean', id, fmtScore(h.score.mean))}${td('score.ci', id, fmtCi(h.score.ci))}${td('matched.mean', id, fmtScore(h.matched.mean))}${td('matched.ci', id, fmtCi(h.matched.ci))}${td('matched_pass_rate', id, fmtPct(h.matched_pass_rate))}${td('means.cost_usd', id, fmtUsd(h.means.cost_usd))}${td('means.input_tokens', id, fmtTokens(h.means.input_tokens))}${td('means.output_tokens', id, fmtTokens(h.means.output_tokens))}${td('means.tool_calls', id, fmtNum(h.means.tool_calls, 2))}${td('missing_tasks', id, h.missing_tasks.join(', ') || '–')}</tr>`;
  });
  const pairs = b.pairs.map((p) => {
    const id = `${m} | ${p.a} | ${p.b}`;
    return `<tr>${td('a', id, p.a)}${td('b', id, p.b)}${td('tasks', id, String(p.tasks))}${td('score_diff.mean', id, fmtDelta(p.score_diff.mean))}${td('score_diff.ci', id, fmtCi(p.score_diff.ci))}${td('agreement', id, fmtPct(p.agreement))}${td('kappa', id, fmtNum(p.kappa, 3))}${td('verdicts', id, fmtVerdicts(p))}${td('diff.cost_usd', id, fmtNum(p.diff.cost_usd, 4))}${td('diff.tool_calls', id, fmtNum(p.diff.tool_calls, 2))}${td('diff.output_tokens', id, fmtNum(p.diff.output_tokens, 1))}${td('unmatched', id, fmtUnmatched(p))}</tr>`;
  });
  return [
    `<h3 data-model="${esc(m)}">${esc(crossHeadline(b))}</h3>`,
    b.note ? `<div class="warn">${esc(b.note)}</div>` : '',
    t(['harness', 'tasks', 'scored rollouts', 'infra errors', 'score', `${conf}% CI`, 'matched score', `${conf}% CI`, 'pass rate', 'cost', 'input tok', 'output tok', 'tool calls', 'missing tasks'], rows, 'by-harness'),
    b.harnesses.length > 1 ? `<p class="summary">${esc(crossSummaryLine(b))}</p>` : '',
    b.pairs.length ? t(['a', 'b', 'matched tasks', 'Δ score (b − a)', `${conf}% CI`, 'agreement', 'Cohen κ', 'pass both / a / b / neither', 'Δ cost (USD)', 'Δ tool calls', 'Δ output tok', 'unmatched'], pairs, 'harness-pairs') : '',
  ].join('\n');
}

function crossHarnessSection(r: Report, conf: number): string {
  if (!r.by_harness) return '';
  return `<section data-section="by-harness"><h2>Across harnesses <small>(the same model and tasks through each harness; matched = the tasks every harness has scores on; see docs/report-format.md)</small></h2>${r.by_harness.map((b) => crossHarnessBlock(b, conf)).join('\n')}</section>`;
}

export function renderReportHtml(r: Report): string {
  const conf = Math.round(r.provenance.report.confidence * 100);
  const paired = r.paired.length
    ? `<h2>Paired deltas <small>(b − a over shared tasks, ${conf}% CI)</small></h2><table><thead><tr><th>a</th><th>b</th><th>tasks</th><th>Δ score</th><th>${conf}% CI</th><th>b better/worse/tie</th></tr></thead><tbody>${r.paired
        .map((p, i) => {
          const id = `paired-${i}`;
          return `<tr>${td('a', id, `${p.a.key} [${p.a.experiment}]`)}${td('b', id, `${p.b.key} [${p.b.experiment}]`)}${td('tasks', id, String(p.tasks))}${td('mean_diff', id, fmtDelta(p.mean_diff))}${td('ci', id, fmtCi(p.ci))}${td('wlt', id, `${p.wins}/${p.losses}/${p.ties}`)}</tr>`;
        })
        .join('')}</tbody></table>`
    : '';
  // `<` is escaped so the JSON cannot close the script element.
  const json = JSON.stringify(r).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>outlast report — ${esc(r.experiment.id)}</title><style>${CSS}</style></head>
<body>
<h1>outlast report — ${esc(r.experiment.id)}</h1>
<p>created ${esc(r.experiment.created_at)} · ${r.experiment.finished}/${r.experiment.rollouts} rollouts finished${r.compare ? ` · compared with <b>${esc(r.compare.id)}</b>` : ''} · generated ${esc(r.generated_at)}</p>
${r.warnings.map((w) => `<div class="warn">${esc(w)}</div>`).join('\n')}
<h2>Leaderboard <small>(score = mean over tasks of each task's mean over repeats; ${conf}% bootstrap CI)</small></h2>
${r.groups.length ? groupTable(r.groups, conf, 'leaderboard') : '<p class="empty">no rollouts</p>'}
${crossHarnessSection(r, conf)}
${r.families.length ? `<h2>By task family</h2>${groupTable(r.families, conf, 'families')}` : ''}
${r.compare_groups.length ? `<h2>Compared experiment ${esc(r.compare?.id ?? '')}</h2>${groupTable(r.compare_groups, conf, 'compare')}` : ''}
${paired}
${kernelTable(r)}
${r.groups.length ? detailTables(r.groups) : ''}
<h2>Figures</h2>
${r.figures.map(svgFigure).join('\n')}
<h2>Provenance</h2>
${renderProvenanceHtml(r)}
<script type="application/json" id="report-data">${json}</script>
</body></html>
`;
}
