// The scripted model in a worker thread: its own event loop, heap and garbage collector, like an
// upstream on another machine, so that a benchmark of a long rollout measures outlast and not the test
// double (which parses every request it is sent). The script is a module path or JSONL file, loaded
// in the worker as `outlast scripted-model --script` loads it; its busy time is shared memory the
// caller reads at any moment. The worker runs the compiled server (dist/): from sources run by the
// test runner it is taken from the build.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ScriptedModelOptions } from './types.js';

export interface ScriptedModelThread {
  url: string;
  port: number;
  /** ScriptedModel.busyMs of the server in the thread. */
  readonly busyMs: number;
  close(): Promise<void>;
}

export type ThreadOptions = Omit<ScriptedModelOptions, 'script' | 'busy'> & {
  /** A `.jsonl` script or a `.js`/`.mjs` policy module (its default export). */
  script: string;
  /** Environment of the thread (the policy module may read it), on top of this process's. */
  env?: Record<string, string>;
};

/** The compiled worker entry next to this module, or the build's copy when this module runs from source. */
function entry(): URL {
  const here = new URL('./thread-entry.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return here;
  const built = new URL('../../../dist/src/models/scripted/thread-entry.js', import.meta.url);
  if (!fs.existsSync(fileURLToPath(built))) throw new Error('the scripted model thread runs the built server: run `npx tsc -p tsconfig.json` first');
  return built;
}

export async function startScriptedModelThread(o: ThreadOptions): Promise<ScriptedModelThread> {
  const busy = new Float64Array(new SharedArrayBuffer(8));
  const { env, ...options } = o;
  const worker = new Worker(entry(), { workerData: { options, busy }, env: { ...process.env, ...(env ?? {}) } });
  const started = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    worker.once('message', (m: { url?: string; port?: number; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m as { url: string; port: number })));
    worker.once('error', reject);
  });
  let closed: Promise<void> | undefined;
  return {
    ...started,
    get busyMs() {
      return busy[0]!;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.postMessage('close');
      });
      return closed;
    },
  };
}
