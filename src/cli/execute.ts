// Runs an experiment from the CLI: live progress, and Ctrl-C stops every rollout cleanly (sandboxes
// killed, rollouts left unfinished for `outlast resume`). A second Ctrl-C exits at once. A full disk
// stops them the same way (`halted`: the CLI prints its one line and exits EXIT.storage).
import { oneLine } from '../core/errors.js';
import type { Task } from '../core/types.js';
import { defaultWorkers, runExperiment } from '../runner/experiment.js';
import type { RolloutResult } from '../runner/rollout.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { Layout } from '../store/layout.js';
import type { ExperimentRecord, Store } from '../store/store.js';
import { Progress } from './progress.js';

export interface Executed {
  results: RolloutResult[];
  interrupted: boolean;
  /** What halted the run when its storage failed (a full disk), as one line with what to do; null otherwise. */
  halted: string | null;
}

export async function executeExperiment(opts: {
  layout: Layout;
  store: Store;
  record: ExperimentRecord;
  tasks: Map<string, Task>;
  sandbox: Sandbox;
  concurrency: number;
  /** Worker processes (default: defaultWorkers(concurrency)). */
  workers?: number;
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
  const workers = opts.workers ?? defaultWorkers(opts.concurrency);
  process.stderr.write(`experiment ${opts.record.id}: ${opts.record.rollouts.length} rollouts, concurrency ${opts.concurrency}${workers > 1 ? ` in ${workers} worker processes` : ''}, sandbox ${opts.sandbox.mode}${opts.sandbox.unsandboxed ? ' (UNSANDBOXED)' : ''}\n`);
  try {
    const results = await runExperiment({ ...opts, workers, signal: stop.signal, progress });
    const halt = results.find((r) => r.halted)?.halted;
    const halted = halt ? `${oneLine(halt.message)}; nothing recorded is lost: free space there, then \`outlast resume ${opts.record.id}\` continues` : null;
    return { results, interrupted: stop.signal.aborted || halted !== null, halted };
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
