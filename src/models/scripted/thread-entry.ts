// The worker side of thread.ts: load the script, start the scripted model with its busy time in the
// shared buffer, say where it listens, and close it when asked.
import { parentPort, workerData } from 'node:worker_threads';
import { loadScript } from './script.js';
import { startScriptedModel } from './server.js';
import type { ScriptedModelOptions } from './types.js';

const { options, busy } = workerData as { options: Omit<ScriptedModelOptions, 'script'> & { script: string }; busy: Float64Array };

try {
  const script = await loadScript(options.script);
  const sm = await startScriptedModel({ ...options, script, busy });
  parentPort!.on('message', (m) => {
    if (m === 'close') void sm.close().then(() => process.exit(0));
  });
  parentPort!.postMessage({ url: sm.url, port: sm.port });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
