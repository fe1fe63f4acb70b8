// `outlast check <task...>`: is each task sound? Its oracle must pass and nop must fail.
import type { Command } from 'commander';
import type { SandboxMode } from '../core/types.js';
import { createExperiment, defaultConcurrency } from '../runner/experiment.js';
import { createSandbox } from '../sandbox/index.js';
import { EXIT, layoutFor, positiveInt, sandboxMode, withStore } from './common.js';
import { executeExperiment } from './execute.js';
import { loadTasksFromArgs } from './run.js';
import { formatScore, renderTable } from '../report/plain-table.js';

export function register(program: Command): void {
  program
    .command('check')
    .description('check tasks: the oracle must pass and nop must fail; reports broken tasks')
    .argument('<paths...>', 'task directories or suite directories')
    .option('-c, --concurrency <n>', 'rollouts at once (default: number of cores)', positiveInt('--concurrency'))
    .option('--sandbox <mode>', 'bwrap (default) or none', sandboxMode, 'bwrap' as SandboxMode)
    .addHelpText('after', '\nExit codes: 0 every task is sound, 1 some task is broken, 2 bad input, 3 internal error.')
    .action(async (paths: string[], opts: { concurrency?: number; sandbox: SandboxMode }) => {
      const sandbox = await createSandbox(opts.sandbox);
      const { tasks, byName } = await loadTasksFromArgs(paths);
      const layout = layoutFor(program.opts());
      const concurrency = opts.concurrency ?? defaultConcurrency();
      process.exitCode = await withStore(layout, async (store) => {
        const record = await createExperiment(layout, store, { tasks, harnesses: ['oracle', 'nop'], repeats: 1, concurrency, sandbox: opts.sandbox, argv: process.argv.slice(2) });
        const { results, interrupted } = await executeExperiment({ layout, store, record, tasks: byName, sandbox, concurrency });
        if (interrupted) return EXIT.interrupted;
        const byId = new Map(results.map((r) => [r.rollout_id, r]));
        let broken = 0;
        const rows = tasks.map((t) => {
          const find = (h: string) => byId.get(record.rollouts.find((r) => r.task === t.name && r.harness === h)!.rollout_id);
          const oracle = find('oracle');
          const nop = find('nop');
          const problems: string[] = [];
          if (!oracle?.score?.passed) problems.push(`oracle fails (${oracle?.outcome}: ${oracle?.reason})`);
          if (nop?.score?.passed) problems.push('nop passes: the verifier passes an untouched workspace');
          if (problems.length) broken++;
          const cell = (r: typeof oracle) => `${r?.score?.passed ? 'pass' : 'fail'} ${formatScore(r?.score?.value)}`;
          return [t.name, cell(oracle), cell(nop), problems.length ? `BROKEN: ${problems.join('; ')}` : 'ok'];
        });
        process.stdout.write(`\nexperiment ${record.id}\n\n${renderTable(['task', 'oracle', 'nop', 'verdict'], rows)}\n\n`);
        process.stdout.write(broken ? `${broken} of ${tasks.length} tasks broken\n` : `all ${tasks.length} tasks sound\n`);
        return broken ? EXIT.failures : EXIT.ok;
      });
    });
}
