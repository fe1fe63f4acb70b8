// The trajectory writer on a disk that fills (a real 512 KiB tmpfs, as root): a line is durable before
// its seq is taken; a short write is cut off, never left as a fragment; the writer then fails for
// good with DiskFull (naming the file and the bytes the line needed) and says so once; a resumed
// writer continues the same seq once space is free. The log never holds a bad line or a gap.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskFull } from '../../src/core/errors.js';
import { RESERVE_BYTES, readTrajectory, TrajectoryWriter } from '../../src/store/trajectory.js';

import { fill, free, giveBack, isRoot, smallDisk, unmountAll } from '../helpers/disk.js';

const note = (message: string) => ({ type: 'note' as const, level: 'info' as const, message });

describe.runIf(isRoot)('the trajectory writer on a full disk', () => {
  afterAll(unmountAll);

  it('cuts a short write off, keeps the seq free, fails for good, and a resumed writer continues', () => {
    const disk = smallDisk('512k');
    const file = path.join(disk, 'r', 'trajectory.jsonl');
    const w = new TrajectoryWriter(file, { reserve: true }); // no room for a 1 MiB reserve: goes without
    expect(fs.existsSync(`${file}.reserve`)).toBe(false);
    const failures: Error[] = [];
    w.onFailure((e) => failures.push(e));
    const seen: number[] = [];
    w.onEvent((e) => seen.push(e.seq));
    for (let i = 0; i < 3; i++) w.append(note(`before ${i}`));
    const intact = fs.statSync(file).size;

    // full to the last byte, then 8 KiB given back: a 64 KiB line gets partly written, then ENOSPC
    const filler = fill(disk);
    expect(free(disk)).toBe(0);
    giveBack(filler, 8192);
    expect(free(disk)).toBeGreaterThan(0);
    const big = note('x'.repeat(64 * 1024));
    let err: unknown = null;
    try {
      w.append(big);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DiskFull);
    const full = err as DiskFull;
    expect(full.path).toBe(file);
    expect(full.needed_bytes).toBeGreaterThan(64 * 1024);
    expect(full.message).toMatch(/^disk full: could not write .*trajectory\.jsonl \(64\.\d KiB needed, [\d.]+ (B|KiB) free; ENOSPC\)$/);
    // nothing of the line is left, its seq was not taken, and nobody was told of an event
    expect(fs.statSync(file).size).toBe(intact);
    expect(w.seq).toBe(3);
    expect(seen).toEqual([0, 1, 2]);
    expect(failures).toEqual([full]);
    // failed for good: a small line that would fit is refused too, and the failure is told only once
    expect(() => w.append(note('small'))).toThrow(full);
    expect(failures).toHaveLength(1);
    expect(w.failure).toBe(full);
    w.close();

    // space comes back: the next writer (a resume) continues at the free seq, and the log is whole
    fs.rmSync(filler);
    const w2 = new TrajectoryWriter(file);
    expect(w2.recovered.torn).toBeNull();
    expect(w2.seq).toBe(3);
    expect(w2.append(note('after')).seq).toBe(3);
    w2.append(big);
    w2.close();
    const r = readTrajectory(file);
    expect(r.bad).toEqual([]);
    expect(r.torn).toBeNull();
    expect(r.events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(r.intactBytes).toBe(fs.statSync(file).size);
  });

  it('a full disk when there is a reserve spends it once and records on', () => {
    const disk = smallDisk('16m');
    const file = path.join(disk, 'trajectory.jsonl');
    const w = new TrajectoryWriter(file, { reserve: true });
    expect(fs.statSync(`${file}.reserve`).size).toBe(RESERVE_BYTES);
    w.append(note('one'));
    fill(disk);
    const e = w.append(note('y'.repeat(16 * 1024)));
    expect(e.seq).toBe(1);
    expect(fs.existsSync(`${file}.reserve`)).toBe(false);
    expect(w.failure).toBeNull();
    w.close();
    expect(readTrajectory(file).events.map((x) => x.seq)).toEqual([0, 1]);
  });
});
