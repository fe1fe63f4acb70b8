// What `outlast resume` reads before deciding (catchUp): only what the store lacks. A log indexed to
// its end is not read at all (a byte broken in its indexed part goes unnoticed), a log that grew is
// read past its indexed end only, an experiment the store has is not parsed again; and the V1
// database (one wide row per event) migrates to the V2 index with the same answers.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { catchUp, openStore } from '../../src/store/index.js';
import type { Layout } from '../../src/store/layout.js';
import { MIGRATIONS } from '../../src/store/schema.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { makeRecord, note, openWriter, removeHome, spec, tempHome, writeRecord, writeRollout } from './helpers.js';

let layout: Layout;
afterEach(() => removeHome(layout));

describe('catchUp', () => {
  it('reads a log only past its indexed end, and nothing of an experiment it is up to date with', async () => {
    layout = tempHome();
    const rec = makeRecord('e1', 2);
    writeRecord(layout, rec);
    for (const id of ['r000', 'r001']) {
      const w = openWriter(layout, 'e1', id);
      writeRollout(w, spec(rec, id), 20, 'none');
      w.close();
    }
    const store = await openStore(layout);
    const first = await catchUp(layout, store);
    expect(first).toMatchObject({ experiments: 1, rollouts: 2, events: 82 });

    // up to date: nothing read, not even experiment.json (a broken one is not noticed)
    fs.writeFileSync(layout.experimentFile('e1'), '{ broken');
    const file = layout.trajectory('e1', 'r000');
    const bytes = fs.readFileSync(file);
    bytes[bytes.indexOf('"tool.call"') + 1] = 0x7b; // break an indexed line in the middle of the log
    fs.writeFileSync(file, bytes);
    expect(await catchUp(layout, store)).toMatchObject({ experiments: 1, rollouts: 0, events: 0, bad: [], skipped: [] });

    // the log grew (the runner was killed before indexing these): only the new lines are read
    const w = openWriter(layout, 'e1', 'r000');
    w.append(note('after the crash'));
    w.append(note('and another'));
    w.close();
    const grown = await catchUp(layout, store);
    expect(grown).toMatchObject({ rollouts: 1, events: 2, bad: [] });
    const idx = await store.listEvents('e1', 'r000', { fromSeq: 41 });
    const r = readTrajectory(file);
    expect(idx.map((e) => [e.seq, e.type, e.offset, e.length])).toEqual([
      [41, 'note', r.positions[r.positions.length - 2]!.offset, r.positions[r.positions.length - 2]!.length],
      [42, 'note', r.positions[r.positions.length - 1]!.offset, r.positions[r.positions.length - 1]!.length],
    ]);
    expect((await store.listRollouts('e1')).find((x) => x.rollout_id === 'r000')?.events).toBe(43);
    await store.close();
  });

  it('reads a log again from the start when it is shorter than its indexed part', async () => {
    layout = tempHome();
    const rec = makeRecord('e1', 1);
    writeRecord(layout, rec);
    const w = openWriter(layout, 'e1', 'r000');
    writeRollout(w, spec(rec, 'r000'), 5, 'none');
    w.close();
    const store = await openStore(layout);
    await catchUp(layout, store);
    const file = layout.trajectory('e1', 'r000');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    fs.writeFileSync(file, lines.slice(0, 3).join('\n') + '\n');
    expect(await catchUp(layout, store)).toMatchObject({ rollouts: 1, events: 3 });
    await store.close();
  });
});

describe('the V1 database', () => {
  it('migrates to the V2 event index with the same rows and positions', async () => {
    layout = tempHome();
    const rec = makeRecord('e1', 2);
    writeRecord(layout, rec);
    const w = openWriter(layout, 'e1', 'r001');
    writeRollout(w, spec(rec, 'r001'), 10);
    w.close();
    const r = readTrajectory(w.file);
    // a database as the V1 store wrote it
    fs.mkdirSync(layout.home, { recursive: true });
    const db = new Database(layout.db);
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.prepare('INSERT INTO experiments (id, created_at, record) VALUES (?, ?, ?)').run(rec.id, rec.created_at, JSON.stringify(rec));
    db.prepare("INSERT INTO rollouts (experiment_id, rollout_id, ord, task, status, events, trajectory) VALUES ('e1', 'r000', 0, 'fix-test', 'pending', 0, '')").run();
    db.prepare("INSERT INTO rollouts (experiment_id, rollout_id, ord, task, status, status_seq, events, trajectory) VALUES ('e1', 'r001', 1, 'implement', 'finished', ?, ?, ?)").run(r.events.length - 1, r.events.length, w.file);
    const ins = db.prepare('INSERT INTO events (experiment_id, rollout_id, seq, t, type, line_offset, line_length) VALUES (?, ?, ?, ?, ?, ?, ?)');
    r.events.forEach((e, i) => ins.run('e1', 'r001', e.seq, e.t, e.type, r.positions[i]!.offset, r.positions[i]!.length));
    db.close();

    const store = await openStore(layout);
    const all = await store.listEvents('e1', 'r001', { limit: 1000 });
    expect(all.map((e) => [e.seq, e.type, e.offset, e.length])).toEqual(r.events.map((e, i) => [e.seq, e.type, r.positions[i]!.offset, r.positions[i]!.length]));
    expect((await store.listEvents('e1', 'r001', { type: 'tool.result' })).map((e) => e.seq)).toEqual(r.events.filter((e) => e.type === 'tool.result').map((e) => e.seq));
    expect((await store.listRollouts('e1')).map((x) => [x.rollout_id, x.status, x.attempts])).toEqual([
      ['r000', 'pending', null],
      ['r001', 'finished', null],
    ]);
    // up to date after the migration: catchUp reads nothing
    expect(await catchUp(layout, store)).toMatchObject({ rollouts: 0, events: 0 });
    await store.close();
    const v2 = new Database(layout.db, { readonly: true });
    expect(v2.pragma('user_version', { simple: true })).toBe(2);
    expect(v2.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'events'").get()).toEqual({ n: 0 });
    v2.close();
  });

  it('is much smaller than the log of a long rollout', async () => {
    layout = tempHome();
    const rec = makeRecord('e1', 1);
    writeRecord(layout, rec);
    const w = openWriter(layout, 'e1', 'r000');
    writeRollout(w, spec(rec, 'r000'), 5000);
    w.close();
    const store = await openStore(layout);
    await catchUp(layout, store);
    await store.close();
    const db = new Database(layout.db);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    // 10,003 events of ~80-byte lines (short ones, where V1's ~200 bytes a row outweighed the log)
    const log = fs.statSync(w.file).size;
    expect(fs.statSync(layout.db).size / log, `${fs.statSync(layout.db).size} bytes of index for ${log} bytes of log`).toBeLessThan(0.5);
    expect(path.basename(layout.db)).toBe('outlast.db');
  });
});
