// The viewer's pages: experiment list, experiment (leaderboard + figures + rollouts), comparison
// of two experiments, and one rollout (summary, score-over-time, the virtualized trajectory).
import { useEffect, useState } from 'preact/hooks';
import { fmtMs, fmtNum, fmtScore, fmtTokens, fmtUsd } from '../../src/report/format.js';
import { api, type ExperimentListItem, type Report, type RolloutDetail } from './api.js';
import { Chart } from './chart.js';
import { EventList, TypedEvents } from './events.js';
import { Leaderboard, PairedTable, ProvenanceBlock, TokensTable } from './tables.js';

export const href = {
  home: () => '#/',
  experiment: (id: string) => `#/experiment/${encodeURIComponent(id)}`,
  harnesses: (id: string) => `#/harnesses/${encodeURIComponent(id)}`,
  compare: (a: string, b: string) => `#/compare/${encodeURIComponent(a)}/${encodeURIComponent(b)}`,
  rollout: (exp: string, rid: string) => `#/rollout/${encodeURIComponent(exp)}/${encodeURIComponent(rid)}`,
};

export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): { data: T | null; error: string | null } {
  const [state, setState] = useState<{ data: T | null; error: string | null }>({ data: null, error: null });
  useEffect(() => {
    let live = true;
    setState({ data: null, error: null });
    fn().then(
      (data) => live && setState({ data, error: null }),
      (e: Error) => live && setState({ data: null, error: e.message }),
    );
    return () => {
      live = false;
    };
  }, deps);
  return state;
}

export function Status({ error }: { error: string | null }) {
  return error ? <p class="error">error: {error}</p> : <p class="muted">loading…</p>;
}

export function ExperimentsPage() {
  const { data, error } = useLoad(() => api.experiments(), []);
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  if (!data) return <Status error={error} />;
  return (
    <section>
      <h1>Experiments</h1>
      {data.length === 0 ? (
        <p class="muted">No experiments yet: start one with <code>outlast run</code>.</p>
      ) : (
        <table data-table="experiments">
          <thead>
            <tr>
              <th>experiment</th>
              <th>created</th>
              <th>rollouts</th>
              <th>tasks</th>
              <th>harnesses</th>
              <th>models</th>
            </tr>
          </thead>
          <tbody>
            {data.map((e: ExperimentListItem) => (
              <tr key={e.id} data-experiment={e.id}>
                <td>
                  <a href={href.experiment(e.id)}>{e.id}</a>
                </td>
                <td>{e.created_at}</td>
                <td>
                  {e.finished}/{e.rollouts}
                </td>
                <td>{e.tasks}</td>
                <td>{e.harnesses.join(', ')}</td>
                <td>{e.models.join(', ') || '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data.length > 1 && (
        <div class="compare-form">
          <h2>Compare two experiments</h2>
          baseline{' '}
          <select value={a} onChange={(ev) => setA((ev.target as HTMLSelectElement).value)}>
            <option value="">choose…</option>
            {data.map((e) => (
              <option key={e.id}>{e.id}</option>
            ))}
          </select>{' '}
          vs{' '}
          <select value={b} onChange={(ev) => setB((ev.target as HTMLSelectElement).value)}>
            <option value="">choose…</option>
            {data.map((e) => (
              <option key={e.id}>{e.id}</option>
            ))}
          </select>{' '}
          <a class={`button${a && b && a !== b ? '' : ' disabled'}`} href={a && b && a !== b ? href.compare(a, b) : undefined}>
            compare
          </a>
        </div>
      )}
    </section>
  );
}

function Figures({ r }: { r: Report }) {
  return (
    <div class="figures">
      {r.figures.map((f) => (
        <Chart key={f.id} figure={f} />
      ))}
    </div>
  );
}

function RolloutsTable({ r }: { r: Report }) {
  const MAX = 500;
  const rows = r.rollouts.slice(0, MAX);
  return (
    <>
      <table data-table="rollouts">
        <thead>
          <tr>
            <th>rollout</th>
            <th>task</th>
            <th>model × harness</th>
            <th>rep</th>
            <th>outcome</th>
            <th>score</th>
            <th>tool calls</th>
            <th>wall</th>
            <th>cost</th>
            <th>events</th>
            <th>flags</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((x) => (
            <tr key={x.rollout_id} class={x.excluded ? 'excluded' : ''}>
              <td>
                <a href={href.rollout(x.experiment_id, x.rollout_id)}>{x.rollout_id}</a>
              </td>
              <td>{x.task}</td>
              <td>
                {x.model ?? '-'} × {x.harness}
              </td>
              <td>{x.repeat}</td>
              <td>{x.outcome ?? x.status}</td>
              <td>{fmtScore(x.score)}</td>
              <td>{x.tool_calls}</td>
              <td>{fmtMs(x.wall_ms)}</td>
              <td>{fmtUsd(x.cost_usd)}</td>
              <td>{x.events}</td>
              <td>{x.flags || ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {r.rollouts.length > MAX && <p class="muted">showing {MAX} of {r.rollouts.length} rollouts (the full list is in `outlast report --format json`)</p>}
    </>
  );
}

export function Warnings({ r }: { r: Report }) {
  return (
    <>
      {r.warnings.map((w) => (
        <div class="warn" key={w}>
          {w}
        </div>
      ))}
    </>
  );
}

export function ExperimentPage({ id }: { id: string }) {
  const [infra, setInfra] = useState(false);
  const { data: r, error } = useLoad(() => api.report(id, infra), [id, infra]);
  if (!r) return <Status error={error} />;
  const conf = Math.round(r.provenance.report.confidence * 100);
  return (
    <section data-page="experiment">
      <h1>{r.experiment.id}</h1>
      <p class="muted">
        created {r.experiment.created_at} · {r.experiment.finished}/{r.experiment.rollouts} rollouts finished ·{' '}
        <label>
          <input type="checkbox" checked={infra} onChange={(e) => setInfra((e.target as HTMLInputElement).checked)} /> include infra errors
        </label>
      </p>
      <Warnings r={r} />
      <h2>Leaderboard</h2>
      <Leaderboard groups={r.groups} conf={conf} name="groups" />
      {new Set(r.groups.map((g) => g.harness)).size > 1 && (
        <p>
          <a href={href.harnesses(id)} data-link="by-harness">
            compare harnesses: the same model and tasks through each harness →
          </a>
        </p>
      )}
      {r.families.length > 0 && (
        <>
          <h2>By task family</h2>
          <Leaderboard groups={r.families} conf={conf} name="families" />
        </>
      )}
      {r.paired.length > 0 && (
        <>
          <h2>Paired deltas between configurations</h2>
          <PairedTable r={r} conf={conf} />
        </>
      )}
      <h2>Tokens and cost</h2>
      <TokensTable groups={r.groups} />
      <h2>Figures</h2>
      <Figures r={r} />
      <h2>Rollouts</h2>
      <RolloutsTable r={r} />
      <h2>Provenance</h2>
      <ProvenanceBlock r={r} />
    </section>
  );
}

export function ComparePage({ a, b }: { a: string; b: string }) {
  const { data: r, error } = useLoad(() => api.compare(a, b, false), [a, b]);
  if (!r) return <Status error={error} />;
  const conf = Math.round(r.provenance.report.confidence * 100);
  return (
    <section data-page="compare">
      <h1>
        {b} <span class="muted">vs baseline</span> {a}
      </h1>
      <Warnings r={r} />
      <h2>Paired deltas (b − a on shared tasks)</h2>
      {r.paired.length ? <PairedTable r={r} conf={conf} /> : <p class="muted">no configuration appears in both experiments</p>}
      <div class="side-by-side">
        <div>
          <h2>
            a: <a href={href.experiment(a)}>{a}</a>
          </h2>
          <Leaderboard groups={r.compare_groups} conf={conf} name="compare-a" />
        </div>
        <div>
          <h2>
            b: <a href={href.experiment(b)}>{b}</a>
          </h2>
          <Leaderboard groups={r.groups} conf={conf} name="compare-b" />
        </div>
      </div>
      <h2>Provenance</h2>
      <ProvenanceBlock r={r} />
    </section>
  );
}

const TYPED = ['evaluation', 'monitor.flag', 'model.response', 'tool.result'] as const;

export function RolloutPage({ exp, rid }: { exp: string; rid: string }) {
  // Two requests: the store row (instant) lets the trajectory page in at once; the summary and
  // figures need the whole log parsed once, so they fill in when ready.
  const { data: base, error } = useLoad(() => api.rolloutRow(exp, rid), [exp, rid]);
  // Asked for once the row is here, i.e. after the event list has asked for its first page (child
  // effects run first), so the server answers that page before parsing the log for the summary.
  const hasBase = !!base;
  const { data: first } = useLoad<RolloutDetail | null>(() => (hasBase ? api.rollout(exp, rid) : Promise.resolve(null)), [exp, rid, hasBase]);
  const [live, setLive] = useState<RolloutDetail | null>(null);
  const [tab, setTab] = useState<string>('all');
  const detail = live && first && live.row.rollout_id === first.row.rollout_id ? live : first;
  const row = detail?.row ?? base?.row ?? null;
  // A rollout still running: poll it so new events and evaluations appear as they land.
  const running = !!row && row.status !== 'finished';
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      api.rollout(exp, rid).then(setLive, () => undefined);
    }, 5000);
    return () => clearInterval(timer);
  }, [exp, rid, running]);
  if (!row) return <Status error={error} />;
  const s = detail?.summary ?? null;
  const stat = (k: string, v: string) => (
    <div class="stat">
      <div class="k">{k}</div>
      <div class="v" data-stat={k}>
        {v}
      </div>
    </div>
  );
  return (
    <section data-page="rollout">
      <h1>{row.rollout_id}</h1>
      <p class="muted">
        <a href={href.experiment(exp)}>{exp}</a> {running && <b class="live">live</b>} · task {row.task} ({row.family}) · {row.model ?? '-'} × {row.harness} · repeat {row.repeat}
      </p>
      <div class="stats">
        {stat('outcome', row.outcome ?? row.status)}
        {stat('score', fmtScore(row.score))}
        {stat('events', String(row.events))}
        {stat('tool calls', String(s?.tool_calls ?? row.tool_calls ?? 0))}
        {stat('turns', s ? String(s.turns) : '…')}
        {stat('wall', fmtMs(row.wall_ms))}
        {stat('working', fmtMs(s?.working_ms))}
        {stat('model calls', s ? `${s.model_calls}${s.failed_model_calls ? ` (${s.failed_model_calls} failed)` : ''}` : '…')}
        {stat('tokens in / cached / out', s ? `${fmtTokens(s.usage.input)} / ${fmtTokens(s.usage.cached)} / ${fmtTokens(s.usage.output)}` : '…')}
        {stat('cost', fmtUsd(s?.cost_usd ?? row.cost_usd))}
        {stat('evaluations', s ? String(s.evaluations.length) : '…')}
        {stat('flags', s ? `${s.flags.total} (${s.flags.confirmed} confirmed)` : '…')}
      </div>
      {s?.reason && <p class="muted">reason: {s.reason}</p>}
      <div class="figures">
        {detail ? detail.figures.map((f) => <Chart key={f.id} figure={f} />) : <p class="muted">loading figures…</p>}
      </div>
      <h2>Trajectory</h2>
      <div class="tabs">
        {['all', ...TYPED].map((t) => (
          <button key={t} class={tab === t ? 'on' : ''} onClick={() => setTab(t)} data-tab={t}>
            {t === 'all' ? `all events (${fmtNum(row.events)})` : t}
          </button>
        ))}
      </div>
      {tab === 'all' ? <EventList exp={exp} rid={rid} total={row.events} /> : <TypedEvents exp={exp} rid={rid} type={tab} />}
    </section>
  );
}
