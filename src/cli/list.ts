// `outlast list`: the experiments in the store, newest first.
import type { Command } from 'commander';
import { layoutFor, withStore } from './common.js';
import { renderTable } from '../report/plain-table.js';

export function register(program: Command): void {
  program
    .command('list')
    .description('list experiments, newest first')
    .action(async () => {
      await withStore(layoutFor(program.opts()), async (store) => {
        const rows = await store.listExperiments();
        if (rows.length === 0) {
          process.stdout.write('no experiments yet: start one with `outlast run <task-dir>`\n');
          return;
        }
        process.stdout.write(
          renderTable(
            ['experiment', 'created', 'tasks', 'harnesses', 'finished'],
            rows.map((e) => [e.id, e.created_at, e.record.tasks.length, e.record.harnesses.join(','), `${e.finished}/${e.rollouts}`]),
          ) + '\n',
        );
      });
    });
}
