// Runs an experiment from the CLI: live progress, and Ctrl-C stops every rollout cleanly (sandboxes
// killed, rollouts left unfinished for `outlast resume`). A second Ctrl-C exits at once.
import type { Task } from '../core/types.js';
import { runExperiment } from '../runner/experiment.js';
import type { RolloutResult } from '../runner/rollout.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { Layout } from '../store/layout.js';
import type { ExperimentRecord, Store } from '../store/store.js';
import { Progress } from './progress.js';

export interface Executed {
  results: RolloutResult[];
  interrupted: boolean;
}

export async function executeExperiment(opts: {
  layout: Layout;
  store: Store;
  record: ExperimentRecord;
  tasks: Map<string, Task>;
  sandbox: Sandbox;
  concurrency: number;
  retryInfra?: boolean;
}): Promise<Executed> {
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) process.exit(130);
    process.stderr.write(`\noutlast: ${sig} received, stopping rollouts (they can be continued with \`outlast resume ${opts.record.id}\`)\n`);
    stop.abort(new Error(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = new Progress(opts.record.rollouts.length);
  process.stderr.write(`experiment ${opts.record.id}: ${opts.record.rollouts.length} rollouts, concurrency ${opts.concurrency}, sandbox ${opts.sandbox.mode}${opts.sandbox.unsandboxed ? ' (UNSANDBOXED)' : ''}\n`);
  try {
    const results = await runExperiment({ ...opts, signal: stop.signal, progress });
    return { results, interrupted: stop.signal.aborted };
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
