// SqliteStore on real database files: derivation rules, idempotence, paging, WAL, concurrency.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isUserError } from '../../src/core/errors.js';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { openStore, SqliteStore, SCHEMA_VERSION } from '../../src/store/index.js';
import type { Layout } from '../../src/store/layout.js';
import type { Store } from '../../src/store/store.js';
import { readTrajectory } from '../../src/store/trajectory.js';
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
  writeRollout,
} from './helpers.js';

let layout: Layout;
const open: Store[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  removeHome(layout);
});

async function storeAt(l: Layout): Promise<SqliteStore> {
  const s = (await openStore(l)) as SqliteStore;
  open.push(s);
  return s;
}

describe('SqliteStore: opening', () => {
  it('creates parent directories, runs in WAL mode with a busy timeout, and records the schema version', async () => {
    layout = tempHome();
    const file = path.join(layout.home, 'deep', 'er', 'outlast.db');
    const s = SqliteStore.open(file);
    open.push(s);
    expect(fs.existsSync(file)).toBe(true);
    expect(s.db.pragma('busy_timeout', { simple: true })).toBe(10_000);
    // Check from a second, independent connection: WAL is a property of the file.
    const raw = new Database(file);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
    // Reopening an already-migrated file is fine.
    const again = SqliteStore.open(file);
    open.push(again);
    expect(await again.listExperiments()).toEqual([]);
  });

  it('refuses a database from a newer outlast, and a file that is not a database, with one-line errors', () => {
    layout = tempHome();
    const raw = new Database(layout.db);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => SqliteStore.open(layout.db)).toThrow(/schema version 99 is newer.*outlast rebuild/);

    const junk = path.join(layout.home, 'junk.db');
    fs.writeFileSync(junk, 'this is not sqlite'.repeat(100));
    let err: unknown;
    try {
      SqliteStore.open(junk);
    } catch (e) {
      err = e;
    }
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(/not a usable outlast database/);
  });
});

describe('SqliteStore: derivation', () => {
  it('takes a rollout from pending to running to finished, with scores and counts', async () => {
    layout = tempHome();
    const s = await storeAt(layout);
    const rec = makeRecord('e1', 2);
    await s.putExperiment(rec);

    let rows = await s.listRollouts('e1');
    expect(rows.map((r) => [r.rollout_id, r.status, r.task, r.family, r.task_hash.slice(0, 1), r.repeat])).toEqual([
      ['r000', 'pending', 'fix-test', 'examples', 'a', 0],
      ['r001', 'pending', 'implement', 'examples', 'b', 0],
    ]);
    expect(rows[0]!.trajectory).toBe(layout.trajectory('e1', 'r000'));
    expect(rows[0]).toMatchObject({ outcome: null, score: null, passed: null, started_at: null, events: 0, tool_calls: null });

    const pending: Promise<void>[] = [];
    const w = openWriter(layout, 'e1', 'r000', s, pending);
    const start = w.append(started(spec(rec, 'r000')));
    w.append(toolCall(0));
    w.append(toolResult(0));
    w.append(toolCall(1));
    w.append(toolResult(1));
    await Promise.all(pending);
    rows = await s.listRollouts('e1');
    expect(rows[0]).toMatchObject({ status: 'running', started_at: start.t, tool_calls: 2, events: 5, outcome: null });
    expect(rows[1]!.status).toBe('pending');

    const graded = w.append(verified(0.5, false));
    const fin = w.append(finished('completed', 0.5, 7));
    w.close();
    await Promise.all(pending);
    rows = await s.listRollouts('e1');
    expect(rows[0]).toMatchObject({
      status: 'finished',
      outcome: 'completed',
      score: 0.5,
      passed: false,
      started_at: start.t,
      finished_at: fin.t,
      wall_ms: 1234,
      tool_calls: 7, // the totals win over the running count
      cost_usd: 0.25,
      events: 7,
    });
    expect(await s.getScores('e1')).toEqual([
      {
        experiment_id: 'e1',
        rollout_id: 'r000',
        seq: graded.seq,
        value: 0.5,
        passed: false,
        verifier: 'command',
        verifier_version: '1',
        graded_at: '2026-11-25T10:05:00.000Z',
        details: { tests_passed: 1, tests_failed: 2 },
      },
    ]);
    const exp = await s.getExperiment('e1');
    expect(exp).toMatchObject({ id: 'e1', rollouts: 2, finished: 1 });
    expect(exp!.record).toEqual(rec);
  });

  it('a resumed start puts the rollout back to running and keeps the first started_at', async () => {
    layout = tempHome();
    const s = await storeAt(layout);
    const rec = makeRecord('e1', 1);
    await s.putExperiment(rec);
    const pending: Promise<void>[] = [];
    const w = openWriter(layout, 'e1', 'r000', s, pending);
    const first = w.append(started(spec(rec, 'r000')));
    w.append(toolCall(0));
    // The infrastructure failed: the rollout finished as infra_error, and is resumed later.
    w.append(finished('infra_error', null, 0));
    await Promise.all(pending);
    expect((await s.listRollouts('e1'))[0]).toMatchObject({ status: 'finished', outcome: 'infra_error', score: null });

    const again = w.append({ ...started(spec(rec, 'r000'), true) });
    expect(again.t >= first.t).toBe(true);
    await Promise.all(pending);
    expect((await s.listRollouts('e1'))[0]).toMatchObject({ status: 'running', outcome: null, finished_at: null, started_at: first.t });

    w.append(toolCall(1));
    w.append(toolResult(1));
    w.append(verified(1, true));
    w.append(finished('completed', 1, 1));
    w.close();
    await Promise.all(pending);
    expect((await s.listRollouts('e1'))[0]).toMatchObject({ status: 'finished', outcome: 'completed', passed: true, started_at: first.t, events: 8 });

    // A second start without a finish in between (a crash, then resume) also stays running.
    const w2 = openWriter(layout, 'e1', 'r001', s, pending);
    w2.append(started(spec({ ...rec, rollouts: [{ ...rec.rollouts[0]!, rollout_id: 'r001' }] }, 'r001')));
    w2.append(started(spec({ ...rec, rollouts: [{ ...rec.rollouts[0]!, rollout_id: 'r001' }] }, 'r001'), true));
    w2.close();
    await Promise.all(pending);
    const r1 = (await s.listRollouts('e1')).find((r) => r.rollout_id === 'r001')!;
    expect(r1).toMatchObject({ status: 'running', events: 2, task: 'fix-test' });
  });

  it('is idempotent: applying events again (one by one or in a batch) changes nothing', async () => {
    layout = tempHome();
    const s = await storeAt(layout);
    const rec = makeRecord('e1', 2);
    await s.putExperiment(rec);
    const pending: Promise<void>[] = [];
    const w = openWriter(layout, 'e1', 'r000', s, pending);
    writeRollout(w, spec(rec, 'r000'), 5);
    w.close();
    const w1 = openWriter(layout, 'e1', 'r001', s, pending);
    writeRollout(w1, spec(rec, 'r001'), 3, 'none');
    w1.close();
    await Promise.all(pending);
    const before = dump(layout.db);

    for (const [rid, file] of [['r000', w.file], ['r001', w1.file]] as const) {
      const r = readTrajectory(file);
      for (let i = 0; i < r.events.length; i++) await s.applyEvent('e1', rid, file, r.events[i]!, r.positions[i]!);
      await s.applyEvents('e1', rid, file, r.events, r.positions);
      // Even an old start re-applied out of order does not un-finish the rollout.
      await s.applyEvent('e1', rid, file, r.events[0]!, r.positions[0]!);
    }
    await s.putExperiment(rec); // re-putting the plan does not reset progress
    expect(dump(layout.db)).toEqual(before);
    expect((await s.listRollouts('e1')).map((r) => [r.status, r.tool_calls, r.events])).toEqual([
      ['finished', 5, 13],
      ['running', 3, 7],
    ]);
  });

  it('indexes events of a rollout the plan does not list', async () => {
    layout = tempHome();
    const s = await storeAt(layout);
    const rec = makeRecord('e1', 1);
    const e: TrajectoryEvent = { t: '2026-11-25T10:00:00.000Z', seq: 0, ...started({ ...spec(rec, 'r000'), rollout_id: 'extra' }) } as TrajectoryEvent;
    await s.applyEvent('e1', 'extra', '/x/trajectory.jsonl', e, { offset: 0, length: 10 });
    expect(await s.listRollouts('e1')).toMatchObject([{ rollout_id: 'extra', status: 'running', events: 1, trajectory: '/x/trajectory.jsonl' }]);
  });
});

describe('SqliteStore: queries', () => {
  it('pages events by seq, filters by type, and bounds the page size', async () => {
    layout = tempHome();
    const s = await storeAt(layout);
    const rec = makeRecord('e1', 1);
    await s.putExperiment(rec);
    const w = openWriter(layout, 'e1', 'r000');
    writeRollout(w, spec(rec, 'r000'), 3000); // 6003 events
    w.close();
    const r = readTrajectory(w.file);
    await s.applyEvents('e1', 'r000', w.file, r.events, r.positions);

    const first = await s.listEvents('e1', 'r000');
    expect(first).toHaveLength(200);
    expect(first[0]).toEqual({ experiment_id: 'e1', rollout_id: 'r000', seq: 0, type: 'rollout.started', ...r.positions[0] });
    const next = await s.listEvents('e1', 'r000', { fromSeq: first[first.length - 1]!.seq + 1, limit: 50 });
    expect(next.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 200 + i));
    expect(await s.listEvents('e1', 'r000', { limit: 100_000 })).toHaveLength(5000);
    expect(await s.listEvents('e1', 'r000', { limit: 0 })).toHaveLength(1);
    expect(await s.listEvents('e1', 'r000', { fromSeq: 6000 })).toHaveLength(3);

    const results = await s.listEvents('e1', 'r000', { type: 'tool.result', fromSeq: 10, limit: 3 });
    expect(results.map((e) => [e.seq, e.type])).toEqual([
      [10, 'tool.result'],
      [12, 'tool.result'],
      [14, 'tool.result'],
    ]);
    // The index points at the real line.
    const buf = fs.readFileSync(w.file);
    const line = buf.subarray(results[0]!.offset, results[0]!.offset + results[0]!.length).toString();
    expect(JSON.parse(line)).toEqual(r.events[10]);
    expect(await s.listEvents('e1', 'nope')).toEqual([]);
  });

  it('lists experiments newest first, finds the latest, and clears', async () => {
    layout = tempHome();
    const s = await storeAt(layout);
    await s.putExperiment(makeRecord('old', 1, '2026-11-01T00:00:00.000Z'));
    await s.putExperiment(makeRecord('new', 3, '2026-11-20T00:00:00.000Z'));
    expect((await s.listExperiments()).map((e) => [e.id, e.rollouts, e.finished])).toEqual([
      ['new', 3, 0],
      ['old', 1, 0],
    ]);
    expect((await s.latestExperiment())!.id).toBe('new');
    expect(await s.getExperiment('missing')).toBeNull();
    await s.applyEvent('old', 'r000', 'f', { t: 'x', seq: 0, ...note('n') } as TrajectoryEvent, { offset: 0, length: 1 });
    await s.clear();
    expect(await s.listExperiments()).toEqual([]);
    expect(await s.latestExperiment()).toBeNull();
    expect(dump(layout.db)).toEqual({ experiments: [], rollouts: [], scores: [], events: [] });
  });
});

describe('SqliteStore: several connections', () => {
  it('a second connection reads what the first writes, and is not blocked by an open write', async () => {
    layout = tempHome();
    const writer = await storeAt(layout);
    const reader = await storeAt(layout);
    const rec = makeRecord('e1', 2);
    await writer.putExperiment(rec);
    expect((await reader.listRollouts('e1')).map((r) => r.status)).toEqual(['pending', 'pending']);

    const pending: Promise<void>[] = [];
    const w = openWriter(layout, 'e1', 'r000', writer, pending);
    writeRollout(w, spec(rec, 'r000'), 2);
    w.close();
    await Promise.all(pending);
    expect((await reader.listRollouts('e1'))[0]).toMatchObject({ status: 'finished', events: 7 });
    expect(await reader.listEvents('e1', 'r000', { type: 'tool.result' })).toHaveLength(2);

    // While the writer holds a write transaction, the reader still reads (the last committed state).
    writer.db.exec('BEGIN IMMEDIATE');
    writer.db.exec("UPDATE rollouts SET status = 'pending' WHERE rollout_id = 'r000'");
    expect((await reader.listRollouts('e1'))[0]!.status).toBe('finished');
    const late = SqliteStore.open(layout.db, { busyTimeoutMs: 50 }); // opening does not need the write lock
    open.push(late);
    expect((await late.listRollouts('e1'))[0]!.status).toBe('finished');
    writer.db.exec('ROLLBACK');

    // Two writers wait for each other (busy timeout) instead of failing.
    const other = SqliteStore.open(layout.db, { busyTimeoutMs: 2000 });
    open.push(other);
    await other.putExperiment(makeRecord('e2', 1));
    expect((await writer.listExperiments()).map((e) => e.id).sort()).toEqual(['e1', 'e2']);
  });
});
