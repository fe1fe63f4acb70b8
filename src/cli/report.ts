// `outlast report [experiment]`: the leaderboard of an experiment as a terminal table, JSON
// (schema: docs/report-format.md, src/report/schema.ts) or a single self-contained HTML file.
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '../core/errors.js';
import { buildReport } from '../report/aggregate.js';
import { renderByHarnessTable } from '../report/cross-harness-table.js';
import { renderReportHtml } from '../report/html.js';
import { loadExperiment, requireExperiment } from '../report/loader.js';
import type { Report } from '../report/schema.js';
import { renderReportTable } from '../report/table.js';
import { layoutFor, resolveExperiment, withStore } from './common.js';

type Format = 'table' | 'json' | 'html';

function format(v: string): Format {
  if (v !== 'table' && v !== 'json' && v !== 'html') throw new InvalidArgumentError(`must be table, json or html, got "${v}"`);
  return v;
}

function by(v: string): 'harness' {
  if (v !== 'harness') throw new InvalidArgumentError(`can only be harness (the same model and tasks across harnesses), got "${v}"`);
  return v;
}

function wholeNumber(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}, got "${v}"`);
    return n;
  };
}

interface Opts {
  format: Format;
  out?: string;
  includeInfra?: boolean;
  compare?: string;
  resamples: number;
  seed: number;
  by?: 'harness';
}

/** `--by harness` needs some model that ran through two harnesses or more. */
function requireSeveralHarnesses(id: string, report: Report): void {
  const blocks = report.by_harness ?? [];
  if (blocks.some((b) => b.harnesses.length > 1)) return;
  if (blocks.length === 0) throw new UserError(`experiment ${id} has no rollouts: nothing to compare across harnesses`);
  const ran = blocks.map((b) => `${b.model ?? 'no model'}: ${b.harnesses.join(', ')}`).join('; ');
  throw new UserError(`experiment ${id} ran one harness per model (${ran}): --by harness compares two or more harnesses on the same model and tasks (run them with --harness a,b)`);
}

export function register(program: Command): void {
  program
    .command('report')
    .description('report an experiment: scores with confidence intervals, pass@k, outcomes, endurance, tokens and cost, latency, flags, provenance')
    .argument('[experiment]', 'experiment id (default: the latest)')
    .option('--format <format>', 'table, json or html', format, 'table')
    .option('--out <file>', 'write to this file instead of standard output (html defaults to report-<experiment>.html)')
    .option('--include-infra', 'count rollouts that ended in infra_error in the scores (excluded by default)')
    .option('--compare <experiment>', 'paired deltas against another experiment on the same tasks (delta = this − other)')
    .option('--resamples <n>', 'bootstrap resamples for confidence intervals', wholeNumber('--resamples', 0), 2000)
    .option('--seed <n>', 'seed of the bootstrap (same seed, same intervals)', wholeNumber('--seed', 0), 1)
    .option('--by <dimension>', 'harness: cross-harness consistency of the same model and tasks (per-harness scores, spread, rank stability, agreement, cost differences), per model', by)
    .action(async (id: string | undefined, opts: Opts) => {
      await withStore(layoutFor(program.opts()), async (store) => {
        const exp = await resolveExperiment(store, id);
        const data = await loadExperiment(store, exp);
        let compare;
        if (opts.compare) {
          if (opts.compare === exp.id) throw new UserError('--compare names the same experiment as the report');
          compare = await loadExperiment(store, await requireExperiment(store, opts.compare));
        }
        const byHarness = opts.by === 'harness';
        const report = buildReport(data, { includeInfra: !!opts.includeInfra, compare, resamples: opts.resamples, seed: opts.seed, byHarness });
        if (byHarness) requireSeveralHarnesses(exp.id, report);
        const table = byHarness ? renderByHarnessTable : renderReportTable;
        const text = opts.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : opts.format === 'html' ? renderReportHtml(report) : table(report) + '\n';
        const out = opts.out ?? (opts.format === 'html' ? `report-${exp.id}.html` : undefined);
        if (out) {
          const file = path.resolve(out);
          fs.mkdirSync(path.dirname(file), { recursive: true });
          fs.writeFileSync(file, text);
          process.stderr.write(`wrote ${file}\n`);
        } else process.stdout.write(text);
      });
    });
}
