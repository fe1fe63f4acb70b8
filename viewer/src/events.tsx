// The trajectory, virtualized: fixed-height rows, only the visible ones (plus a margin) in the DOM,
// events fetched from the store's index a page at a time as they scroll into view.
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtMs, fmtUsd } from '../../src/report/format.js';
import { api, type StoredEvent } from './api.js';

export const ROW_H = 26;
const PAGE = 250;
const OVERSCAN = 20;

function short(s: unknown, n = 140): string {
  const t = typeof s === 'string' ? s : JSON.stringify(s);
  const one = (t ?? '').replace(/\s+/g, ' ');
  return one.length > n ? one.slice(0, n) + '…' : one;
}

/** One line describing an event. */
export function describe(e: StoredEvent): string {
  const x = e as Record<string, any>;
  switch (e.type) {
    case 'rollout.started':
      return `${x.spec?.task?.name} · ${x.spec?.harness?.name}@${x.spec?.harness?.version} · ${x.spec?.model?.name ?? 'no model'}${x.resumed ? ' (resumed)' : ''}`;
    case 'phase':
      return `${x.phase} ${x.status}`;
    case 'model.request':
      return `${x.model} → ${x.upstream_model} · ${x.messages} messages, ${x.tools} tools`;
    case 'model.response':
      return `${x.status} · in ${x.usage?.input} (cached ${x.usage?.cached}) · out ${x.usage?.output} · TTFT ${fmtMs(x.ttft_ms)} · ${x.output_tps == null ? '–' : x.output_tps.toFixed(1)} tok/s · ${fmtUsd(x.cost_usd)}${x.error ? ` · ${x.error.message}` : ''}`;
    case 'model.unmetered':
      return `${x.model} · unmetered (in flight at a crash) · ~in ${x.usage?.input} · ~out ${x.usage?.output} · ~${fmtUsd(x.cost_usd)} (${x.basis})`;
    case 'assistant':
      return `${short(x.text, 100)}${x.tool_calls?.length ? ` → ${x.tool_calls.map((c: any) => c.name).join(', ')}` : ''}`;
    case 'tool.call':
      return `${x.name} ${short(x.arguments, 120)}`;
    case 'tool.result':
      return `${x.name} exit ${x.exit_code ?? '–'} · ${fmtMs(x.duration_ms)}${x.timed_out ? ' · timed out' : ''} · ${short(x.output, 100)}`;
    case 'evaluation':
      return `score ${x.score}${x.passed === undefined ? '' : x.passed ? ' (passed)' : ''} after ${x.tool_calls} tool calls`;
    case 'monitor.flag':
      return `[${x.severity}] ${x.monitor} (${x.rule_id}): ${x.summary}`;
    case 'review.decision':
      return `${x.decision} by ${x.reviewer}`;
    case 'verifier.result':
      return `score ${x.score?.value} ${x.score?.passed ? 'passed' : 'failed'} · ${x.score?.grader?.verifier}@${x.score?.grader?.version}`;
    case 'rollout.finished':
      return `${x.outcome} · score ${x.score?.value ?? '–'} · ${x.reason}`;
    case 'outage.wait':
      return `waiting for the provider since ${x.since} · try ${x.attempt + 1} in ${fmtMs(x.next_in_ms)} · ${short(x.reason, 100)}`;
    case 'outage.end':
      return `${x.recovered ? 'the provider is back' : 'gave up on the provider'} after ${fmtMs(x.waited_ms)} (${x.attempts} tries)`;
    case 'note':
      return `${x.level}: ${x.message}`;
    case 'context.compacted':
      return `${x.tokens_before} → ${x.tokens_after} tokens`;
    default:
      return short(e);
  }
}

export function EventList({ exp, rid, total, height = 560 }: { exp: string; rid: string; total: number; height?: number }) {
  const scroller = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [, bump] = useState(0);
  const pages = useRef(new Map<number, StoredEvent[] | 'loading'>());
  const [selected, setSelected] = useState<StoredEvent | null>(null);
  const t0 = useRef<number | null>(null);

  // The log grew (a live rollout): refetch the page that held the old end, it was incomplete.
  const prevTotal = useRef(total);
  if (prevTotal.current !== total) {
    pages.current.delete(Math.floor(Math.max(0, prevTotal.current - 1) / PAGE));
    prevTotal.current = total;
  }

  const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
  const last = Math.min(total - 1, Math.ceil((top + height) / ROW_H) + OVERSCAN);

  useEffect(() => {
    for (let p = Math.floor(first / PAGE); p <= Math.floor(last / PAGE); p++) {
      if (pages.current.has(p)) continue;
      pages.current.set(p, 'loading');
      api.events(exp, rid, p * PAGE, PAGE).then(
        (page) => {
          pages.current.set(p, page.events);
          if (t0.current === null && page.events[0]) t0.current = Date.parse(page.events[0].t);
          bump((n) => n + 1);
        },
        () => pages.current.delete(p),
      );
    }
  }, [first, last, exp, rid, total]);

  const rows: { i: number; e: StoredEvent | null }[] = [];
  for (let i = first; i <= last; i++) {
    const pg = pages.current.get(Math.floor(i / PAGE));
    rows.push({ i, e: Array.isArray(pg) ? (pg[i % PAGE] ?? null) : null });
  }

  const rel = (t: string) => (t0.current === null ? '' : fmtMs(Date.parse(t) - t0.current));

  return (
    <div class="events-wrap">
      <div
        class="events"
        ref={scroller}
        style={{ height: `${height}px` }}
        data-total={String(total)}
        onScroll={(ev) => setTop((ev.currentTarget as HTMLDivElement).scrollTop)}
      >
        <div style={{ height: `${total * ROW_H}px`, position: 'relative' }}>
          {rows.map(({ i, e }) => (
            <div
              key={i}
              class={`ev ev-${e ? e.type.replace('.', '-') : 'loading'}${selected && e && selected.seq === e.seq ? ' sel' : ''}`}
              style={{ top: `${i * ROW_H}px`, height: `${ROW_H}px` }}
              data-seq={e ? String(e.seq) : undefined}
              onClick={() => e && setSelected(e)}
            >
              <span class="seq">{i}</span>
              <span class="rel">{e ? rel(e.t) : ''}</span>
              <span class="type">{e ? e.type : '…'}</span>
              <span class="desc">{e ? describe(e) : ''}</span>
            </div>
          ))}
        </div>
      </div>
      <div class="detail" data-detail="">
        {selected ? (
          <>
            <div class="muted">
              seq {selected.seq} · {selected.t}
            </div>
            {selected.type === 'tool.result' && <pre class="output">{String((selected as any).output ?? '')}</pre>}
            {typeof (selected as any).body === 'string' && <RecordedBody exp={exp} rid={rid} ref_={(selected as any).body} key={(selected as any).body} />}
            <pre>{JSON.stringify(selected, null, 2)}</pre>
          </>
        ) : (
          <p class="muted">Select an event to see it in full (tool output, metering, arguments).</p>
        )}
      </div>
    </div>
  );
}

/** A model call's recorded request or response body (`[gateway] record_bodies`), fetched when asked for. */
function RecordedBody({ exp, rid, ref_ }: { exp: string; rid: string; ref_: string }) {
  const [shown, setShown] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const load = () =>
    api.body(exp, rid, ref_).then(
      (b) => setShown(b.kind === 'response' ? b.text : JSON.stringify(b.body, null, 2)),
      (e: Error) => setErr(e.message),
    );
  if (err) return <p class="muted" data-body-error="">{err}</p>;
  if (shown === null) return <button data-action="show-body" onClick={load}>show the recorded body</button>;
  return <pre class="output" data-body="">{shown}</pre>;
}

/** Events of one type (evaluations, flags, model calls...), loaded page by page with a cursor. */
export function TypedEvents({ exp, rid, type, limit = 200 }: { exp: string; rid: string; type: string; limit?: number }) {
  const [events, setEvents] = useState<StoredEvent[]>([]);
  const [next, setNext] = useState<number | null>(0);
  const load = () => {
    if (next === null) return;
    api.events(exp, rid, next, limit, type).then((p) => {
      setEvents((old) => [...old, ...p.events]);
      setNext(p.next);
    });
  };
  useEffect(() => {
    setEvents([]);
    setNext(0);
    api.events(exp, rid, 0, limit, type).then((p) => {
      setEvents(p.events);
      setNext(p.next);
    });
  }, [exp, rid, type]);
  return (
    <div class="typed" data-type={type} data-count={String(events.length)}>
      {events.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <table>
          <tbody>
            {events.map((e) => (
              <tr key={e.seq}>
                <td class="seq">{e.seq}</td>
                <td>{e.t}</td>
                <td>{describe(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next !== null && events.length > 0 && <button onClick={load}>load more</button>}
    </div>
  );
}
