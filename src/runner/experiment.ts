// Experiments: tasks × harnesses × repeats, run with a concurrency limit. The plan is written to
// experiment.json before anything runs; each rollout's trajectory records its progress, so an
// experiment interrupted at any point can be resumed (`outlast resume`).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import type { TrajectoryEvent } from '../core/events.js';
import type { Limits, ModelEndpoint, RolloutSpec, SandboxMode, Task } from '../core/types.js';
import { UserError } from '../core/errors.js';
import { startGateway, type Gateway } from '../gateway/index.js';
import { DEFAULT_GATEWAY_SETTINGS, type GatewaySettings, type ModelsConfig } from '../models/config.js';
import { createHarness } from '../harnesses/index.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { asDiskFull } from '../store/disk.js';
import type { Layout } from '../store/layout.js';
import type { ExperimentRecord, Store } from '../store/store.js';
import { versions } from './provenance.js';
import { ExclusiveGate, runsExclusively } from './exclusive.js';
import { checkTasksReadable } from './readable.js';
import { WorkerPool } from './pool/parent.js';
import { runRollout, type RolloutResult } from './rollout.js';

export interface ExperimentPlan {
  tasks: Task[];
  harnesses: string[];
  repeats: number;
  concurrency: number;
  sandbox: SandboxMode;
  argv: string[];
  /** Endpoints for harnesses that need a model (each such harness runs once per model). */
  models?: ModelEndpoint[];
  modelsConfig?: ModelsConfig;
  /** Limits that override every task's own [limits]. */
  limits?: Limits;
  /** Settings for agent harnesses (e.g. idle_rounds), applied to each harness that takes them. */
  harnessSettings?: Record<string, unknown>;
}

export function defaultConcurrency(): number {
  return Math.max(1, os.availableParallelism());
}

/** Sortable, unique experiment id, e.g. `exp-20261125-143000-a1b2`. */
export function newExperimentId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `exp-${stamp}-${crypto.randomBytes(2).toString('hex')}`;
}

/** File-name-safe rollout id: `<task>--<harness>[--<model>]--r<repeat>`. */
export function rolloutId(task: string, harness: string, repeat: number, model: string | null = null): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${safe(task)}--${safe(harness)}${model ? `--${safe(model)}` : ''}--r${repeat}`;
}

/** Deterministic per-rollout seed, so a resumed rollout draws the same inputs. */
export function rolloutSeed(experimentId: string, id: string): number {
  return crypto.createHash('sha256').update(`${experimentId}/${id}`).digest().readUInt32BE(0);
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const text = JSON.stringify(value, null, 2) + '\n';
  try {
    fs.writeFileSync(tmp, text);
    const fd = fs.openSync(tmp, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw asDiskFull(err, file, Buffer.byteLength(text)) ?? err;
  }
}

export async function createExperiment(layout: Layout, store: Store, plan: ExperimentPlan): Promise<ExperimentRecord> {
  const id = newExperimentId();
  const rollouts: ExperimentRecord['rollouts'] = [];
  const models = plan.models ?? [];
  // Settings go to the agent harnesses (the ones that talk to a model); validated by each harness.
  const settings: Record<string, Record<string, unknown>> = {};
  if (plan.harnessSettings && Object.keys(plan.harnessSettings).length) {
    const takers = plan.harnesses.filter((h) => createHarness(h).needsModel);
    if (takers.length === 0) throw new UserError(`--set: none of the harnesses (${plan.harnesses.join(', ')}) takes settings`);
    for (const h of takers) {
      createHarness(h, plan.harnessSettings);
      settings[h] = plan.harnessSettings;
    }
  }
  for (const task of plan.tasks)
    for (const harness of plan.harnesses) {
      const needsModel = createHarness(harness).needsModel === true;
      if (needsModel && models.length === 0) throw new UserError(`harness "${harness}" talks to a model: name one with --model (endpoints come from --models, default ./models.toml)`);
      for (const model of needsModel ? models.map((m) => m.name) : [null])
        for (let repeat = 1; repeat <= plan.repeats; repeat++)
          rollouts.push({ rollout_id: rolloutId(task.name, harness, repeat, model), task: task.name, harness, model, repeat });
    }
  const usedModels = new Set(rollouts.map((r) => r.model).filter((m): m is string => m !== null));
  const rec: ExperimentRecord = {
    id,
    created_at: new Date().toISOString(),
    argv: plan.argv,
    outlast_version: versions().outlast,
    tasks: plan.tasks.map((t) => ({ name: t.name, family: t.family, dir: t.dir, hash: t.hash })),
    harnesses: plan.harnesses,
    models: [...usedModels],
    repeats: plan.repeats,
    concurrency: plan.concurrency,
    sandbox: plan.sandbox,
    rollouts,
    ...(plan.limits && Object.keys(plan.limits).length ? { limits: plan.limits } : {}),
    ...(Object.keys(settings).length ? { harness_settings: settings } : {}),
    ...(usedModels.size
      ? { model_config: { file: plan.modelsConfig?.file ?? null, endpoints: models.filter((m) => usedModels.has(m.name)), gateway: { ...(plan.modelsConfig?.gateway ?? DEFAULT_GATEWAY_SETTINGS) } } }
      : {}),
  };
  fs.mkdirSync(layout.experimentDir(id), { recursive: true });
  writeJsonAtomic(layout.experimentFile(id), rec);
  await store.putExperiment(rec);
  return rec;
}

export function readExperiment(layout: Layout, id: string): ExperimentRecord {
  return JSON.parse(fs.readFileSync(layout.experimentFile(id), 'utf8')) as ExperimentRecord;
}

/** Live progress of an experiment, for the CLI's display. */
export interface ProgressListener {
  rolloutStarted?(id: string): void;
  event?(id: string, e: TrajectoryEvent): void;
  rolloutFinished?(id: string, r: RolloutResult): void;
}

export interface RunOptions {
  layout: Layout;
  store: Store;
  record: ExperimentRecord;
  /** Loaded tasks by name (must cover every task of the record). */
  tasks: Map<string, Task>;
  sandbox: Sandbox;
  concurrency: number;
  signal?: AbortSignal;
  progress?: ProgressListener;
  /** Continue rollouts that ended infra_error too (see RolloutContext.retryInfra). */
  retryInfra?: boolean;
  /** Worker processes to run the rollouts in (default 1: in this process). See pool/parent.ts. */
  workers?: number;
}

/** Worker processes by default: one per core once there are enough concurrent rollouts to need them. */
export function defaultWorkers(concurrency: number): number {
  return concurrency >= 8 ? Math.max(1, os.availableParallelism()) : 1;
}

/** Run every rollout of the experiment that has not finished yet. */
export async function runExperiment(opts: RunOptions): Promise<RolloutResult[]> {
  const { record } = opts;
  const queue = [...record.rollouts];
  const results: RolloutResult[] = [];
  await checkTasksReadable(
    [...new Set(queue.map((r) => r.task))].flatMap((n) => opts.tasks.get(n) ?? []),
    opts.sandbox,
  );
  const endpoints = new Map((record.model_config?.endpoints ?? []).map((e) => [e.name, e]));
  const workers = Math.min(opts.workers ?? 1, Math.max(1, Math.min(opts.concurrency, queue.length)));
  const pool = workers > 1 ? new WorkerPool(workers, { type: 'init', home: opts.layout.home, sandbox: opts.sandbox.mode, record, tasks: Object.fromEntries([...opts.tasks].map(([n, t]) => [n, { dir: t.dir, hash: t.hash }])), retryInfra: opts.retryInfra }) : null;
  let gateway: Gateway | null = null;
  if (!pool && queue.some((r) => r.model !== null)) {
    gateway = await startGateway({
      models: { models: [...endpoints.values()], gateway: { ...DEFAULT_GATEWAY_SETTINGS, ...(record.model_config?.gateway as Partial<GatewaySettings>) } },
    });
  }
  const gate = new ExclusiveGate();
  // A rollout halted by its storage (a full disk) halts the others too: they would all meet it.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = stop.signal;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (signal.aborted) return;
      const r = queue.shift();
      if (!r) return;
      const task = opts.tasks.get(r.task);
      if (!task) throw new Error(`task ${r.task} of experiment ${record.id} was not loaded`);
      const harness = createHarness(r.harness, record.harness_settings?.[r.harness]);
      const endpoint = r.model === null ? null : endpoints.get(r.model);
      if (endpoint === undefined) throw new Error(`model ${r.model} of experiment ${record.id} has no recorded endpoint`);
      const spec: RolloutSpec = {
        rollout_id: r.rollout_id,
        experiment_id: record.id,
        task: { name: task.name, family: task.family, dir: task.dir, hash: task.hash, format: task.format },
        harness: { name: harness.name, version: harness.version, settings: harness.settings },
        model: endpoint ? { name: endpoint.name, upstream_model: endpoint.upstream_model, protocol: endpoint.protocol } : null,
        verifier: task.verifier,
        repeat: r.repeat,
        seed: rolloutSeed(record.id, r.rollout_id),
        limits: { ...task.limits, ...(record.limits ?? {}) },
        sandbox: opts.sandbox.mode,
      };
      const release = await gate.acquire(runsExclusively(task));
      if (signal.aborted) return release();
      opts.progress?.rolloutStarted?.(r.rollout_id);
      const onEvent = (e: TrajectoryEvent) => opts.progress?.event?.(r.rollout_id, e);
      const running = pool
        ? pool.run(spec, r.harness, signal, onEvent)
        : runRollout({ layout: opts.layout, store: opts.store, spec, task, harness, sandbox: opts.sandbox, model: endpoint && gateway ? { gateway, endpoint } : undefined, signal, retryInfra: opts.retryInfra, onEvent });
      const res = await running.catch((e: unknown) => {
        release();
        throw e;
      });
      results.push(res);
      if (res.halted && !signal.aborted) stop.abort(res.halted);
      opts.progress?.rolloutFinished?.(r.rollout_id, res);
      release();
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency, queue.length));
  try {
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await gateway?.close();
    await pool?.close();
  }
  return results;
}
