// Interrupts are never grades: SIGINT or SIGTERM to `outlast run` while the verifier's sandbox runs
// leaves the rollout unfinished (no verifier.result, no rollout.finished, exit 130), and
// `outlast resume` grades the workspace the harness left (without running the harness again) to
// the same score as an uninterrupted run.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { cliAsync, cliSpawn, tmpdir, writeTree } from '../helpers/cli.js';

function task(): string {
  return writeTree(tmpdir('outlast-int-task-'), {
    'task.toml': '[task]\nname = "slow-grade"\n[verifier]\ntimeout_sec = 120\n',
    'instruction.md': 'Write 42 to answer.txt.\n',
    'workspace/.keep': '',
    'solution/solve.sh': '#!/bin/bash\necho 42 > answer.txt\necho ran >> /dev/null\n',
    // the marker says the verifier's sandbox is running; the grade takes a few seconds more
    'tests/test.sh': '#!/bin/bash\ntouch /logs/verifier/started\nsleep 4\nif grep -qx 42 answer.txt; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n',
  });
}

function rolloutDir(home: string): string {
  const exp = fs.readdirSync(path.join(home, 'experiments'))[0]!;
  const dir = path.join(home, 'experiments', exp, 'rollouts');
  return path.join(dir, fs.readdirSync(dir)[0]!);
}

function events(home: string): TrajectoryEvent[] {
  const r = readTrajectory(path.join(rolloutDir(home), 'trajectory.jsonl'));
  expect(r.bad).toEqual([]);
  expect(r.torn).toBeNull();
  return r.events;
}

const count = (es: TrajectoryEvent[], f: (e: TrajectoryEvent) => boolean): number => es.filter(f).length;

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('an interrupt while the verifier runs', () => {
  const dir = task();
  let baseline: number | null = null;

  it('an uninterrupted run scores 1', { timeout: 60_000 }, async () => {
    const home = tmpdir();
    const r = await cliAsync(['run', dir, '--harness', 'oracle'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const fin = events(home).find((e) => e.type === 'rollout.finished');
    expect(fin?.type === 'rollout.finished' && fin.outcome).toBe('completed');
    baseline = fin?.type === 'rollout.finished' ? (fin.score?.value ?? null) : null;
    expect(baseline).toBe(1);
  });

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig}: unfinished and resumable, then graded as if never interrupted`, { timeout: 90_000 }, async () => {
      const home = tmpdir();
      const child = cliSpawn(['run', dir, '--harness', 'oracle'], { home });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<number | null>((r) => child.once('close', (c) => r(c)));
      const marker = (): boolean => {
        try {
          return fs.existsSync(path.join(rolloutDir(home), 'verify', 'logs-verifier', 'started'));
        } catch {
          return false;
        }
      };
      await waitFor(marker, 45_000);
      child.kill(sig);
      const code = await exited;
      expect(code, stderr).toBe(130);
      expect(stderr).not.toMatch(/internal error/);
      const stopped = events(home);
      expect(count(stopped, (e) => e.type === 'verifier.result')).toBe(0);
      expect(count(stopped, (e) => e.type === 'rollout.finished')).toBe(0);
      expect(stopped.some((e) => e.type === 'note' && /interrupted during verification/.test(e.message))).toBe(true);

      const r = await cliAsync(['resume'], { home });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(/nothing to resume/);
      const all = events(home);
      const fin = all.filter((e) => e.type === 'rollout.finished');
      expect(fin).toHaveLength(1);
      const f = fin[0]!;
      if (f.type !== 'rollout.finished') throw new Error('unreachable');
      expect(f.outcome).toBe('completed');
      expect(f.score?.value).toBe(baseline);
      expect(count(all, (e) => e.type === 'verifier.result')).toBe(1);
      // the harness ran once: the resume graded what it left
      expect(count(all, (e) => e.type === 'phase' && e.phase === 'harness' && e.status === 'started')).toBe(1);
      expect(f.totals.attempts).toBe(2);
      expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i));
    });
  }
});
