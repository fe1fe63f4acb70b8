// The gateway: HTTP on loopback (and unix sockets) between every harness and every model. It speaks
// OpenAI Chat Completions, OpenAI Responses and Anthropic Messages, forwards each call to the
// endpoint the client's `model` names (translating through the IR when the protocols differ), meters
// it, holds the rollout to its budget, and is the only holder of the upstream keys. A call is a
// pipeline of stages (call.ts); this file routes requests to it and owns the listeners and the
// registered rollouts. See docs/gateway.md.
import path from 'node:path';
import type http from 'node:http';
import type { Logger } from 'pino';
import { type GatewaySettings, type ModelsConfig } from '../models/config.js';
import type { TrajectoryWriter } from '../store/trajectory.js';
import { BodyStore } from './bodies.js';
import { type GatewayCore, handleCall } from './call.js';
import { handleCountTokens } from './count-tokens.js';
import { Listener } from './listener.js';
import { handleModels } from './models-route.js';
import { CODECS } from './protocols/index.js';
import { sendError, sendJson } from './respond.js';
import { type Budget, RolloutState, type Spent, mintToken } from './rollouts.js';
import { Scrubber } from './secrets.js';
import { ByteBudget } from './stages/body.js';
import { Endpoints } from './stages/parse.js';
import { createAgent } from './upstream.js';
import type { Protocol } from '../core/types.js';

export interface GatewayOptions {
  models: ModelsConfig;
  /** Port on `host` (default 0: pick a free one). */
  port?: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Also listen on this unix socket. */
  socketPath?: string;
  /** Where upstream keys are read from (default process.env). Only the gateway reads them. */
  env?: NodeJS.ProcessEnv;
  /** Overrides of models.gateway settings (retries, timeouts, body limit). */
  settings?: Partial<GatewaySettings>;
  /** Optional structured logger (authorization and x-api-key are never passed to it). */
  logger?: Logger;
}

export interface RegisterRolloutOptions {
  rolloutId: string;
  /** The rollout's trajectory: model.request / model.response events are appended to it. */
  log: TrajectoryWriter;
  budget?: Budget;
  /** Use this token instead of minting a random one (standalone mode). */
  token?: string;
}

export interface Gateway {
  /** http://127.0.0.1:PORT (no /v1). */
  url: string;
  port: number;
  /** The unix socket given as `socketPath`, if any. */
  socketPath: string | null;
  /** Register a rollout; returns the token its harness must send (Authorization: Bearer or x-api-key). */
  registerRollout(opts: RegisterRolloutOptions): string;
  unregister(token: string): void;
  /** What a rollout has spent so far (from its trajectory), or null for an unknown token. */
  spent(token: string): Spent | null;
  /** Listen on another unix socket (e.g. one bound into a sandbox); resolves to a function that closes it. */
  listenUnix(file: string): Promise<() => Promise<void>>;
  /** Connection counters of the TCP listener (open, reaped, evicted, refused). */
  connections(): { open: number; reaped: number; evicted: number; refused: number };
  close(): Promise<void>;
}

const CALL_ROUTES: Record<string, Protocol> = { '/v1/chat/completions': 'openai-chat', '/v1/responses': 'openai-responses', '/v1/messages': 'anthropic' };

function routeOf(req: http.IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)).replace(/\/+$/, '') || '/';
}

/** The request handler shared by every listener. */
function router(core: GatewayCore): http.RequestListener {
  return (req, res) => {
    const p = routeOf(req);
    const protocol = CALL_ROUTES[p] ?? (p === '/v1/messages/count_tokens' ? 'anthropic' : undefined);
    const codec = CODECS[protocol ?? (req.headers['anthropic-version'] !== undefined || p.startsWith('/v1/messages') ? 'anthropic' : 'openai-chat')];
    const fail = (e: unknown) => {
      core.logger?.error({ err: core.scrubber().scrub(String((e as Error)?.stack ?? e)) }, 'gateway internal error');
      if (res.headersSent) return void res.destroy();
      sendError(res, codec, 500, 'upstream', 'outlast gateway: internal error', { 'x-outlast-failure': 'gateway' });
    };
    try {
      if (protocol) {
        if (req.method !== 'POST') {
          req.resume();
          return sendError(res, codec, 405, 'invalid_request', `${req.method} is not allowed on ${p}; use POST`, { allow: 'POST' });
        }
        const work = CALL_ROUTES[p] ? handleCall(core, req, res, protocol) : handleCountTokens(core, req, res);
        return void work.catch(fail);
      }
      req.resume();
      if (p === '/health') return sendJson(res, 200, { ok: true });
      if (p === '/v1/models' || p.startsWith('/v1/models/')) {
        if (req.method !== 'GET') return sendError(res, codec, 405, 'invalid_request', `${req.method} is not allowed on ${p}; use GET`, { allow: 'GET' });
        return handleModels(core, req, res, p);
      }
      sendError(res, codec, 404, 'not_found', `no such endpoint: ${req.method} ${p.slice(0, 200)}`);
    } catch (e) {
      fail(e);
    }
  };
}

function makeCore(opts: GatewayOptions, rollouts: Map<string, RolloutState>): GatewayCore {
  const settings: GatewaySettings = { ...opts.models.gateway, ...(opts.settings ?? {}) };
  const env = opts.env ?? process.env;
  const endpoints = new Endpoints(opts.models);
  // The scrubber follows the key values in the environment (they are read at call time).
  let scrubber = new Scrubber([]);
  let seen = '\0';
  const stores = new WeakMap<RolloutState, BodyStore>();
  return {
    settings,
    env,
    endpoints,
    rollouts,
    agent: createAgent(settings),
    buffered: new ByteBudget(settings.max_buffered_bytes),
    logger: opts.logger,
    scrubber() {
      const keys = endpoints.all().map((m) => (m.api_key_env ? (env[m.api_key_env] ?? '') : ''));
      const sig = keys.join('\0');
      if (sig !== seen) {
        seen = sig;
        scrubber = new Scrubber(keys);
      }
      return scrubber;
    },
    bodies(ro) {
      if (!settings.record_bodies || !ro.log.file) return null;
      let s = stores.get(ro);
      if (!s) stores.set(ro, (s = new BodyStore(path.join(path.dirname(ro.log.file), 'bodies'))));
      return s;
    },
  };
}

/** Start a gateway. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const rollouts = new Map<string, RolloutState>();
  const core = makeCore(opts, rollouts);
  const handler = router(core);
  const tcp = new Listener(handler, core.settings, opts.logger);
  const host = opts.host ?? '127.0.0.1';
  const port = await tcp.listenTcp(opts.port ?? 0, host);
  const extra = new Set<Listener>();
  const listenUnix = async (file: string) => {
    const l = new Listener(handler, core.settings, opts.logger);
    await l.listenUnix(file);
    extra.add(l);
    return async () => {
      extra.delete(l);
      await l.close();
    };
  };
  if (opts.socketPath) await listenUnix(opts.socketPath);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    socketPath: opts.socketPath ?? null,
    registerRollout(o) {
      const token = o.token ?? mintToken();
      rollouts.set(token, new RolloutState(o.rolloutId, token, o.log, o.budget ?? {}));
      return token;
    },
    unregister: (token) => void rollouts.delete(token),
    spent(token) {
      const r = rollouts.get(token);
      return r ? { ...r.spent } : null;
    },
    listenUnix,
    connections: () => ({ open: tcp.open, ...tcp.stats }),
    async close() {
      await Promise.all([tcp.close(), ...[...extra].map((l) => l.close())]);
      await core.agent.destroy().catch(() => {});
    },
  };
}

export type { Budget, Spent } from './rollouts.js';
export type { TrajectoryWriter };
