// `outlast gateway --models FILE`: run a standalone gateway until SIGINT/SIGTERM.
//
// Standalone mode has one "rollout" whose calls are logged to `<dir>/gateway.jsonl` (a trajectory:
// model.request / model.response events). Its token is, in order: the `token` option, the
// OUTLAST_GATEWAY_TOKEN environment variable, or a freshly minted random token; it is printed on
// start-up so clients can be pointed at the gateway.
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { UserError } from '../core/errors.js';
import { loadModelsConfig } from '../models/config.js';
import { untilStopped } from './until-stopped.js';
import { TrajectoryWriter } from '../store/trajectory.js';
import { type Budget, type Gateway, startGateway } from '../gateway/server.js';

export interface GatewayCliOptions {
  /** Path of models.toml. */
  modelsFile: string;
  /** Port on 127.0.0.1 (default 0: pick one). */
  port?: number;
  /** Also listen on this unix socket. */
  socket?: string;
  /** Static token; default env OUTLAST_GATEWAY_TOKEN, else a random one. */
  token?: string;
  /** Directory for the call log (default .outlast/gateway). */
  dir?: string;
  budget?: Budget;
  env?: NodeJS.ProcessEnv;
  /** Where the start-up lines go (default stdout). */
  print?: (line: string) => void;
  /** Per-call log lines on stderr (pino, keys redacted). */
  verbose?: boolean;
  /** Stop when this aborts, besides SIGINT/SIGTERM (for tests). */
  signal?: AbortSignal;
  /** Called once the gateway is listening (for tests and embedding). */
  onReady?: (g: Gateway & { token: string; logFile: string }) => void;
}

export const GATEWAY_TOKEN_ENV = 'OUTLAST_GATEWAY_TOKEN';

/** Start a standalone gateway, print its URL and token, and resolve once it stopped. */
export async function runGatewayCli(o: GatewayCliOptions): Promise<void> {
  const env = o.env ?? process.env;
  const models = loadModelsConfig(o.modelsFile);
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) throw new UserError(`--port: must be an integer 0..65535; found ${o.port}`);
  const token = o.token ?? env[GATEWAY_TOKEN_ENV] ?? undefined;
  if (token !== undefined && token.length < 8) throw new UserError(`gateway token must be at least 8 characters`);
  const dir = path.resolve(o.dir ?? '.outlast/gateway');
  const logFile = path.join(dir, 'gateway.jsonl');
  const log = new TrajectoryWriter(logFile);
  const logger = o.verbose
    ? pino({ redact: { paths: ['authorization', 'x-api-key', '*.authorization', '*["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]'], censor: '[REDACTED]' } }, pino.destination(2))
    : undefined;
  if (o.socket !== undefined && !fs.existsSync(path.dirname(path.resolve(o.socket)))) throw new UserError(`--socket: directory ${path.dirname(path.resolve(o.socket))} does not exist`);
  const g = await startGateway({ models, port: o.port, env, logger, ...(o.socket ? { socketPath: path.resolve(o.socket) } : {}) });
  const t = g.registerRollout({ rolloutId: 'standalone', log, budget: o.budget, token });
  const print = o.print ?? ((l: string) => process.stdout.write(l + '\n'));
  print(`outlast gateway listening on ${g.url}${g.socketPath ? ` and ${g.socketPath}` : ''}`);
  print(`token: ${token !== undefined ? `(from ${o.token !== undefined ? '--token' : GATEWAY_TOKEN_ENV})` : t}`);
  print(`models: ${models.models.map((m) => `${m.name} (${m.protocol})`).join(', ') || 'none'}`);
  print(`call log: ${logFile}`);
  o.onReady?.({ ...g, token: t, logFile });
  await untilStopped(o.signal);
  await g.close();
  log.close();
}
