// The cross-harness page (`#/harnesses/<experiment>`): the same model and tasks through each harness,
// one block per model: per-harness scores with CIs, spread, rank stability, pass/fail agreement and
// the harness pairs (score differences, Cohen's kappa, cost/token/tool-call differences).
import { useState } from 'preact/hooks';
import { crossHeadline, crossSummaryLine, fmtCi, fmtDelta, fmtNum, fmtPct, fmtScore, fmtTokens, fmtUnmatched, fmtUsd, fmtVerdicts } from '../../src/report/format.js';
import { api, type CrossHarness } from './api.js';
import { Status, Warnings, href, useLoad } from './pages.js';
import { Td } from './tables.js';

function Block({ b, conf }: { b: CrossHarness; conf: number }) {
  const m = b.model ?? '-';
  return (
    <div class="by-harness" data-model={m}>
      <h2>{crossHeadline(b)}</h2>
      {b.note && <div class="warn">{b.note}</div>}
      <table data-table="by-harness">
        <thead>
          <tr>
            <th>harness</th>
            <th>tasks</th>
            <th>scored rollouts</th>
            <th>infra errors</th>
            <th>score</th>
            <th>{conf}% CI</th>
            <th>matched score</th>
            <th>{conf}% CI</th>
            <th>pass rate</th>
            <th>cost</th>
            <th>input tok</th>
            <th>output tok</th>
            <th>tool calls</th>
            <th>turns</th>
            <th>missing tasks</th>
          </tr>
        </thead>
        <tbody>
          {b.per_harness.map((h) => {
            const id = `${m} | ${h.harness}`;
            return (
              <tr key={id}>
                <Td g={id} field="harness">{h.harness}</Td>
                <Td g={id} field="score.n_tasks">{String(h.score.n_tasks)}</Td>
                <Td g={id} field="scored">{String(h.scored)}</Td>
                <Td g={id} field="infra_error">{String(h.infra_error)}</Td>
                <Td g={id} field="score.mean">{fmtScore(h.score.mean)}</Td>
                <Td g={id} field="score.ci">{fmtCi(h.score.ci)}</Td>
                <Td g={id} field="matched.mean">{fmtScore(h.matched.mean)}</Td>
                <Td g={id} field="matched.ci">{fmtCi(h.matched.ci)}</Td>
                <Td g={id} field="matched_pass_rate">{fmtPct(h.matched_pass_rate)}</Td>
                <Td g={id} field="means.cost_usd">{fmtUsd(h.means.cost_usd)}</Td>
                <Td g={id} field="means.input_tokens">{fmtTokens(h.means.input_tokens)}</Td>
                <Td g={id} field="means.output_tokens">{fmtTokens(h.means.output_tokens)}</Td>
                <Td g={id} field="means.tool_calls">{fmtNum(h.means.tool_calls, 2)}</Td>
                <Td g={id} field="means.turns">{fmtNum(h.means.turns, 2)}</Td>
                <Td g={id} field="missing_tasks">{h.missing_tasks.join(', ') || '–'}</Td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {b.harnesses.length > 1 && (
        <p class="summary" data-summary={m}>
          {crossSummaryLine(b)}
        </p>
      )}
      {b.pairs.length > 0 && (
        <table data-table="harness-pairs">
          <thead>
            <tr>
              <th>a</th>
              <th>b</th>
              <th>matched tasks</th>
              <th>Δ score (b − a)</th>
              <th>{conf}% CI</th>
              <th>agreement</th>
              <th>Cohen κ</th>
              <th>pass both / a / b / neither</th>
              <th>Δ cost (USD)</th>
              <th>Δ input tok</th>
              <th>Δ output tok</th>
              <th>Δ tool calls</th>
              <th>unmatched</th>
            </tr>
          </thead>
          <tbody>
            {b.pairs.map((p) => {
              const id = `${m} | ${p.a} | ${p.b}`;
              return (
                <tr key={id}>
                  <Td g={id} field="a">{p.a}</Td>
                  <Td g={id} field="b">{p.b}</Td>
                  <Td g={id} field="tasks">{String(p.tasks)}</Td>
                  <Td g={id} field="score_diff.mean">{fmtDelta(p.score_diff.mean)}</Td>
                  <Td g={id} field="score_diff.ci">{fmtCi(p.score_diff.ci)}</Td>
                  <Td g={id} field="agreement">{fmtPct(p.agreement)}</Td>
                  <Td g={id} field="kappa">{fmtNum(p.kappa, 3)}</Td>
                  <Td g={id} field="verdicts">{fmtVerdicts(p)}</Td>
                  <Td g={id} field="diff.cost_usd">{fmtNum(p.diff.cost_usd, 4)}</Td>
                  <Td g={id} field="diff.input_tokens">{fmtNum(p.diff.input_tokens, 1)}</Td>
                  <Td g={id} field="diff.output_tokens">{fmtNum(p.diff.output_tokens, 1)}</Td>
                  <Td g={id} field="diff.tool_calls">{fmtNum(p.diff.tool_calls, 2)}</Td>
                  <Td g={id} field="unmatched">{fmtUnmatched(p)}</Td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function HarnessesPage({ id }: { id: string }) {
  const [infra, setInfra] = useState(false);
  const { data: r, error } = useLoad(() => api.byHarness(id, infra), [id, infra]);
  if (!r) return <Status error={error} />;
  const conf = Math.round(r.provenance.report.confidence * 100);
  const blocks = r.by_harness ?? [];
  return (
    <section data-page="harnesses">
      <h1>
        <a href={href.experiment(id)}>{id}</a> <span class="muted">across harnesses</span>
      </h1>
      <p class="muted">
        The same model and tasks through each harness. Score: over the harness's own tasks; matched: over the tasks every harness of the model has scores on;
        pairs: over the tasks both have. Pass = more than half of a task's scored repeats passed. ·{' '}
        <label>
          <input type="checkbox" checked={infra} onChange={(e) => setInfra((e.target as HTMLInputElement).checked)} /> include infra errors
        </label>
      </p>
      <Warnings r={r} />
      {blocks.length === 0 && <p class="muted">no rollouts</p>}
      {blocks.map((b) => (
        <Block key={b.model ?? '-'} b={b} conf={conf} />
      ))}
    </section>
  );
}
