// `outlast resume [experiment]`: continue every unfinished rollout (of one experiment, or of all).
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import type { Task } from '../core/types.js';
import { readExperiment } from '../runner/experiment.js';
import { createSandbox } from '../sandbox/index.js';
import { loadTask } from '../tasks/load.js';
import { catchUp } from '../store/rebuild.js';
import type { Layout } from '../store/layout.js';
import { EXIT, layoutFor, positiveInt, withStore } from './common.js';
import { executeExperiment } from './execute.js';
import { summarize } from './run.js';
import { rolloutTable } from './show.js';

export function register(program: Command): void {
  program
    .command('resume')
    .description('continue every unfinished rollout from its log, and those that ended infra_error (default: of every experiment that has one)')
    .argument('[experiment]', 'experiment id')
    .option('-c, --concurrency <n>', 'rollouts at once (default: the experiment\'s own)', positiveInt('--concurrency'))
    .option('--workers <n>', 'worker processes that run the rollouts (default: one per core from 8 concurrent rollouts up, else 1)', positiveInt('--workers'))
    .option('--no-retry-infra', 'leave rollouts that ended infra_error as they are (continue only unfinished ones)')
    .action(async (id: string | undefined, opts: { concurrency?: number; workers?: number; retryInfra: boolean }) => {
      const layout = layoutFor(program.opts());
      process.exitCode = await withStore(layout, async (store) => {
        // The files are the source of truth: index what a crash left unindexed before deciding what is unfinished.
        const caught = await catchUp(layout, store, id);
        for (const s of caught.skipped) process.stderr.write(`outlast: not resumable: ${s.reason}\n`);
        let exps = id ? [await store.getExperiment(id)] : await store.listExperiments();
        if (id && !exps[0]) {
          const stopped = caught.skipped.find((s) => s.file === layout.experimentFile(id));
          throw new UserError(stopped ? `nothing to resume in experiment "${id}": ${stopped.reason}` : `no experiment "${id}" under ${layout.experimentsDir} (see \`outlast list\`)`);
        }
        const known = exps.length;
        // infra_error is not a result (the infrastructure failed, not the agent): continued unless told not to.
        const infra = async (e: string): Promise<boolean> => opts.retryInfra && (await store.listRollouts(e)).some((r) => r.outcome === 'infra_error');
        const todo = [];
        for (const e of exps) if (e && (e.finished < e.rollouts || (await infra(e.id)))) todo.push(e);
        exps = todo;
        if (exps.length === 0) {
          process.stdout.write(`${nothingToResume(layout, known, caught.skipped.length)}${opts.retryInfra ? '' : ' (rollouts that ended infra_error are left as they are: --no-retry-infra)'}\n`);
          return EXIT.ok;
        }
        let code: number = EXIT.ok;
        for (const e of exps) {
          const record = readExperiment(layout, e!.id);
          const tasks = new Map<string, Task>();
          for (const t of record.tasks) {
            const task = await loadTask(t.dir);
            if (task.hash !== t.hash) throw new UserError(`task ${t.name} (${t.dir}) changed since experiment ${record.id} started (${t.hash} → ${task.hash}); resuming would mix two versions of it`);
            tasks.set(t.name, task);
          }
          const sandbox = await createSandbox(record.sandbox);
          const { results, interrupted, halted } = await executeExperiment({ layout, store, record, tasks, sandbox, concurrency: opts.concurrency ?? record.concurrency, workers: opts.workers, retryInfra: opts.retryInfra });
          process.stdout.write(`\nexperiment ${record.id}\n\n${rolloutTable(await store.listRollouts(record.id))}\n\n${summarize(results).line}\n`);
          if (halted) {
            process.stderr.write(`outlast: ${halted}\n`);
            return EXIT.storage;
          }
          if (interrupted) return EXIT.interrupted;
          if (summarize(results).problems) code = EXIT.failures;
        }
        return code;
      });
    });
}

/** Why there is nothing to resume, in one line with the place looked in. */
export function nothingToResume(layout: Layout, experiments: number, unplanned: number): string {
  const where = layout.experimentsDir;
  const stopped = unplanned ? `; ${unplanned} experiment director${unplanned === 1 ? 'y was' : 'ies were'} stopped before writing a plan (experiment.json), with nothing to continue` : '';
  if (experiments === 0) return `nothing to resume: no experiment under ${where}${stopped}`;
  return `nothing to resume: every rollout of the ${experiments} experiment${experiments === 1 ? '' : 's'} under ${where} has finished${stopped}`;
}
