// The gateway's listening sockets (TCP on loopback, and unix sockets) and their hygiene: a client
// has header_timeout_ms for its headers; a connection with no request in progress is closed after
// idle_connection_ms (also one that never sends a byte); at most max_connections stay open per
// listener: over it the longest-idle connection is closed to make room, and when every connection is
// busy the newcomer gets a clear 503. So a client that hoards sockets cannot starve the others.
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import type { Logger } from 'pino';
import type { GatewaySettings } from '../models/config.js';

export type ListenerLimits = Pick<GatewaySettings, 'header_timeout_ms' | 'body_timeout_ms' | 'idle_connection_ms' | 'max_connections'>;

interface Conn {
  active: number;
  idleSince: number;
}

/** Connections over the cap, kept only long enough to answer their first request with a 503. */
const OVERFLOW = Symbol('outlast-overflow');

const BUSY = JSON.stringify({ error: { type: 'overloaded', code: 'too_many_connections', message: 'outlast gateway: too many open connections; retry shortly' } });

export class Listener {
  readonly server: http.Server;
  private readonly conns = new Map<net.Socket, Conn>();
  private readonly sweeper: NodeJS.Timeout;
  /** Connections closed for idling or to make room, and newcomers turned away: for tests and logs. */
  readonly stats = { reaped: 0, evicted: 0, refused: 0 };

  constructor(
    handler: http.RequestListener,
    private readonly limits: ListenerLimits,
    private readonly logger?: Logger,
  ) {
    this.server = http.createServer({
      keepAliveTimeout: limits.idle_connection_ms,
      headersTimeout: limits.header_timeout_ms,
      requestTimeout: limits.header_timeout_ms + limits.body_timeout_ms,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.header_timeout_ms / 2)),
    });
    this.server.on('connection', (s: net.Socket) => this.admit(s));
    this.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if ((req.socket as net.Socket & { [OVERFLOW]?: boolean })[OVERFLOW]) return this.turnAway(req, res);
      this.busy(req.socket, res);
      handler(req, res);
    });
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    const every = Math.max(20, Math.min(1000, limits.idle_connection_ms / 4));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  get open(): number {
    return this.conns.size;
  }

  private admit(s: net.Socket): void {
    if (this.conns.size >= this.limits.max_connections && !this.evictIdle()) {
      // Every connection is busy: this one is answered 503 on its first request, then closed.
      (s as net.Socket & { [OVERFLOW]?: boolean })[OVERFLOW] = true;
      setTimeout(() => s.destroy(), this.limits.header_timeout_ms).unref();
      return;
    }
    this.conns.set(s, { active: 0, idleSince: performance.now() });
    s.once('close', () => this.conns.delete(s));
  }

  private turnAway(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.stats.refused++;
    this.logger?.warn({ open: this.conns.size }, 'gateway: connection turned away, every connection is busy');
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BUSY), 'retry-after': '1', 'x-outlast-failure': 'gateway', connection: 'close' });
    res.end(BUSY);
  }

  private busy(s: net.Socket, res: http.ServerResponse): void {
    const c = this.conns.get(s);
    if (!c) return;
    c.active++;
    res.once('close', () => {
      c.active = Math.max(0, c.active - 1);
      c.idleSince = performance.now();
    });
  }

  /** Close the longest-idle connection; false when none is idle. */
  private evictIdle(): boolean {
    let oldest: net.Socket | null = null;
    let since = Infinity;
    for (const [s, c] of this.conns)
      if (c.active === 0 && c.idleSince < since) {
        oldest = s;
        since = c.idleSince;
      }
    if (!oldest) return false;
    this.stats.evicted++;
    this.conns.delete(oldest);
    oldest.destroy();
    return true;
  }

  private sweep(): void {
    const cutoff = performance.now() - this.limits.idle_connection_ms;
    for (const [s, c] of this.conns)
      if (c.active === 0 && c.idleSince < cutoff) {
        this.stats.reaped++;
        this.conns.delete(s);
        s.destroy();
      }
  }

  listenTcp(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Listen on a unix socket at `file` (replacing a stale one), readable and writable by anyone who can reach the directory. */
  listenUnix(file: string): Promise<void> {
    fs.rmSync(file, { force: true });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(file, () => {
        this.server.off('error', reject);
        fs.chmodSync(file, 0o666);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
