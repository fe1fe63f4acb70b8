// A model provider that has outages: a node:http proxy on loopback in front of a real upstream (the
// scripted model), which can be taken down for a while, either refusing connections (its listening
// socket closed, every open connection cut) or answering 503 to every request, and brought back on
// the same port. For outage tests of the harness, the runner and the CLI.
import http from 'node:http';
import type net from 'node:net';

export type OutageKind = 'refuse' | '503';

export interface FlakyUpstream {
  /** Base URL (no `/v1`), stable across outages. */
  url: string;
  /** Requests that reached the proxy while it was down and were answered 503. */
  refused503: number;
  /** Take the provider down now, until up() (or for `ms`, then up again). */
  down(kind: OutageKind, ms?: number): void;
  up(): Promise<void>;
  /** Resolves when the provider is next up (at once when it is). */
  whenUp(): Promise<void>;
  readonly isDown: boolean;
  close(): Promise<void>;
}

/** Start a proxy to `target` (e.g. the scripted model's url). */
export async function startFlakyUpstream(target: string): Promise<FlakyUpstream> {
  const to = new URL(target);
  const sockets = new Set<net.Socket>();
  let mode: OutageKind | null = null;
  let timer: NodeJS.Timeout | null = null;
  let waiters: Array<() => void> = [];
  const state = { refused503: 0 };

  const server = http.createServer((req, res) => {
    if (mode === '503') {
      state.refused503++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ error: { message: 'the provider is down', type: 'server_error' } }));
      return;
    }
    const out = http.request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);

  const up = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (mode === 'refuse') await listen(port);
    mode = null;
    for (const w of waiters.splice(0)) w();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    get refused503() {
      return state.refused503;
    },
    get isDown() {
      return mode !== null;
    },
    down(kind, ms) {
      if (mode !== null) throw new Error('the provider is already down');
      mode = kind;
      if (kind === 'refuse') {
        server.close();
        for (const s of sockets) s.destroy();
      }
      if (ms !== undefined) {
        timer = setTimeout(() => void up(), ms);
        timer.unref();
      }
    },
    up,
    whenUp() {
      return mode === null ? Promise.resolve() : new Promise((r) => waiters.push(r));
    },
    async close() {
      if (timer) clearTimeout(timer);
      for (const s of sockets) s.destroy();
      if (mode !== 'refuse') await new Promise<void>((r) => server.close(() => r()));
      for (const w of waiters.splice(0)) w();
    },
  };
}
