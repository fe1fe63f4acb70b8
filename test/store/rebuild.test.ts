// rebuild: the database re-derived from the files must equal the one indexed live.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { catchUp, openStore, rebuild, type RebuildProgress } from '../../src/store/index.js';
import type { Layout } from '../../src/store/layout.js';
import type { Store } from '../../src/store/store.js';
import {
  dump,
  finished,
  makeRecord,
  note,
  openWriter,
  removeHome,
  spec,
  started,
  tempHome,
  toolCall,
  toolResult,
  verified,
  writeRecord,
  writeRollout,
} from './helpers.js';

let layout: Layout;
const open: Store[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  removeHome(layout);
});

async function storeAt(l: Layout): Promise<Store> {
  const s = await openStore(l);
  open.push(s);
  return s;
}

/**
 * Run two experiments the way the runner does (experiment.json, putExperiment, every append indexed
 * live): finished, resumed, failed, still-running, never-started and unplanned rollouts.
 */
async function runLive(l: Layout, store: Store): Promise<number> {
  const pending: Promise<void>[] = [];
  let events = 0;
  const a = makeRecord('exp-a', 4, '2026-11-25T10:00:00.000Z');
  const b = makeRecord('exp-b', 2, '2026-11-25T11:00:00.000Z');
  for (const rec of [a, b]) {
    writeRecord(l, rec);
    await store.putExperiment(rec);
  }
  const w = (rec: typeof a, rid: string) => openWriter(l, rec.id, rid, store, pending);

  let x = w(a, 'r000'); // finished, passed
  writeRollout(x, spec(a, 'r000'), 5);
  events += x.seq;
  x.close();

  x = w(a, 'r001'); // infra_error, then resumed by a new writer (as after a restart) and finished
  x.append(started(spec(a, 'r001')));
  x.append(toolCall(0));
  x.append(finished('infra_error', null, 0));
  x.close();
  x = w(a, 'r001');
  x.append(started(spec(a, 'r001'), true));
  x.append(toolCall(1));
  x.append(toolResult(1));
  x.append(verified(1, true));
  x.append(finished('completed', 1, 1));
  events += x.seq;
  x.close();

  x = w(a, 'r002'); // still running
  writeRollout(x, spec(a, 'r002'), 4, 'none');
  events += x.seq;
  x.close();
  // r003 never started: no trajectory, stays pending.

  x = w(b, 'r000'); // finished, failed
  x.append(started(spec(b, 'r000')));
  x.append(note('working'));
  x.append(verified(0, false));
  x.append(finished('gave_up', 0, 0));
  events += x.seq;
  x.close();
  x = w(b, 'r001');
  writeRollout(x, spec(b, 'r001'), 2);
  events += x.seq;
  x.close();

  x = w(b, 'stray'); // a rollout directory the plan does not list
  x.append(note('unplanned'));
  events += x.seq;
  x.close();

  await Promise.all(pending);
  return events;
}

describe('rebuild', () => {
  it('re-derives exactly the rows that live indexing produced', async () => {
    layout = tempHome();
    const store = await storeAt(layout);
    const events = await runLive(layout, store);
    const live = dump(layout.db);
    expect(live.rollouts).toHaveLength(7);

    const progress: RebuildProgress[] = [];
    const report = await rebuild(layout, store, (p) => progress.push(p));
    expect(dump(layout.db)).toEqual(live);
    expect(report).toMatchObject({ experiments: 2, rollouts: 6, events, torn: [], bad: [], skipped: [] });
    expect(progress.map((p) => [p.experiment, p.rollout, p.done, p.total])).toEqual([
      ['exp-a', 'r000', 1, 6],
      ['exp-a', 'r001', 2, 6],
      ['exp-a', 'r002', 3, 6],
      ['exp-b', 'r000', 4, 6],
      ['exp-b', 'r001', 5, 6],
      ['exp-b', 'stray', 6, 6],
    ]);
    expect(progress[5]!.events).toBe(events);
  });

  it('is all or nothing: a rebuild that fails half-way leaves the database as it was', async () => {
    layout = tempHome();
    const store = await storeAt(layout);
    await runLive(layout, store);
    const before = dump(layout.db);
    // Fail on the third rollout, after the store was cleared and two rollouts were re-derived.
    let n = 0;
    const failing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'applyEvents')
          return async (...args: Parameters<NonNullable<Store['applyEvents']>>) => {
            if (++n === 3) throw new Error('disk on fire');
            return target.applyEvents!(...args);
          };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    await expect(rebuild(layout, failing)).rejects.toThrow('disk on fire');
    expect(dump(layout.db)).toEqual(before);
  });

  it('catches up with files a crash left unindexed, without clearing anything', async () => {
    layout = tempHome();
    const reference = await storeAt(layout);
    await runLive(layout, reference);
    const complete = dump(layout.db);
    // A second database that saw nothing of exp-b and only the start of exp-a's first rollout.
    const other = tempHome();
    fs.cpSync(layout.experimentsDir, other.experimentsDir, { recursive: true });
    const lagging = await storeAt(other);
    const a = makeRecord('exp-a', 4, '2026-11-25T10:00:00.000Z');
    await lagging.putExperiment(a);
    const firstLine = fs.readFileSync(other.trajectory('exp-a', 'r000'), 'utf8').split('\n')[0]!;
    await lagging.applyEvent('exp-a', 'r000', other.trajectory('exp-a', 'r000'), JSON.parse(firstLine), { offset: 0, length: firstLine.length + 1 });
    const report = await catchUp(other, lagging);
    expect(report.experiments).toBe(2);
    const caught = dump(other.db);
    const normalise = (d: Record<string, unknown[]>) => JSON.parse(JSON.stringify(d).split(other.home).join('HOME').split(layout.home).join('HOME'));
    expect(normalise(caught)).toEqual(normalise(complete));
    await catchUp(other, lagging); // idempotent
    expect(dump(other.db)).toEqual(caught);
    removeHome(other);
  });

  it('re-creates a deleted database file from the logs', async () => {
    layout = tempHome();
    const store = await storeAt(layout);
    await runLive(layout, store);
    const live = dump(layout.db);
    await open.pop()!.close();
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(layout.db + suffix, { force: true });

    const fresh = await storeAt(layout);
    expect(await fresh.listExperiments()).toEqual([]);
    await rebuild(layout, fresh);
    expect(dump(layout.db)).toEqual(live);
    expect((await fresh.latestExperiment())!.id).toBe('exp-b');
  });

  it('reports a torn last line and broken experiment.json files, and keeps going', async () => {
    layout = tempHome();
    const store = await storeAt(layout);
    await runLive(layout, store);
    const live = dump(layout.db);

    // A crash tore the last write of the running rollout.
    const torn = layout.trajectory('exp-a', 'r002');
    const lines = fs.readFileSync(torn, 'utf8').split('\n').length - 1;
    const partial = '{"t":"2026-11-25T10:09:00.000Z","seq":9,"type":"tool.re';
    fs.appendFileSync(torn, partial);
    // Broken experiments: bad JSON, wrong shape, missing file, id not matching its directory.
    const bad = (id: string, text: string | null) => {
      fs.mkdirSync(layout.experimentDir(id), { recursive: true });
      if (text !== null) fs.writeFileSync(layout.experimentFile(id), text);
    };
    bad('broken', '{"id": "broken", "created_at": ');
    bad('shape', JSON.stringify({ ...makeRecord('shape', 1), rollouts: [{ rollout_id: 'r0', task: 't' }] }));
    bad('empty', null);
    bad('renamed', JSON.stringify(makeRecord('other', 1)));

    const report = await rebuild(layout, store);
    expect(dump(layout.db)).toEqual(live);
    expect(report.torn).toEqual([{ file: torn, line: lines + 1, bytes: partial.length, reason: expect.stringMatching(/unparseable JSON/) }]);
    expect(report.skipped.map((s) => path.basename(path.dirname(s.file))).sort()).toEqual(['broken', 'empty', 'renamed', 'shape']);
    const reasons = Object.fromEntries(report.skipped.map((s) => [path.basename(path.dirname(s.file)), s.reason]));
    expect(reasons.broken).toMatch(/not valid JSON/);
    expect(reasons.shape).toMatch(/rollouts\[0\]\.harness/);
    expect(reasons.empty).toMatch(/missing/);
    expect(reasons.renamed).toMatch(/does not match its directory/);
    for (const r of Object.values(reasons)) expect(r).not.toMatch(/\n/);

    // The runner resumes the rollout: the torn line is cut off, seq continues, live indexing goes on.
    const pending: Promise<void>[] = [];
    const w = openWriter(layout, 'exp-a', 'r002', store, pending);
    expect(w.recovered.torn).not.toBeNull();
    w.append(started(spec(makeRecord('exp-a', 4), 'r002'), true));
    w.append(verified(1, true));
    w.append(finished('completed', 1, 4));
    w.close();
    await Promise.all(pending);
    const resumed = dump(layout.db);
    const again = await rebuild(layout, store);
    expect(again.torn).toEqual([]);
    expect(dump(layout.db)).toEqual(resumed);
    expect((await store.listRollouts('exp-a'))[2]).toMatchObject({ rollout_id: 'r002', status: 'finished', events: 12 });
  });

  it('is fast: one transaction per trajectory', async () => {
    // OUTLAST_STORE_BENCH=1 runs the full 100 rollouts × 1,000 events; the default keeps CI quick.
    const full = process.env.OUTLAST_STORE_BENCH === '1';
    const [rollouts, steps] = full ? [100, 500] : [20, 250]; // each step is 2 events
    layout = tempHome();
    const rec = makeRecord('bench', rollouts);
    writeRecord(layout, rec);
    for (const r of rec.rollouts) {
      const w = openWriter(layout, 'bench', r.rollout_id);
      w.append(started(spec(rec, r.rollout_id)));
      for (let i = 0; i < steps - 1; i++) {
        w.append(toolCall(i));
        w.append(toolResult(i));
      }
      w.append(finished('completed', 1, steps - 1));
      w.close();
    }
    const store = await storeAt(layout);
    const report = await rebuild(layout, store);
    expect(report.events).toBe(rollouts * steps * 2);
    console.log(`rebuild: ${report.rollouts} rollouts, ${report.events} events in ${report.ms} ms`);
    expect(report.ms).toBeLessThan(full ? 10_000 : 5_000);
    expect((await store.getExperiment('bench'))!.finished).toBe(rollouts);

    if (full) {
      // The same rebuild through a store without the batch method: one applyEvent (and one
      // transaction) per event, which is what live indexing costs per event.
      const single = Object.create(store, { applyEvents: { value: undefined } }) as Store;
      const slow = await rebuild(layout, single);
      console.log(`rebuild, one applyEvent per event: ${slow.events} events in ${slow.ms} ms`);
      expect(dump(layout.db).rollouts).toHaveLength(rollouts);
    }
  });
});
