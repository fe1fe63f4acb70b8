// Shared set-up for the outlast harness tests: a scripted model server behind a real gateway (one
// endpoint per protocol), real task directories, real bwrap sandboxes and real trajectory files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TrajectoryEvent } from '../../src/core/events.js';
import type { Limits, ModelEndpoint, Protocol, RolloutSpec, Task } from '../../src/core/types.js';
import { startGateway, type Gateway } from '../../src/gateway/index.js';
import { OutlastHarness, type OutlastSettings } from '../../src/harnesses/outlast/index.js';
import type { Harness, HarnessResult } from '../../src/harnesses/harness.js';
import { DEFAULT_GATEWAY_SETTINGS, type GatewaySettings } from '../../src/models/config.js';
import { startScriptedModel, type ScriptedModel, type ScriptedModelOptions } from '../../src/models/scripted/index.js';
import { runRollout, type RolloutResult } from '../../src/runner/rollout.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openStore } from '../../src/store/index.js';
import { Layout } from '../../src/store/layout.js';
import { TrajectoryWriter, readTrajectory } from '../../src/store/trajectory.js';
import { loadTask } from '../../src/tasks/load.js';
import { startFlakyUpstream, type FlakyUpstream } from '../helpers/flaky-upstream.js';

export const PROTOCOLS: Protocol[] = ['openai-chat', 'openai-responses', 'anthropic'];
/** $1000 per million tokens: one token costs $0.001, so cost limits are easy to hit. */
export const PRICING = { input: 1000, cached_input: 100, cache_write: 1000, output: 1000 };

const made: string[] = [];
export function tmpdir(prefix = 'outlast-harness-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}
export function cleanup(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function writeTree(root: string, files: Record<string, string>): string {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode: content.startsWith('#!') ? 0o755 : 0o644 });
  }
  return root;
}

/**
 * A task whose hidden test scores the fraction of `steps` step files present (reward file), with an
 * `evaluate` tool that prints a JSON score line.
 */
export async function stepTask(opts: { steps?: number; toml?: string } = {}): Promise<Task> {
  const steps = opts.steps ?? 30;
  const dir = writeTree(tmpdir('outlast-task-'), {
    'task.toml': `[task]\nname = "steps"\n\n[verifier]\ncommand = "bash /tests/test.sh"\ntimeout_sec = 60\n\n[[tools]]\nname = "evaluate"\ndescription = "Print the current score."\ncommand = "n=$(ls steps 2>/dev/null | wc -l); echo checking; echo \\"{\\\\\\"score\\\\\\": $n, \\\\\\"correct\\\\\\": true}\\""\ntimeout_sec = 30\nrecords_evaluation = true\n${opts.toml ?? ''}`,
    'instruction.md': `Write step files steps/step-0000.txt to steps/step-${String(steps - 1).padStart(4, '0')}.txt, then submit.\n`,
    'workspace/README': 'start here\n',
    'tests/test.sh': `#!/bin/bash\nn=$(ls steps 2>/dev/null | wc -l)\npython3 -c "print(min(1.0, $n / ${steps}))" > /logs/verifier/reward.txt\n`,
  });
  return loadTask(dir);
}

export interface Env {
  sm: ScriptedModel;
  /** The provider as the gateway reaches it: the scripted model, behind a proxy that can go down when started with `flaky`. */
  upstream: FlakyUpstream | null;
  gw: Gateway;
  sandbox: Sandbox;
  endpoint(p: Protocol): ModelEndpoint;
  close(): Promise<void>;
}

export async function startEnv(o: {
  script: ScriptedModelOptions['script'];
  scripted?: Partial<ScriptedModelOptions>;
  gateway?: Partial<GatewaySettings>;
  context_window?: number;
  extra_params?: Record<string, unknown>;
  /** Put the scripted model behind a proxy that can have outages (env.upstream). */
  flaky?: boolean;
}): Promise<Env> {
  const sm = await startScriptedModel({ ...(o.scripted ?? {}), script: o.script });
  const upstream = o.flaky ? await startFlakyUpstream(sm.url) : null;
  const endpoints = PROTOCOLS.map(
    (p): ModelEndpoint => ({
      name: `m-${p}`,
      protocol: p,
      base_url: `${upstream?.url ?? sm.url}/v1`,
      upstream_model: 'scripted',
      pricing: PRICING,
      ...(o.context_window ? { context_window: o.context_window } : {}),
      ...(o.extra_params ? { extra_params: o.extra_params } : {}),
    }),
  );
  const gw = await startGateway({
    models: { models: endpoints, gateway: { ...DEFAULT_GATEWAY_SETTINGS, backoff_base_ms: 5, backoff_max_ms: 50, first_byte_timeout_ms: 10_000, idle_timeout_ms: 10_000, ...(o.gateway ?? {}) } },
    env: {},
  });
  const sandbox = await createSandbox('bwrap');
  return {
    sm,
    upstream,
    gw,
    sandbox,
    endpoint: (p) => endpoints.find((e) => e.protocol === p)!,
    async close() {
      await gw.close();
      await upstream?.close();
      await sm.close();
    },
  };
}

export interface DirectRun {
  result: HarnessResult & { cache_hit_ratio?: number | null };
  file: string;
  workspace: string;
  events: TrajectoryEvent[];
}

/** Run the harness directly (no runner): a fresh workspace copied from the task unless `workspace` is given. */
export async function runDirect(
  env: Env,
  task: Task,
  o: {
    protocol?: Protocol;
    limits?: Limits;
    settings?: Partial<OutlastSettings>;
    file?: string;
    workspace?: string;
    signal?: AbortSignal;
    onEvent?: (e: TrajectoryEvent) => void;
    fsync?: boolean;
    /** The gateway's budget for the rollout (default: the limits' tokens and cost). */
    gatewayBudget?: { tokens?: number; cost_usd?: number };
  } = {},
): Promise<DirectRun> {
  const dir = o.file ? path.dirname(o.file) : tmpdir('outlast-rollout-');
  const file = o.file ?? path.join(dir, 'trajectory.jsonl');
  const workspace = o.workspace ?? path.join(dir, 'workspace');
  if (!fs.existsSync(workspace)) {
    fs.mkdirSync(workspace, { recursive: true });
    if (task.workspace_dir) fs.cpSync(task.workspace_dir, workspace, { recursive: true });
    await env.sandbox.adopt(workspace); // sandboxed commands run as the anonymous identity here
  }
  const log = new TrajectoryWriter(file, { fsync: o.fsync ?? false });
  if (o.onEvent) log.onEvent(o.onEvent);
  const limits = o.limits ?? {};
  const endpoint = env.endpoint(o.protocol ?? 'openai-chat');
  const token = env.gw.registerRollout({ rolloutId: path.basename(dir), log, budget: o.gatewayBudget ?? { tokens: limits.tokens, cost_usd: limits.cost_usd } });
  try {
    const harness = new OutlastHarness(o.settings);
    const result = await harness.run({
      task,
      workspace,
      sandbox: env.sandbox,
      log,
      limits,
      seed: 0,
      model: { gateway_url: env.gw.url, token, endpoint },
      signal: o.signal ?? new AbortController().signal,
    });
    return { result, file, workspace, events: readTrajectory(file).events };
  } finally {
    env.gw.unregister(token);
    log.close();
  }
}

/** Run through the real runner (prepare → harness → snapshot → verify → finish) with a real SQLite store. */
export async function runViaRunner(
  env: Env,
  task: Task,
  o: { protocol?: Protocol; limits?: Limits; settings?: Partial<OutlastSettings>; home?: string; rolloutId?: string; onEvent?: (e: TrajectoryEvent) => void; retryInfra?: boolean; harness?: Harness; signal?: AbortSignal } = {},
): Promise<{ result: RolloutResult; events: TrajectoryEvent[]; workspace: string; dir: string }> {
  const home = o.home ?? tmpdir('outlast-home-');
  const layout = new Layout(home);
  const store = await openStore(layout);
  const harness = o.harness ?? new OutlastHarness(o.settings);
  const endpoint = env.endpoint(o.protocol ?? 'openai-chat');
  const limits = o.limits ?? {};
  const spec: RolloutSpec = {
    rollout_id: o.rolloutId ?? 'r1',
    experiment_id: 'e1',
    task: { name: task.name, family: task.family, dir: task.dir, hash: task.hash, format: task.format },
    harness: { name: harness.name, version: harness.version, settings: harness.settings },
    model: { name: endpoint.name, upstream_model: endpoint.upstream_model, protocol: endpoint.protocol },
    verifier: task.verifier,
    repeat: 0,
    seed: 0,
    limits,
    sandbox: 'bwrap',
  };
  try {
    const result = await runRollout({ layout, store, spec, task, harness, sandbox: env.sandbox, model: { gateway: env.gw, endpoint }, onEvent: o.onEvent, retryInfra: o.retryInfra, signal: o.signal });
    return { result, events: readTrajectory(layout.trajectory('e1', spec.rollout_id)).events, workspace: layout.workspace('e1', spec.rollout_id), dir: layout.rolloutDir('e1', spec.rollout_id) };
  } finally {
    await (store as unknown as { close?: () => Promise<void> | void }).close?.();
  }
}

export function ofType<T extends TrajectoryEvent['type']>(events: TrajectoryEvent[], type: T): Extract<TrajectoryEvent, { type: T }>[] {
  return events.filter((e): e is Extract<TrajectoryEvent, { type: T }> => e.type === type);
}

/** The files of a directory tree with their contents, for comparing workspaces. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else out[r] = fs.readFileSync(p, 'utf8');
    }
  };
  walk(dir, '');
  return out;
}
