// `outlast show [experiment]`: one line per rollout of an experiment (the latest by default). The
// duration is summed over a rollout's attempts, and says how many there were when it was resumed.
// A rollout that was not graded (infra_error, task_error) says why, from its log's last event.
import type { Command } from 'commander';
import { oneLine } from '../core/errors.js';
import type { RolloutRow } from '../store/store.js';
import { lastFinished } from '../store/tail.js';
import { layoutFor, resolveExperiment, withStore, type HomeOptions } from './common.js';
import { formatDuration, formatScore, renderTable } from '../report/plain-table.js';

/** Why each rollout that was not graded (infra_error, task_error) ended, from the end of its log. */
export function withReasons(rows: RolloutRow[]): Array<RolloutRow & { reason: string | null }> {
  return rows.map((r) => ({ ...r, reason: r.status === 'finished' && r.trajectory ? (lastFinished(r.trajectory)?.reason ?? null) : null }));
}

/** The table of `rows`, then one line per rollout that was not graded, saying why. */
export function rolloutTable(rows: RolloutRow[]): string {
  const ungraded = withReasons(rows.filter((r) => r.outcome === 'infra_error' || r.outcome === 'task_error'));
  const why = ungraded.length ? `

not graded:
${ungraded.map((r) => `  ${r.rollout_id}  ${r.outcome}: ${oneLine(r.reason ?? '(no reason recorded)')}`).join('\n')}` : '';
  return table(rows) + why;
}

function table(rows: RolloutRow[]): string {
  return renderTable(
    ['task', 'harness', 'rep', 'outcome', 'score', 'pass', 'duration'],
    rows.map((r) => [
      r.task,
      r.harness,
      r.repeat,
      r.outcome ?? r.status,
      formatScore(r.score),
      r.passed === null ? '-' : r.passed ? 'yes' : 'no',
      formatDuration(r.wall_ms) + (r.attempts !== null && r.attempts > 1 ? ` (${r.attempts} attempts)` : ''),
    ]),
  );
}

export function register(program: Command): void {
  program
    .command('show')
    .description('show the rollouts of an experiment: task, harness, outcome, score, duration')
    .argument('[experiment]', 'experiment id (default: the latest)')
    .option('--json', 'print the rows as JSON')
    .action(async (id: string | undefined, opts: HomeOptions & { json?: boolean }) => {
      await withStore(layoutFor(program.opts()), async (store) => {
        const exp = await resolveExperiment(store, id);
        const rows = await store.listRollouts(exp.id);
        if (opts.json) {
          process.stdout.write(JSON.stringify({ experiment: exp.id, rollouts: withReasons(rows) }, null, 2) + '\n');
          return;
        }
        process.stdout.write(`experiment ${exp.id} (created ${exp.created_at}, ${exp.finished}/${exp.rollouts} finished)\n\n`);
        process.stdout.write(rolloutTable(rows) + '\n');
      });
    });
}
