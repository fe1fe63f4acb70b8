// The runner side of the pool: N worker processes that each run many rollouts concurrently, so an
// experiment with many rollouts uses every core (one Node event loop per process: model-call
// relaying, spawns and appends of one rollout do not wait on another's). The runner keeps the queue,
// the exclusive gate and the progress display; a rollout is handed to the least busy worker. A
// worker that dies fails its rollouts' runs (the runner reports them; their logs stay resumable).
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrajectoryEvent } from '../../core/events.js';
import type { RolloutSpec } from '../../core/types.js';
import type { RolloutResult } from '../rollout.js';
import { type FromWorker, type InitMessage, fromData } from './protocol.js';

interface Pending {
  resolve(r: RolloutResult): void;
  reject(e: Error): void;
  onEvent?(e: TrajectoryEvent): void;
}

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  pending: Map<string, Pending>;
}

/** The compiled entry point (tests run from src/: the build's copy under dist/ is used). */
function entry(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return path.join(path.dirname(here), 'worker-main.js');
  const root = path.resolve(path.dirname(here), '../../..');
  return path.join(root, 'dist', 'src', 'runner', 'pool', 'worker-main.js');
}

export class WorkerPool {
  private readonly workers: Worker[] = [];

  constructor(n: number, init: InitMessage) {
    for (let i = 0; i < n; i++) this.workers.push(this.spawn(init));
  }

  private spawn(init: InitMessage): Worker {
    const child = fork(entry(), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const pending = new Map<string, Pending>();
    let ready!: () => void;
    let fatal!: (e: Error) => void;
    const w: Worker = { child, pending, ready: new Promise<void>((res, rej) => ((ready = res), (fatal = rej))) };
    w.ready.catch(() => {});
    child.on('message', (m: FromWorker) => {
      if (m.type === 'ready') ready();
      else if (m.type === 'fatal') fatal(fromData(m.error));
      else if (m.type === 'events') for (const e of m.events) pending.get(e.rollout_id)?.onEvent?.(e.event);
      else {
        const p = pending.get(m.rollout_id);
        pending.delete(m.rollout_id);
        if (m.type === 'failed') p?.reject(fromData(m.error));
        else p?.resolve({ ...m.result, halted: m.result.halted ? fromData(m.result.halted) : undefined });
      }
    });
    child.on('exit', (code, sig) => {
      const err = new Error(`worker process ${child.pid} exited (${sig ?? code}) with rollouts in flight`);
      fatal(err);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    child.send(init);
    return w;
  }

  /** Run one rollout on the least busy worker; `signal` stops it (unfinished, resumable). */
  async run(spec: RolloutSpec, harness: string, signal: AbortSignal, onEvent?: (e: TrajectoryEvent) => void): Promise<RolloutResult> {
    const w = this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    await w.ready;
    const id = spec.rollout_id;
    const result = new Promise<RolloutResult>((resolve, reject) => w.pending.set(id, { resolve, reject, onEvent }));
    const abort = () => w.child.connected && w.child.send({ type: 'abort', rollout_id: id, reason: String((signal.reason as Error)?.message ?? signal.reason ?? 'stopped') });
    signal.addEventListener('abort', abort, { once: true });
    w.child.send({ type: 'run', spec, harness });
    if (signal.aborted) abort();
    try {
      return await result;
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  /** Let the workers finish and exit. */
  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
            w.child.once('exit', () => resolve());
            w.child.disconnect();
          }),
      ),
    );
  }
}
