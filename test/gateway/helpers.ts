// Shared set-up for gateway tests: a scripted model server, a gateway with one endpoint per
// upstream protocol, and a rollout registered with its own trajectory file in a temp run dir.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGateway, type Gateway, type Budget } from '../../src/gateway/index.js';
import { DEFAULT_GATEWAY_SETTINGS, type GatewaySettings, type ModelsConfig } from '../../src/models/config.js';
import { startScriptedModel } from '../../src/models/scripted/index.js';
import type { ScriptedModel, ScriptedModelOptions } from '../../src/models/scripted/index.js';
import type { ModelEndpoint, Protocol } from '../../src/core/types.js';
import type { ModelResponseEvent, TrajectoryEvent } from '../../src/core/events.js';
import { TrajectoryWriter, readTrajectory } from '../../src/store/trajectory.js';

export const PROTOCOLS: Protocol[] = ['openai-chat', 'openai-responses', 'anthropic'];
/** A recognisable fake upstream key: no file under the run dir may ever contain it. */
export const FAKE_KEY = 'sk-outlast-FAKE-KEY-7f3a9c1e5b2d4068';
export const KEY_ENV = 'OUTLAST_TEST_UPSTREAM_KEY';

export const modelName = (p: Protocol) => `up-${p}`;

export interface Setup {
  sm: ScriptedModel;
  gw: Gateway;
  dir: string;
  token: string;
  log: TrajectoryWriter;
  events(): TrajectoryEvent[];
  responses(): ModelResponseEvent[];
  newRollout(id: string, budget?: Budget): { token: string; log: TrajectoryWriter; file: string };
  close(): Promise<void>;
}

export async function setup(o: {
  script: ScriptedModelOptions['script'];
  scripted?: Partial<ScriptedModelOptions>;
  settings?: Partial<GatewaySettings>;
  budget?: Budget;
  upstreamModel?: string;
  dir?: string;
  /** More endpoints (e.g. a second, healthy scripted server, or a dead port). */
  extra?: ModelEndpoint[];
}): Promise<Setup> {
  const sm = await startScriptedModel({ loop: true, api_key: FAKE_KEY, ...(o.scripted ?? {}), script: o.script });
  const models: ModelsConfig = {
    models: PROTOCOLS.map((p) => ({ name: modelName(p), protocol: p, base_url: `${sm.url}/v1`, upstream_model: o.upstreamModel ?? 'qwen3.7-max', api_key_env: KEY_ENV } as ModelEndpoint)).concat(o.extra ?? []),
    gateway: { ...DEFAULT_GATEWAY_SETTINGS, backoff_base_ms: 5, backoff_max_ms: 50, max_retry_after_ms: 2000, first_byte_timeout_ms: 5000, idle_timeout_ms: 5000, ...(o.settings ?? {}) },
  };
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-gw-'));
  const gw = await startGateway({ models, env: { [KEY_ENV]: FAKE_KEY } });
  const logs: TrajectoryWriter[] = [];
  const newRollout = (id: string, budget?: Budget) => {
    const file = path.join(dir, 'rollouts', id, 'trajectory.jsonl');
    const log = new TrajectoryWriter(file, { fsync: false });
    logs.push(log);
    return { token: gw.registerRollout({ rolloutId: id, log, budget }), log, file };
  };
  const main = newRollout('r-main', o.budget);
  return {
    sm,
    gw,
    dir,
    token: main.token,
    log: main.log,
    events: () => readTrajectory(main.file).events,
    responses: () => readTrajectory(main.file).events.filter((e): e is ModelResponseEvent => e.type === 'model.response'),
    newRollout,
    async close() {
      await gw.close();
      await sm.close();
      for (const l of logs) l.close();
    },
  };
}

/** Wait until `fn` is true (events are appended just after the response ends). */
export async function until(fn: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** All files under a directory, recursively. */
export function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}
