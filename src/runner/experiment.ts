// Experiments: tasks × harnesses × repeats, run with a concurrency limit. The plan is written to
// experiment.json before anything runs; each rollout's trajectory records its progress, so an
// experiment interrupted at any point can be resumed (`outlast resume`).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import type { TrajectoryEvent } from '../core/events.js';
import type { RolloutSpec, SandboxMode, Task } from '../core/types.js';
import { createHarness } from '../harnesses/index.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { Layout } from '../store/layout.js';
import type { ExperimentRecord, Store } from '../store/store.js';
import { versions } from './provenance.js';
import { runRollout, type RolloutResult } from './rollout.js';

export interface ExperimentPlan {
  tasks: Task[];
  harnesses: string[];
  repeats: number;
  concurrency: number;
  sandbox: SandboxMode;
  argv: string[];
}

export function defaultConcurrency(): number {
  return Math.max(1, os.availableParallelism());
}

/** Sortable, unique experiment id, e.g. `exp-20261125-143000-a1b2`. */
export function newExperimentId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `exp-${stamp}-${crypto.randomBytes(2).toString('hex')}`;
}

/** File-name-safe rollout id: `<task>--<harness>--r<repeat>`. */
export function rolloutId(task: string, harness: string, repeat: number): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${safe(task)}--${safe(harness)}--r${repeat}`;
}

/** Deterministic per-rollout seed, so a resumed rollout draws the same inputs. */
export function rolloutSeed(experimentId: string, id: string): number {
  return crypto.createHash('sha256').update(`${experimentId}/${id}`).digest().readUInt32BE(0);
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  const fd = fs.openSync(tmp, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

export async function createExperiment(layout: Layout, store: Store, plan: ExperimentPlan): Promise<ExperimentRecord> {
  const id = newExperimentId();
  const rollouts: ExperimentRecord['rollouts'] = [];
  for (const task of plan.tasks)
    for (const harness of plan.harnesses)
      for (let repeat = 1; repeat <= plan.repeats; repeat++)
        rollouts.push({ rollout_id: rolloutId(task.name, harness, repeat), task: task.name, harness, model: null, repeat });
  const rec: ExperimentRecord = {
    id,
    created_at: new Date().toISOString(),
    argv: plan.argv,
    outlast_version: versions().outlast,
    tasks: plan.tasks.map((t) => ({ name: t.name, family: t.family, dir: t.dir, hash: t.hash })),
    harnesses: plan.harnesses,
    models: [],
    repeats: plan.repeats,
    concurrency: plan.concurrency,
    sandbox: plan.sandbox,
    rollouts,
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
}

/** Run every rollout of the experiment that has not finished yet. */
export async function runExperiment(opts: RunOptions): Promise<RolloutResult[]> {
  const { record } = opts;
  const queue = [...record.rollouts];
  const results: RolloutResult[] = [];
  const worker = async (): Promise<void> => {
    for (;;) {
      if (opts.signal?.aborted) return;
      const r = queue.shift();
      if (!r) return;
      const task = opts.tasks.get(r.task);
      if (!task) throw new Error(`task ${r.task} of experiment ${record.id} was not loaded`);
      const harness = createHarness(r.harness);
      const spec: RolloutSpec = {
        rollout_id: r.rollout_id,
        experiment_id: record.id,
        task: { name: task.name, family: task.family, dir: task.dir, hash: task.hash, format: task.format },
        harness: { name: harness.name, version: harness.version, settings: harness.settings },
        model: null,
        verifier: task.verifier,
        repeat: r.repeat,
        seed: rolloutSeed(record.id, r.rollout_id),
        limits: task.limits,
        sandbox: opts.sandbox.mode,
      };
      opts.progress?.rolloutStarted?.(r.rollout_id);
      const res = await runRollout({
        layout: opts.layout,
        store: opts.store,
        spec,
        task,
        harness,
        sandbox: opts.sandbox,
        signal: opts.signal,
        onEvent: (e) => opts.progress?.event?.(r.rollout_id, e),
      });
      results.push(res);
      opts.progress?.rolloutFinished?.(r.rollout_id, res);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency, queue.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}
