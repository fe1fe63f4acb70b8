// The trajectory writer's sync modes: in every mode an appended line is in the file (the OS has it)
// when append returns, and closing while a background sync is in flight neither throws nor loses a
// line; a reopened log continues its seqs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrajectoryWriter, fsyncMode, readTrajectory } from '../../src/store/trajectory.js';

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-sync-')), 'trajectory.jsonl');

describe('trajectory sync modes', () => {
  it.each([['batch' as const], [true], [false]])('fsync %s: every acknowledged line is in the file at once', async (mode) => {
    const file = tmp();
    const w = new TrajectoryWriter(file, { fsync: mode });
    for (let i = 0; i < 200; i++) {
      w.append({ type: 'note', level: 'info', message: `n${i}` });
      // Another reader (a crash right now would leave the same file) sees it already.
      if (i % 50 === 0) expect(readTrajectory(file).events).toHaveLength(i + 1);
    }
    w.close(); // with a background sync still in flight in batch mode
    await new Promise((r) => setTimeout(r, 50));
    const again = new TrajectoryWriter(file, { fsync: mode });
    expect(again.seq).toBe(200);
    again.append({ type: 'note', level: 'info', message: 'after' });
    again.close();
    const evs = readTrajectory(file).events;
    expect(evs.map((e) => e.seq)).toEqual(Array.from({ length: 201 }, (_, i) => i));
  });

  it('OUTLAST_FSYNC chooses the runner mode (batch by default)', () => {
    expect(fsyncMode({})).toBe('batch');
    expect(fsyncMode({ OUTLAST_FSYNC: 'always' })).toBe(true);
    expect(fsyncMode({ OUTLAST_FSYNC: 'never' })).toBe(false);
  });
});
