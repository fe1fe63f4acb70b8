// `outlast rebuild`: re-derive the database from experiment.json files and trajectory logs.
import type { Command } from 'commander';
import { rebuild } from '../store/rebuild.js';
import { layoutFor, withStore } from './common.js';

export function register(program: Command): void {
  program
    .command('rebuild')
    .description('rebuild the database (outlast.db) from the experiment files and trajectory logs, which are the source of truth')
    .action(async () => {
      const layout = layoutFor(program.opts());
      await withStore(layout, async (store) => {
        const report = await rebuild(layout, store);
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      });
    });
}
