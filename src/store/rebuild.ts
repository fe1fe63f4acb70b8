// `outlast rebuild`: re-derive every store row from the files on disk (experiment.json and
// trajectory.jsonl are the source of truth). Broken inputs are reported, never fatal: a bad
// experiment.json skips that experiment, a torn last line or a bad line skips that line.
import fs from 'node:fs';
import path from 'node:path';
import { isUserError } from '../core/errors.js';
import type { Layout } from './layout.js';
import { parseExperimentRecord } from './record.js';
import type { ExperimentRecord, Store } from './store.js';
import { readTrajectory, readTrajectoryFrom } from './trajectory.js';

export interface RebuildProgress {
  experiment: string;
  rollout: string;
  /** Rollouts with a trajectory indexed so far, and how many there are in all. */
  done: number;
  total: number;
  /** Events indexed so far. */
  events: number;
}

export interface RebuildReport {
  experiments: number;
  /** Rollouts whose trajectory was indexed (planned rollouts without a trajectory stay pending). */
  rollouts: number;
  events: number;
  /** Torn last lines (a write cut short by a crash): not indexed; the next writer cuts them off. */
  torn: { file: string; line: number; bytes: number; reason: string }[];
  /** Unparseable lines before the last one (should never happen): not indexed. */
  bad: { file: string; line: number; reason: string }[];
  /** Files that could not be used at all, e.g. a broken experiment.json (its experiment is skipped). */
  skipped: { file: string; reason: string }[];
  ms: number;
}

interface Plan {
  record: ExperimentRecord;
  /** Rollout ids with a trajectory file: the planned ones first, then any others found on disk. */
  rollouts: string[];
}

/** Clear `store` and re-derive it from the experiments under `layout`. */
export async function rebuild(layout: Layout, store: Store, onProgress?: (p: RebuildProgress) => void): Promise<RebuildReport> {
  const started = performance.now();
  const report: RebuildReport = { experiments: 0, rollouts: 0, events: 0, torn: [], bad: [], skipped: [], ms: 0 };
  const plans = scan(layout, report);
  const total = plans.reduce((n, p) => n + p.rollouts.length, 0);

  const derive = async (): Promise<void> => {
    await store.clear();
    let done = 0;
    for (const plan of plans) await indexPlan(layout, store, plan, report, (rollout) => onProgress?.({ experiment: plan.record.id, rollout, done: ++done, total, events: report.events }));
  };
  if (store.atomically) await store.atomically(derive);
  else await derive();
  report.ms = Math.round(performance.now() - started);
  return report;
}

/** Index one experiment and its trajectories into the store (idempotent: rows already there stay). */
async function indexPlan(layout: Layout, store: Store, { record, rollouts }: Plan, report: RebuildReport, indexed?: (rolloutId: string) => void): Promise<void> {
  await store.putExperiment(record);
  report.experiments++;
  for (const rolloutId of rollouts) {
    const file = layout.trajectory(record.id, rolloutId);
    let read;
    try {
      read = readTrajectory(file);
    } catch (e) {
      report.skipped.push({ file, reason: (e as Error).message });
      continue;
    }
    if (store.applyEvents) await store.applyEvents(record.id, rolloutId, file, read.events, read.positions);
    else for (let i = 0; i < read.events.length; i++) await store.applyEvent(record.id, rolloutId, file, read.events[i]!, read.positions[i]!);
    if (read.torn) report.torn.push({ file, ...read.torn });
    for (const b of read.bad) report.bad.push({ file, ...b });
    report.rollouts++;
    report.events += read.events.length;
    indexed?.(rolloutId);
  }
}

/**
 * Bring the store up to date with the files, without clearing it: an experiment whose
 * experiment.json was written but never indexed, and events appended to a log but not yet indexed
 * when the runner was killed, are indexed now. `outlast resume` runs this first, so it sees every
 * unfinished rollout the files show. `only` limits it to one experiment.
 *
 * It reads only what the store lacks: an experiment the store already has is not read again (its
 * experiment.json is written once, before anything runs), and a log is read only past the end of
 * its indexed part (the store's indexedEnds; a log whose size is that end is not opened at all).
 * With nothing new, that is one directory listing and one stat per rollout.
 */
export async function catchUp(layout: Layout, store: Store, only?: string): Promise<RebuildReport> {
  const started = performance.now();
  const report: RebuildReport = { experiments: 0, rollouts: 0, events: 0, torn: [], bad: [], skipped: [], ms: 0 };
  for (const id of subdirs(layout.experimentsDir)) {
    if (only !== undefined && id !== only) continue;
    let record = (await store.getExperiment(id))?.record;
    if (!record) {
      const plan = readPlan(layout, id, report);
      if (!plan) continue;
      record = plan;
      await store.putExperiment(record);
    }
    report.experiments++;
    const ends = await store.indexedEnds(id);
    const found = subdirs(path.join(layout.experimentDir(id), 'rollouts'));
    for (const rolloutId of new Set([...record.rollouts.map((r) => r.rollout_id), ...found])) {
      const file = layout.trajectory(id, rolloutId);
      const size = fs.statSync(file, { throwIfNoEntry: false })?.size;
      if (size === undefined) continue;
      const end = ends.get(rolloutId) ?? 0;
      if (size === end) continue; // indexed to its last line
      let read;
      try {
        // past the indexed end only; a log shorter than that was rewritten: all of it again
        read = readTrajectoryFrom(file, size > end ? end : 0);
      } catch (e) {
        report.skipped.push({ file, reason: (e as Error).message });
        continue;
      }
      if (read.events.length) {
        if (store.applyEvents) await store.applyEvents(id, rolloutId, file, read.events, read.positions);
        else for (let i = 0; i < read.events.length; i++) await store.applyEvent(id, rolloutId, file, read.events[i]!, read.positions[i]!);
      }
      if (read.torn) report.torn.push({ file, ...read.torn });
      for (const b of read.bad) report.bad.push({ file, ...b });
      report.rollouts++;
      report.events += read.events.length;
    }
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

/** An experiment's experiment.json, validated; null (with the reason in `report.skipped`) when it cannot be used. */
function readPlan(layout: Layout, id: string, report: RebuildReport): ExperimentRecord | null {
  const file = layout.experimentFile(id);
  let record: ExperimentRecord;
  try {
    record = parseExperimentRecord(fs.readFileSync(file, 'utf8'), file);
  } catch (e) {
    const reason = isUserError(e) ? e.message : (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${file}: missing (the run was stopped before it wrote its plan)` : String(e);
    report.skipped.push({ file, reason });
    return null;
  }
  if (record.id !== id) {
    report.skipped.push({ file, reason: `${file}: id "${record.id}" does not match its directory "${id}"` });
    return null;
  }
  return record;
}

/** Read and validate every experiment.json, and find each experiment's trajectory files. */
function scan(layout: Layout, report: RebuildReport): Plan[] {
  const plans: Plan[] = [];
  for (const id of subdirs(layout.experimentsDir)) {
    const record = readPlan(layout, id, report);
    if (!record) continue;
    const planned = record.rollouts.map((r) => r.rollout_id);
    const found = subdirs(path.join(layout.experimentDir(id), 'rollouts'));
    const ids = [...new Set([...planned, ...found])];
    plans.push({ record, rollouts: ids.filter((r) => fs.existsSync(layout.trajectory(id, r))) });
  }
  return plans;
}

/** Names of the subdirectories of `dir`, sorted; none when it does not exist. */
function subdirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
