// Writing exports to disk: one file per rollout (ATIF JSON or OTLP/JSON spans) plus an index.
import fs from 'node:fs';
import path from 'node:path';
import type { ExperimentRow, Store } from '../../store/store.js';
import { readTrajectory } from '../../store/trajectory.js';
import { toAtif } from './atif.js';
import { toOtel } from './otel.js';

export type ExportFormat = 'atif' | 'otel';

export interface ExportResult {
  dir: string;
  format: ExportFormat;
  files: { rollout_id: string; file: string; events: number }[];
  skipped: { rollout_id: string; reason: string }[];
}

function readInstruction(dir: string | undefined): string | null {
  if (!dir) return null;
  try {
    return fs.readFileSync(path.join(dir, 'instruction.md'), 'utf8');
  } catch {
    return null;
  }
}

/** File-name-safe form of an id. */
function safe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

export async function exportExperiment(store: Store, exp: ExperimentRow, format: ExportFormat, outDir: string): Promise<ExportResult> {
  fs.mkdirSync(outDir, { recursive: true });
  const result: ExportResult = { dir: outDir, format, files: [], skipped: [] };
  const taskDirs = new Map(exp.record.tasks.map((t) => [t.name, t.dir]));
  for (const r of await store.listRollouts(exp.id)) {
    if (!r.trajectory || !fs.existsSync(r.trajectory)) {
      result.skipped.push({ rollout_id: r.rollout_id, reason: r.status === 'pending' ? 'not started' : 'trajectory file missing' });
      continue;
    }
    const { events } = readTrajectory(r.trajectory);
    const doc = format === 'atif' ? toAtif(events, { instruction: readInstruction(taskDirs.get(r.task)) }) : toOtel(events);
    const file = path.join(outDir, `${safe(r.rollout_id)}.${format}.json`);
    fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
    result.files.push({ rollout_id: r.rollout_id, file, events: events.length });
  }
  fs.writeFileSync(
    path.join(outDir, `index.${format}.json`),
    JSON.stringify({ experiment: exp.id, format, files: result.files.map((f) => ({ rollout_id: f.rollout_id, file: path.basename(f.file), events: f.events })), skipped: result.skipped }, null, 2) + '\n',
  );
  return result;
}
