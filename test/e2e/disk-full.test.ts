// A full disk under outlast's home (a real small tmpfs, as root), through the real CLI: a one-line
// error naming the path and the space needed, exit 4 (README's exit codes), no stack trace, nothing
// graded from it, the rollout left unfinished; `resume` while the disk is still full says the same;
// once space is free, `resume` finishes the rollout with the score an uninterrupted run gets.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { cliAsync, cliSpawn, tmpdir, writeTree, firstTrajectory } from '../helpers/cli.js';
import { fill, isRoot, smallDisk, unmountAll } from '../helpers/disk.js';

const ONE_LINE_FULL = /^outlast: disk full: could not write \/\S+ \([\d.]+ (B|KiB|MiB) needed, [\d.]+ (B|KiB|MiB) free; (ENOSPC|SQLITE_FULL)\); nothing recorded is lost: free space there, then .*\n$/;

function task(): string {
  return writeTree(tmpdir('outlast-full-task-'), {
    'task.toml': '[task]\nname = "fills"\n',
    'instruction.md': 'Write 42 to answer.txt.\n',
    'workspace/.keep': '',
    // the solution takes a moment: the disk fills while it runs
    'solution/solve.sh': '#!/bin/bash\necho 42 > answer.txt\nsleep 2\n',
    'tests/test.sh': '#!/bin/bash\nif grep -qx 42 answer.txt; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n',
  });
}


function events(home: string): TrajectoryEvent[] {
  const r = readTrajectory(firstTrajectory(home)!);
  expect(r.bad).toEqual([]);
  return r.events;
}

describe.runIf(isRoot)('a full disk under the home directory', () => {
  afterAll(unmountAll);
  const dir = task();

  it('full before the run starts: one line, exit 4, nothing left running', { timeout: 60_000 }, async () => {
    const home = smallDisk('2m');
    fill(home);
    const r = await cliAsync(['run', dir, '--harness', 'oracle'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toMatch(ONE_LINE_FULL);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    const log = firstTrajectory(home);
    if (log) expect(fs.readFileSync(log, 'utf8')).not.toMatch(/"rollout\.started"/);
  });

  it('fills while the harness runs: stopped, not graded; resume while full says the same; resume after finishes it', { timeout: 120_000 }, async () => {
    const base = tmpdir();
    const ok = await cliAsync(['run', dir, '--harness', 'oracle'], { home: base });
    expect(ok.code, ok.stderr).toBe(0);
    const want = events(base).find((e) => e.type === 'rollout.finished');
    expect(want?.type === 'rollout.finished' && want.score?.value).toBe(1);

    const home = smallDisk('4m');
    const child = cliSpawn(['run', dir, '--harness', 'oracle'], { home });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.once('close', (c) => res(c)));
    const until = Date.now() + 30_000;
    for (;;) {
      const log = firstTrajectory(home);
      // the solution has written its answer: from here on only outlast's own writes meet the full disk
      const answer = log && path.join(path.dirname(log), 'workspace', 'answer.txt');
      if (answer && fs.existsSync(answer) && fs.readFileSync(answer, 'utf8') === '42\n') break;
      if (Date.now() > until) throw new Error(`the solution never wrote its answer: ${stderr}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    const filler = fill(home);
    const code = await exited;
    expect(code, stderr).toBe(4);
    const lines = stderr.split('\n').filter((l) => l.startsWith('outlast: '));
    expect(lines.at(-1)! + '\n').toMatch(ONE_LINE_FULL);
    expect(stderr).not.toMatch(/internal error|\n\s+at /);
    const stopped = events(home);
    expect(stopped.filter((e) => e.type === 'rollout.finished')).toHaveLength(0);
    expect(stopped.filter((e) => e.type === 'verifier.result')).toHaveLength(0);

    // still full: the same one-line error, the same exit code, still nothing graded
    const again = await cliAsync(['resume'], { home });
    expect(again.code, again.stdout + again.stderr).toBe(4);
    expect(again.stderr.split('\n').filter((l) => l.startsWith('outlast: ')).at(-1)! + '\n').toMatch(ONE_LINE_FULL);
    expect(events(home).filter((e) => e.type === 'rollout.finished')).toHaveLength(0);

    // space again: resume grades what the harness left, as an uninterrupted run would
    fs.rmSync(filler);
    const done = await cliAsync(['resume'], { home });
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const all = events(home);
    const fin = all.filter((e) => e.type === 'rollout.finished');
    expect(fin).toHaveLength(1);
    const f = fin[0]!;
    if (f.type !== 'rollout.finished') throw new Error('unreachable');
    expect(f.outcome).toBe('completed');
    expect(f.score?.value, JSON.stringify(all.filter((e) => e.type !== 'rollout.started'), null, 1)).toBe(1);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i));
    expect(f.totals.attempts).toBeGreaterThanOrEqual(2);
    const show = await cliAsync(['show', '--json'], { home });
    expect(JSON.parse(show.stdout).rollouts.map((r: { status: string }) => r.status)).toEqual(['finished']);
  });
});
