// The messages between an experiment's runner and its worker processes (src/runner/pool/). Plain
// data: a worker rebuilds what it needs (tasks from their directories, the harness from its name
// and settings, its own gateway and sandbox) from these. Pure types and two helpers; no I/O.
import type { TrajectoryEvent } from '../../core/events.js';
import { DiskFull } from '../../core/errors.js';
import type { RolloutSpec, SandboxMode } from '../../core/types.js';
import type { ExperimentRecord } from '../../store/store.js';
import type { RolloutResult } from '../rollout.js';

export interface InitMessage {
  type: 'init';
  home: string;
  sandbox: SandboxMode;
  record: ExperimentRecord;
  /** Task name → directory and the hash the runner loaded (the worker checks it loads the same). */
  tasks: Record<string, { dir: string; hash: string }>;
  /** Continue rollouts that ended infra_error (RolloutContext.retryInfra). */
  retryInfra?: boolean;
}

export interface RunMessage {
  type: 'run';
  spec: RolloutSpec;
  harness: string;
}

export interface AbortMessage {
  type: 'abort';
  rollout_id: string;
  reason: string;
}

export type ToWorker = InitMessage | RunMessage | AbortMessage;

/** An Error as plain data (a DiskFull keeps its fields, so the runner can stop the experiment with it). */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  disk?: { path: string; needed_bytes: number; free_bytes: number | null; code: string };
}

export type WireResult = Omit<RolloutResult, 'halted'> & { halted?: ErrorData };

export type FromWorker =
  | { type: 'ready' }
  /** The events appended since the last message, in order (one message per turn of the worker's loop). */
  | { type: 'events'; events: { rollout_id: string; event: TrajectoryEvent }[] }
  | { type: 'result'; rollout_id: string; result: WireResult }
  | { type: 'failed'; rollout_id: string; error: ErrorData }
  | { type: 'fatal'; error: ErrorData };

export function toData(e: unknown): ErrorData {
  const err = e instanceof Error ? e : new Error(String(e));
  const d: ErrorData = { name: err.name, message: err.message, stack: err.stack };
  if (err instanceof DiskFull) d.disk = { path: err.path, needed_bytes: err.needed_bytes, free_bytes: err.free_bytes, code: err.code };
  return d;
}

export function fromData(d: ErrorData): Error {
  const err = d.disk ? new DiskFull(d.disk) : new Error(d.message);
  if (!d.disk) err.name = d.name;
  if (d.stack) err.stack = d.stack;
  return err;
}
