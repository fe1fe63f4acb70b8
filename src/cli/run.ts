// `outlast run <task-or-suite-dir>...`: an experiment of tasks × harnesses × repeats.
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import type { SandboxMode, Task } from '../core/types.js';
import { harnessNames, createHarness } from '../harnesses/index.js';
import { createExperiment, defaultConcurrency } from '../runner/experiment.js';
import type { RolloutResult } from '../runner/rollout.js';
import { createSandbox } from '../sandbox/index.js';
import { discoverTasks } from '../tasks/discover.js';
import { EXIT, layoutFor, positiveInt, sandboxMode, withStore } from './common.js';
import { executeExperiment } from './execute.js';
import { rolloutTable } from './show.js';

export interface LoadedTasks {
  tasks: Task[];
  byName: Map<string, Task>;
}

/** Load tasks from the command line's paths, reporting skipped ones (e.g. GPU tasks without a GPU). */
export async function loadTasksFromArgs(paths: string[]): Promise<LoadedTasks> {
  const { tasks, skipped } = await discoverTasks(paths);
  for (const s of skipped) process.stderr.write(`outlast: skipping ${s.dir}: ${s.reason}\n`);
  if (tasks.length === 0) throw new UserError('no runnable tasks among the given paths');
  return { tasks, byName: new Map(tasks.map((t) => [t.name, t])) };
}

export function parseHarnesses(v: string, prev: string[] | undefined): string[] {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) createHarness(n); // fails with the list of known harnesses
  return [...(prev ?? []), ...names];
}

export function summarize(results: RolloutResult[]): { line: string; problems: number } {
  const finished = results.filter((r) => !r.interrupted);
  const passed = finished.filter((r) => r.score?.passed).length;
  const problems = finished.filter((r) => r.outcome === 'infra_error' || r.outcome === 'task_error').length;
  return { line: `${finished.length} rollouts finished: ${passed} passed, ${finished.length - passed} failed${problems ? ` (${problems} infra/task errors)` : ''}`, problems };
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run an experiment: every task × every harness × repeats, graded by each task\'s verifier')
    .argument('<paths...>', 'task directories (holding task.toml) or suite directories containing tasks')
    .option('-H, --harness <names>', `harness(es), comma-separated or repeated: ${harnessNames().join(', ')} (default: oracle)`, parseHarnesses)
    .option('-r, --repeats <n>', 'rollouts per task × harness', positiveInt('--repeats'), 1)
    .option('-c, --concurrency <n>', 'rollouts at once (default: number of cores)', positiveInt('--concurrency'))
    .option('--sandbox <mode>', 'bwrap (default) or none (unsandboxed, for development; recorded as such)', sandboxMode, 'bwrap' as SandboxMode)
    .addHelpText(
      'after',
      '\nResults go to the home directory (--home, $OUTLAST_HOME, default ./.outlast): experiment.json,\none trajectory.jsonl per rollout, and the outlast.db index. See them again with `outlast show`.\n\nExit codes: 0 all rollouts finished (whatever their scores), 1 some ended in infra_error or task_error,\n2 bad input, 3 internal error, 130 interrupted (continue with `outlast resume`).',
    )
    .action(async (paths: string[], opts: { harness?: string[]; repeats: number; concurrency?: number; sandbox: SandboxMode }) => {
      const sandbox = await createSandbox(opts.sandbox);
      const { tasks, byName } = await loadTasksFromArgs(paths);
      const layout = layoutFor(program.opts());
      const harnesses = [...new Set(opts.harness ?? ['oracle'])];
      const concurrency = opts.concurrency ?? defaultConcurrency();
      const code = await withStore(layout, async (store) => {
        const record = await createExperiment(layout, store, { tasks, harnesses, repeats: opts.repeats, concurrency, sandbox: opts.sandbox, argv: process.argv.slice(2) });
        const { results, interrupted } = await executeExperiment({ layout, store, record, tasks: byName, sandbox, concurrency });
        process.stdout.write(`\nexperiment ${record.id}\n\n${rolloutTable(await store.listRollouts(record.id))}\n\n`);
        const s = summarize(results);
        process.stdout.write(s.line + '\n');
        if (interrupted) return EXIT.interrupted;
        return s.problems ? EXIT.failures : EXIT.ok;
      });
      process.exitCode = code;
    });
}
