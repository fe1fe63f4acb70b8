// `outlast export [experiment] --format atif|otel`: trajectories in formats other tools load
// (Harbor's ATIF, OpenTelemetry GenAI spans as OTLP/JSON). See docs/export-formats.md.
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { exportExperiment, type ExportFormat } from '../report/export/index.js';
import { layoutFor, resolveExperiment, withStore } from './common.js';

function format(v: string): ExportFormat {
  if (v !== 'atif' && v !== 'otel') throw new InvalidArgumentError(`must be atif or otel, got "${v}"`);
  return v;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export the trajectories of an experiment as Harbor ATIF JSON or OpenTelemetry GenAI spans (OTLP/JSON)')
    .argument('[experiment]', 'experiment id (default: the latest)')
    .requiredOption('--format <format>', 'atif or otel', format)
    .option('--out <dir>', 'output directory (default: export-<experiment>-<format>)')
    .action(async (id: string | undefined, opts: { format: ExportFormat; out?: string }) => {
      await withStore(layoutFor(program.opts()), async (store) => {
        const exp = await resolveExperiment(store, id);
        const dir = path.resolve(opts.out ?? `export-${exp.id}-${opts.format}`);
        const r = await exportExperiment(store, exp, opts.format, dir);
        process.stdout.write(`exported ${r.files.length} rollout(s) of ${exp.id} as ${opts.format} to ${dir}${r.skipped.length ? ` (${r.skipped.length} skipped: not started)` : ''}\n`);
      });
    });
}
