// Fixtures for the store tests: temp homes, experiment records, realistic rollouts written through
// the real TrajectoryWriter, and a raw dump of every table for comparing databases.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { NewEvent } from '../../src/core/events.js';
import type { Outcome, RolloutSpec } from '../../src/core/types.js';
import { Layout } from '../../src/store/layout.js';
import type { ExperimentRecord, Store } from '../../src/store/store.js';
import { TrajectoryWriter } from '../../src/store/trajectory.js';

export function tempHome(): Layout {
  return new Layout(fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-store-')));
}

export function removeHome(layout: Layout): void {
  fs.rmSync(layout.home, { recursive: true, force: true });
}

const TASKS = [
  { name: 'fix-test', family: 'examples', dir: '/tasks/fix-test', hash: 'a'.repeat(64) },
  { name: 'implement', family: 'examples', dir: '/tasks/implement', hash: 'b'.repeat(64) },
];

/** An experiment planning `n` rollouts over two tasks, harness `oracle`, no model. */
export function makeRecord(id: string, n: number, createdAt = '2026-11-25T10:00:00.000Z'): ExperimentRecord {
  return {
    id,
    created_at: createdAt,
    argv: ['run', 'tasks/examples', '--harness', 'oracle'],
    outlast_version: '0.1.0',
    tasks: TASKS,
    harnesses: ['oracle'],
    models: [],
    repeats: 1,
    concurrency: 2,
    sandbox: 'none',
    rollouts: Array.from({ length: n }, (_, i) => ({
      rollout_id: `r${String(i).padStart(3, '0')}`,
      task: TASKS[i % 2]!.name,
      harness: 'oracle',
      model: null,
      repeat: Math.floor(i / 2),
    })),
  };
}

/** Write experiment.json the way the runner does. */
export function writeRecord(layout: Layout, rec: ExperimentRecord): void {
  fs.mkdirSync(layout.experimentDir(rec.id), { recursive: true });
  fs.writeFileSync(layout.experimentFile(rec.id), JSON.stringify(rec, null, 2) + '\n');
}

export function spec(rec: ExperimentRecord, rolloutId: string): RolloutSpec {
  const plan = rec.rollouts.find((r) => r.rollout_id === rolloutId)!;
  const task = rec.tasks.find((t) => t.name === plan.task)!;
  return {
    rollout_id: rolloutId,
    experiment_id: rec.id,
    task: { name: task.name, family: task.family, dir: task.dir, hash: task.hash, format: 'outlast' },
    harness: { name: plan.harness, version: '1', settings: {} },
    model: plan.model ? { name: plan.model } : null,
    verifier: { kind: 'command', command: 'bash tests/test.sh', timeout_sec: 60 },
    repeat: plan.repeat,
    seed: 7,
    limits: {},
    sandbox: 'none',
  };
}

export const started = (s: RolloutSpec, resumed = false): NewEvent => ({
  type: 'rollout.started',
  spec: s,
  versions: { outlast: '0.1.0', commit: null, node: process.version },
  sandbox: { mode: 'none', unsandboxed: true, enforced: {} },
  ...(resumed ? { resumed: true } : {}),
});

export const toolCall = (i: number): NewEvent => ({ type: 'tool.call', call_id: `c${i}`, name: 'bash', arguments: { cmd: `echo ${i}` } });

export const toolResult = (i: number): NewEvent => ({
  type: 'tool.result',
  call_id: `c${i}`,
  name: 'bash',
  exit_code: 0,
  duration_ms: 3,
  output: `output of step ${i} ` + 'x'.repeat(i % 50),
  truncated_bytes: 0,
  timed_out: false,
});

export const note = (message: string): NewEvent => ({ type: 'note', level: 'info', message });

export const verified = (value: number, passed: boolean): NewEvent => ({
  type: 'verifier.result',
  score: {
    value,
    passed,
    details: { tests_passed: passed ? 3 : 1, tests_failed: passed ? 0 : 2 },
    grader: { verifier: 'command', version: '1', settings: { command: 'bash tests/test.sh' } },
    graded_at: '2026-11-25T10:05:00.000Z',
  },
  run: { exit_code: passed ? 0 : 1, duration_ms: 12, output: 'ok', truncated_bytes: 0, timed_out: false },
});

export const finished = (outcome: Outcome, value: number | null, toolCalls: number): NewEvent => ({
  type: 'rollout.finished',
  outcome,
  score:
    value === null
      ? null
      : {
          value,
          passed: value >= 1,
          details: {},
          grader: { verifier: 'command', version: '1', settings: {} },
          graded_at: '2026-11-25T10:05:00.000Z',
        },
  totals: {
    wall_ms: 1234,
    working_ms: 1200,
    harness_ms: 1000,
    verify_ms: 200,
    tool_calls: toolCalls,
    turns: toolCalls,
    usage: { input: 0, cached: 0, cache_write: 0, output: 0, reasoning: 0 },
    cost_usd: 0.25,
  },
  reason: 'done',
});

/** Open a rollout's trajectory writer; with `store`, every append is indexed live, as the runner does. */
export function openWriter(layout: Layout, experimentId: string, rolloutId: string, store?: Store, pending?: Promise<void>[]) {
  const w = new TrajectoryWriter(layout.trajectory(experimentId, rolloutId), { fsync: false });
  if (store) w.onEvent((e, where) => pending!.push(store.applyEvent(experimentId, rolloutId, w.file, e, where)));
  return w;
}

/** Append a whole rollout: start, `steps` tool call/result pairs, then (optionally) grade and finish. */
export function writeRollout(w: TrajectoryWriter, s: RolloutSpec, steps: number, end: 'finish' | 'none' = 'finish'): void {
  w.append(started(s));
  for (let i = 0; i < steps; i++) {
    w.append(toolCall(i));
    w.append(toolResult(i));
  }
  if (end === 'finish') {
    w.append(verified(1, true));
    w.append(finished('completed', 1, steps));
  }
}

/** Every row of every table (internal columns included), in a stable order. */
export function dump(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const experiments = (db.prepare('SELECT * FROM experiments ORDER BY id').all() as { record: string }[]).map((r) => ({
      ...r,
      record: JSON.parse(r.record) as unknown,
    }));
    return {
      experiments,
      rollouts: db.prepare('SELECT * FROM rollouts ORDER BY experiment_id, rollout_id').all(),
      scores: db.prepare('SELECT * FROM scores ORDER BY experiment_id, rollout_id, seq').all(),
      events: db
        .prepare(
          `SELECT t.experiment_id, t.rollout_id, e.seq, et.name AS type, e.line_offset, e.line_length
           FROM event_index e JOIN trajectories t ON t.rk = e.rk JOIN event_types et ON et.code = e.type
           ORDER BY t.experiment_id, t.rollout_id, e.seq`,
        )
        .all(),
    };
  } finally {
    db.close();
  }
}
