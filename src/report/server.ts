// `outlast view`: a loopback HTTP server (node:http) with a JSON API over the store and the built
// web UI (static files from dist/viewer). The trajectory is served page by page from the store's
// event index (byte offsets into the JSONL file), so a 10,000-event rollout never loads whole.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { readRecordedBody } from '../gateway/bodies.js';
import type { AddressInfo } from 'node:net';
import type { Store } from '../store/store.js';
import { readTrajectory } from '../store/trajectory.js';
import { buildReport, figureProvenance, type ReportOptions } from './aggregate.js';
import { toAtif } from './export/atif.js';
import { toOtel } from './export/otel.js';
import { findRollout, loadExperiment, readEventLines, summarizeFile } from './loader.js';
import type { Figure } from './schema.js';

export interface ViewServerOptions {
  store: Store;
  /** Directory of the built viewer (index.html + assets). */
  staticDir: string;
  port?: number;
  host?: string;
  /** Report options (resamples, seed) for the API's reports. */
  report?: Omit<ReportOptions, 'compare' | 'includeInfra'>;
}

export interface ViewServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function intParam(u: URL, name: string, def: number, max: number): number {
  const v = u.searchParams.get(name);
  if (v === null || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, `${name} must be a whole number ≥ 0`);
  return Math.min(n, max);
}

export async function startViewServer(opts: ViewServerOptions): Promise<ViewServer> {
  const { store } = opts;
  const staticDir = path.resolve(opts.staticDir);
  const reportOpts = opts.report ?? {};

  async function experiment(id: string) {
    const e = await store.getExperiment(id);
    if (!e) throw new HttpError(404, `no experiment "${id}"`);
    return e;
  }

  async function rollout(expId: string, rid: string) {
    const row = await findRollout(store, expId, rid);
    if (!row) throw new HttpError(404, `no rollout "${rid}" in experiment "${expId}"`);
    return row;
  }

  async function api(u: URL): Promise<unknown> {
    const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    // parts[0] === 'api'
    const includeInfra = u.searchParams.get('include_infra') === '1';
    if (parts.length === 2 && parts[1] === 'experiments') {
      const list = await store.listExperiments();
      return list.map((e) => ({
        id: e.id,
        created_at: e.created_at,
        rollouts: e.rollouts,
        finished: e.finished,
        tasks: e.record.tasks.length,
        harnesses: e.record.harnesses,
        models: e.record.models,
      }));
    }
    if (parts.length === 4 && parts[1] === 'experiments' && parts[3] === 'report') {
      const e = await experiment(parts[2]!);
      const by = u.searchParams.get('by');
      if (by !== null && by !== 'harness') throw new HttpError(400, 'by must be harness');
      return buildReport(await loadExperiment(store, e), { ...reportOpts, includeInfra, byHarness: by === 'harness' });
    }
    if (parts.length === 2 && parts[1] === 'compare') {
      const a = u.searchParams.get('a');
      const b = u.searchParams.get('b');
      if (!a || !b) throw new HttpError(400, 'compare needs ?a=<baseline experiment>&b=<other experiment>');
      const [ea, eb] = [await experiment(a), await experiment(b)];
      // Deltas are b − a: the report is b's, compared against baseline a.
      return buildReport(await loadExperiment(store, eb), { ...reportOpts, includeInfra, compare: await loadExperiment(store, ea) });
    }
    if (parts.length === 6 && parts[1] === 'experiments' && parts[3] === 'rollouts' && parts[5] === 'row') {
      // The store row alone (no log parsing): enough to start paging the trajectory at once.
      return { row: await rollout(parts[2]!, parts[4]!) };
    }
    if (parts.length === 5 && parts[1] === 'experiments' && parts[3] === 'rollouts') {
      const e = await experiment(parts[2]!);
      const row = await rollout(e.id, parts[4]!);
      const summary = row.trajectory ? summarizeFile(row.rollout_id, row.trajectory) : null;
      // The rollout's own figures carry the experiment report's provenance, narrowed to this rollout.
      const rep = buildReport({ experiment: e, rollouts: [row], summaries: new Map(summary ? [[row.rollout_id, summary]] : []) }, { ...reportOpts, resamples: 0, includeInfra: true });
      const prov = figureProvenance(rep.provenance);
      const evals = summary?.evaluations ?? [];
      const figures: Figure[] = [
        { id: 'rollout_score_vs_tool_calls', title: 'Intermediate score vs tool calls', kind: 'line', x: { label: 'tool calls' }, y: { label: 'score' }, series: [{ name: row.rollout_id, points: evals.map((p) => [p.tool_calls, p.score]) }], points: evals.length, provenance: prov },
        { id: 'rollout_score_vs_hours', title: 'Intermediate score vs wall-clock hours', kind: 'line', x: { label: 'hours' }, y: { label: 'score' }, series: [{ name: row.rollout_id, points: evals.map((p) => [p.hours, p.score]) }], points: evals.length, provenance: prov },
      ];
      return { row, summary, provenance: rep.provenance, figures };
    }
    if (parts.length === 6 && parts[1] === 'experiments' && parts[3] === 'rollouts' && parts[5] === 'events') {
      const row = await rollout(parts[2]!, parts[4]!);
      const from = intParam(u, 'from', 0, Number.MAX_SAFE_INTEGER);
      const limit = Math.max(1, intParam(u, 'limit', 200, 1000));
      const type = u.searchParams.get('type') || undefined;
      const idx = await store.listEvents(row.experiment_id, row.rollout_id, { fromSeq: from, limit, ...(type ? { type } : {}) });
      const events = idx.length && row.trajectory ? readEventLines(row.trajectory, idx) : [];
      return { total: row.events, from, events, next: idx.length === limit ? idx[idx.length - 1]!.seq + 1 : null };
    }
    if (parts.length === 7 && parts[1] === 'experiments' && parts[3] === 'rollouts' && parts[5] === 'body') {
      // A recorded request or response body (`[gateway] record_bodies`), by the reference its event holds.
      const row = await rollout(parts[2]!, parts[4]!);
      if (!row.trajectory || !/^sha256:[0-9a-f]{64}$/.test(parts[6]!)) throw new HttpError(400, 'a body reference is sha256:<64 hex digits>');
      try {
        return readRecordedBody(path.join(path.dirname(row.trajectory), 'bodies'), parts[6]!);
      } catch {
        throw new HttpError(404, `no recorded body ${parts[6]} for this rollout (were bodies recorded? [gateway] record_bodies = true)`);
      }
    }
    if (parts.length === 6 && parts[1] === 'experiments' && parts[3] === 'rollouts' && parts[5] === 'export') {
      const row = await rollout(parts[2]!, parts[4]!);
      const fmt = u.searchParams.get('format') ?? 'atif';
      const events = row.trajectory && fs.existsSync(row.trajectory) ? readTrajectory(row.trajectory).events : [];
      if (fmt === 'atif') return toAtif(events);
      if (fmt === 'otel') return toOtel(events);
      throw new HttpError(400, 'format must be atif or otel');
    }
    throw new HttpError(404, `no such API endpoint: ${u.pathname}`);
  }

  function serveStatic(u: URL, res: http.ServerResponse): void {
    let rel = decodeURIComponent(u.pathname);
    if (rel === '/' || !path.extname(rel)) rel = '/index.html';
    const file = path.resolve(staticDir, '.' + rel);
    if (file !== staticDir && !file.startsWith(staticDir + path.sep)) {
      send(res, 403, { error: 'forbidden' });
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) {
        send(res, 404, { error: `not found: ${u.pathname}` });
        return;
      }
      const immutable = rel.startsWith('/assets/');
      res.writeHead(200, {
        'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        'content-length': data.length,
      });
      res.end(data);
    });
  }

  const server = http.createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    // Loopback only, and no DNS-rebinding: the Host header must name this machine.
    if (host && !['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
      send(res, 403, { error: 'forbidden host' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: 'method not allowed' });
      return;
    }
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (u.pathname.startsWith('/api/')) {
      api(u).then(
        (body) => send(res, 200, body),
        (err: unknown) => {
          if (err instanceof HttpError) send(res, err.status, { error: err.message });
          else send(res, 500, { error: (err as Error)?.message ?? String(err) });
        },
      );
      return;
    }
    serveStatic(u, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
