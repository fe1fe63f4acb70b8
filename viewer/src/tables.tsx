// Tables shared by the experiment and comparison pages. Cells carry data-group/data-field so tests
// (and users' scripts) can read the numbers; values are formatted by src/report/format.ts, the same
// code the terminal table and the HTML report use.
import { fmtCi, fmtDelta, fmtMs, fmtNum, fmtOutcomes, fmtPassK, fmtPct, fmtScore, fmtTokens, fmtUsd } from '../../src/report/format.js';
import type { Report } from './api.js';

type Group = Report['groups'][number];

export function Td({ g, field, children }: { g: string; field: string; children: string }) {
  return (
    <td data-group={g} data-field={field}>
      {children}
    </td>
  );
}

export function Leaderboard({ groups, conf, name }: { groups: Group[]; conf: number; name: string }) {
  const fam = groups.some((g) => g.family);
  if (groups.length === 0) return <p class="muted">no rollouts</p>;
  return (
    <table class={`leaderboard ${name}`} data-table={name}>
      <thead>
        <tr>
          <th>model × harness</th>
          {fam && <th>family</th>}
          <th>tasks</th>
          <th>rollouts</th>
          <th>score</th>
          <th>{conf}% CI</th>
          <th>pass@1</th>
          <th>pass@k</th>
          <th>outcomes</th>
          <th>tool calls p50</th>
          <th>wall p50</th>
          <th>cost/task</th>
          <th>cost/solved</th>
          <th>out tok/score</th>
          <th>TTFT p50/p95</th>
          <th>tok/s p50</th>
          <th>cache hit</th>
          <th>flags</th>
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => {
          const id = g.family ? `${g.key} | ${g.family}` : g.key;
          return (
            <tr key={id}>
              <Td g={id} field="key">{g.key}</Td>
              {fam && <Td g={id} field="family">{g.family ?? ''}</Td>}
              <Td g={id} field="score.n_tasks">{String(g.score.n_tasks)}</Td>
              <Td g={id} field="score.n_rollouts">{String(g.score.n_rollouts)}</Td>
              <Td g={id} field="score.mean">{fmtScore(g.score.mean)}</Td>
              <Td g={id} field="score.ci">{fmtCi(g.score.ci)}</Td>
              <Td g={id} field="pass_at_1">{fmtPct(g.pass_at_1)}</Td>
              <Td g={id} field="pass_at_k">{fmtPassK(g.pass_at_k)}</Td>
              <Td g={id} field="outcomes">{fmtOutcomes(g.outcomes)}</Td>
              <Td g={id} field="endurance.tool_calls.p50">{fmtNum(g.endurance.tool_calls.p50, 1)}</Td>
              <Td g={id} field="endurance.wall_ms.p50">{fmtMs(g.endurance.wall_ms.p50)}</Td>
              <Td g={id} field="cost.per_task_usd">{fmtUsd(g.cost.per_task_usd)}</Td>
              <Td g={id} field="cost.per_solved_task_usd">{fmtUsd(g.cost.per_solved_task_usd)}</Td>
              <Td g={id} field="cost.output_tokens_per_score">{fmtTokens(g.cost.output_tokens_per_score)}</Td>
              <Td g={id} field="latency.ttft_ms">{`${fmtMs(g.latency.ttft_ms.p50)} / ${fmtMs(g.latency.ttft_ms.p95)}`}</Td>
              <Td g={id} field="latency.output_tps.p50">{fmtNum(g.latency.output_tps.p50, 1)}</Td>
              <Td g={id} field="cache_hit_ratio">{fmtPct(g.cache_hit_ratio)}</Td>
              <Td g={id} field="flags.total">{`${g.flags.total} (${g.flags.confirmed} confirmed)`}</Td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function PairedTable({ r, conf }: { r: Report; conf: number }) {
  if (r.paired.length === 0) return null;
  return (
    <table class="paired" data-table="paired">
      <thead>
        <tr>
          <th>a (baseline)</th>
          <th>b</th>
          <th>shared tasks</th>
          <th>Δ score (b − a)</th>
          <th>{conf}% CI</th>
          <th>b better / worse / tie</th>
        </tr>
      </thead>
      <tbody>
        {r.paired.map((p, i) => {
          const id = `paired-${i}`;
          return (
            <tr key={id}>
              <Td g={id} field="a">{`${p.a.key} [${p.a.experiment}]`}</Td>
              <Td g={id} field="b">{`${p.b.key} [${p.b.experiment}]`}</Td>
              <Td g={id} field="tasks">{String(p.tasks)}</Td>
              <Td g={id} field="mean_diff">{fmtDelta(p.mean_diff)}</Td>
              <Td g={id} field="ci">{fmtCi(p.ci)}</Td>
              <Td g={id} field="wlt">{`${p.wins} / ${p.losses} / ${p.ties}`}</Td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function TokensTable({ groups }: { groups: Group[] }) {
  if (groups.length === 0) return null;
  return (
    <table data-table="tokens">
      <thead>
        <tr>
          <th>model × harness</th>
          <th>input/task</th>
          <th>cached</th>
          <th>cache write</th>
          <th>output</th>
          <th>reasoning</th>
          <th>total cost</th>
          <th>model calls</th>
          <th>turns p50</th>
          <th>working p50</th>
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => (
          <tr key={g.key}>
            <td>{g.key}</td>
            <td>{fmtTokens(g.tokens.per_task?.input)}</td>
            <td>{fmtTokens(g.tokens.per_task?.cached)}</td>
            <td>{fmtTokens(g.tokens.per_task?.cache_write)}</td>
            <td>{fmtTokens(g.tokens.per_task?.output)}</td>
            <td>{fmtTokens(g.tokens.per_task?.reasoning)}</td>
            <td>{fmtUsd(g.cost.total_usd)}</td>
            <td>{g.model_calls}</td>
            <td>{fmtNum(g.endurance.turns.p50, 1)}</td>
            <td>{fmtMs(g.endurance.working_ms.p50)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ProvenanceBlock({ r }: { r: Report }) {
  const p = r.provenance;
  const rows: [string, string][] = [
    ['outlast', p.outlast.map((v) => `${v.version}${v.commit ? ` (${v.commit})` : ''}`).join(', ')],
    ['node', p.node.join(', ')],
    ['experiments', p.experiments.map((e) => `${e.id} (created ${e.created_at})`).join('; ')],
    ['graders', p.verifiers.map((v) => `${v.verifier}@${v.version} ${JSON.stringify(v.settings)}`).join('; ')],
    ['harnesses', p.harnesses.map((h) => `${h.name}@${h.version} ${JSON.stringify(h.settings)}`).join('; ')],
    ['models', p.models.map((m) => `${m.name}${m.upstream_model ? ` → ${m.upstream_model}` : ''}${m.base_url ? ` @ ${m.base_url}` : ''}`).join('; ')],
    ['price tables', p.price_tables.join(', ')],
    ['limits', JSON.stringify(p.limits)],
    ['sandbox', p.sandbox.map((s) => `${s.mode}${s.unsandboxed ? ' (unsandboxed)' : ''}`).join(', ')],
    ['dates', `created ${p.dates.experiment_created}; ran ${p.dates.first_started ?? '–'} → ${p.dates.last_finished ?? '–'}; generated ${p.dates.generated_at}`],
    ['statistics', `${Math.round(p.report.confidence * 100)}% percentile bootstrap, ${p.report.resamples} resamples, seed ${p.report.seed}; infra errors ${p.report.include_infra ? 'included' : 'excluded'}`],
    ['tasks', `${p.tasks.length}: ${p.tasks.map((t) => `${t.name}:${t.hash.replace(/^sha256:/, '').slice(0, 12)}`).join(', ')}`],
  ];
  return (
    <dl class="prov-block" data-provenance="">
      {rows.map(([k, v]) => [<dt key={`${k}-t`}>{k}</dt>, <dd key={`${k}-d`}>{v || '–'}</dd>])}
    </dl>
  );
}
