// The trajectory JSONL writer and reader, on real files.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { readTrajectory, TrajectoryWriter } from '../../src/store/trajectory.js';
import type { TrajectoryEvent } from '../../src/core/events.js';
import type { Layout } from '../../src/store/layout.js';
import { makeRecord, note, openWriter, removeHome, spec, tempHome, writeRollout } from './helpers.js';

let layout: Layout;
afterEach(() => removeHome(layout));

/** Read each event's line back through its recorded position and parse it. */
function lineAt(file: string, where: { offset: number; length: number }): unknown {
  const buf = fs.readFileSync(file);
  const line = buf.subarray(where.offset, where.offset + where.length).toString('utf8');
  expect(line.endsWith('\n')).toBe(true);
  return JSON.parse(line);
}

describe('trajectory', () => {
  it('assigns seq and t, and records positions that point at each line', () => {
    layout = tempHome();
    const rec = makeRecord('e1', 1);
    const w = openWriter(layout, 'e1', 'r000');
    const seen: { e: TrajectoryEvent; where: { offset: number; length: number } }[] = [];
    w.onEvent((e, where) => seen.push({ e, where }));
    writeRollout(w, spec(rec, 'r000'), 3);
    w.close();

    const r = readTrajectory(w.file);
    expect(r.torn).toBeNull();
    expect(r.bad).toEqual([]);
    expect(r.events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.intactBytes).toBe(fs.statSync(w.file).size);
    r.events.forEach((e, i) => {
      expect(typeof e.t).toBe('string');
      expect(lineAt(w.file, r.positions[i]!)).toEqual(e);
      // The writer's listener reported the same event at the same place.
      expect(seen[i]!.e).toEqual(e);
      expect(seen[i]!.where).toEqual(r.positions[i]);
    });
  });

  it('tolerates and reports a torn last line, and cuts it off on reopen; seq continues', () => {
    layout = tempHome();
    const w = openWriter(layout, 'e1', 'r000');
    w.append(note('one'));
    w.append(note('two'));
    w.close();
    const intact = fs.statSync(w.file).size;
    const partial = '{"t":"2026-11-25T10:00:00.000Z","seq":2,"type":"no';
    fs.appendFileSync(w.file, partial); // the crash came mid-write

    const r = readTrajectory(w.file);
    expect(r.events.map((e) => e.seq)).toEqual([0, 1]);
    expect(r.torn).toMatchObject({ line: 3, bytes: partial.length });
    expect(r.torn!.reason).toMatch(/unparseable JSON/);
    expect(r.intactBytes).toBe(intact);

    const w2 = new TrajectoryWriter(w.file, { fsync: false });
    expect(w2.recovered.torn).not.toBeNull();
    expect(fs.statSync(w.file).size).toBe(intact);
    expect(w2.seq).toBe(2);
    expect(w2.existing).toHaveLength(2);
    const e = w2.append(note('three'));
    w2.close();
    expect(e.seq).toBe(2);

    const after = readTrajectory(w.file);
    expect(after.torn).toBeNull();
    expect(after.events.map((x) => x.seq)).toEqual([0, 1, 2]);
    after.events.forEach((x, i) => expect(lineAt(w.file, after.positions[i]!)).toEqual(x));
  });

  it('treats a complete JSON object without its newline as torn', () => {
    layout = tempHome();
    const w = openWriter(layout, 'e1', 'r000');
    w.append(note('one'));
    w.close();
    fs.appendFileSync(w.file, '{"t":"2026-11-25T10:00:00.000Z","seq":1,"type":"note","level":"info","message":"x"}');
    const r = readTrajectory(w.file);
    expect(r.events).toHaveLength(1);
    expect(r.torn).toMatchObject({ line: 2, reason: 'no trailing newline' });
  });

  it('reports a bad line in the middle without losing the lines around it', () => {
    layout = tempHome();
    const w = openWriter(layout, 'e1', 'r000');
    w.append(note('one'));
    w.close();
    fs.appendFileSync(w.file, 'garbage\n{"seq":5}\n');
    const w2 = new TrajectoryWriter(w.file, { fsync: false });
    w2.append(note('after'));
    w2.close();
    const r = readTrajectory(w.file);
    expect(r.bad.map((b) => b.line)).toEqual([2, 3]);
    expect(r.events.map((e) => e.seq)).toEqual([0, 1]);
    expect(lineAt(w.file, r.positions[1]!)).toEqual(r.events[1]);
  });
});
