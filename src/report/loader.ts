// The report's I/O: reads rows from the store and summaries from each rollout's JSONL log. The
// aggregation modules stay pure; this is the only report module that touches the disk.
import fs from 'node:fs';
import { UserError } from '../core/errors.js';
import type { TrajectoryEvent } from '../core/events.js';
import type { EventIndexRow, ExperimentRow, RolloutRow, Store } from '../store/store.js';
import { parseTrajectory } from '../store/trajectory.js';
import type { ExperimentData } from './aggregate.js';
import { summarize, type RolloutSummary } from './summary.js';

/** Summaries keyed by trajectory path, reused while the file's size and mtime are unchanged. */
const cache = new Map<string, { size: number; mtimeMs: number; summary: RolloutSummary }>();

export function summarizeFile(rolloutId: string, file: string): RolloutSummary | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return null;
  }
  const hit = cache.get(file);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.summary;
  const read = parseTrajectory(fs.readFileSync(file));
  const summary = summarize(rolloutId, read.events);
  cache.set(file, { size: st.size, mtimeMs: st.mtimeMs, summary });
  return summary;
}

export async function loadExperiment(store: Store, experiment: ExperimentRow): Promise<ExperimentData> {
  const rollouts = await store.listRollouts(experiment.id);
  const summaries = new Map<string, RolloutSummary>();
  for (const r of rollouts) {
    if (!r.trajectory || r.events === 0) continue;
    const s = summarizeFile(r.rollout_id, r.trajectory);
    if (s) summaries.set(r.rollout_id, s);
  }
  return { experiment, rollouts, summaries };
}

export async function requireExperiment(store: Store, id: string): Promise<ExperimentRow> {
  const e = await store.getExperiment(id);
  if (!e) throw new UserError(`no experiment "${id}" (see \`outlast list\`)`);
  return e;
}

export async function findRollout(store: Store, experimentId: string, rolloutId: string): Promise<RolloutRow | null> {
  return (await store.listRollouts(experimentId)).find((r) => r.rollout_id === rolloutId) ?? null;
}

/**
 * Read the events of index rows from their JSONL file: one positioned read covering the rows
 * (they are consecutive lines when paging by seq), then each line cut out by offset and length.
 */
export function readEventLines(file: string, rows: readonly EventIndexRow[]): TrajectoryEvent[] {
  if (rows.length === 0) return [];
  const start = Math.min(...rows.map((r) => r.offset));
  const end = Math.max(...rows.map((r) => r.offset + r.length));
  const fd = fs.openSync(file, 'r');
  try {
    // Rows far apart (e.g. filtered by type) are read one by one instead of as one span.
    const span = end - start;
    const total = rows.reduce((n, r) => n + r.length, 0);
    if (span <= Math.max(total * 4, 1 << 20)) {
      const buf = Buffer.allocUnsafe(span);
      fs.readSync(fd, buf, 0, span, start);
      return rows.map((r) => JSON.parse(buf.toString('utf8', r.offset - start, r.offset - start + r.length)) as TrajectoryEvent);
    }
    return rows.map((r) => {
      const buf = Buffer.allocUnsafe(r.length);
      fs.readSync(fd, buf, 0, r.length, r.offset);
      return JSON.parse(buf.toString('utf8')) as TrajectoryEvent;
    });
  } finally {
    fs.closeSync(fd);
  }
}
