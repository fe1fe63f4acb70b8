// Rollouts in worker processes (`--workers N`): the same rollouts, outcomes and scores as in one
// process, the runner's children are the workers, and a runner killed with -9 takes its workers
// (and their sandboxes) with it; `resume` then finishes the experiment.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTrajectory } from '../../src/store/trajectory.js';
import { cli, cliSpawn, tmpdir, writeTree } from '../helpers/cli.js';

/** Node processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
  } catch {
    return [];
  }
}

/** A process's command line, or '' when it exited since it was listed. */
function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function slowTask(root: string, seconds: number): string {
  return writeTree(path.join(root, 'slow'), {
    'task.toml': '[task]\nname = "slow"\n',
    'instruction.md': 'Write ok to out.txt.\n',
    'workspace/.keep': '',
    'solution/solve.sh': `#!/bin/bash\nsleep ${seconds}\necho ok > out.txt\n`,
    'tests/test.sh': '#!/bin/bash\ngrep -q ok out.txt\n',
  });
}

function scores(home: string): Record<string, number | null> {
  const exp = fs.readdirSync(path.join(home, 'experiments'))[0]!;
  const dir = path.join(home, 'experiments', exp, 'rollouts');
  const out: Record<string, number | null> = {};
  for (const r of fs.readdirSync(dir)) {
    const fin = readTrajectory(path.join(dir, r, 'trajectory.jsonl')).events.find((e) => e.type === 'rollout.finished');
    out[r] = fin && fin.type === 'rollout.finished' ? (fin.score?.value ?? null) : null;
  }
  return out;
}

describe('--workers', () => {
  it('runs the same rollouts with the same scores as one process', () => {
    const one = tmpdir();
    const two = tmpdir();
    const a = cli(['run', 'tasks/examples', '--harness', 'oracle,nop', '--repeats', '2', '--concurrency', '8', '--workers', '1'], { home: one });
    const b = cli(['run', 'tasks/examples', '--harness', 'oracle,nop', '--repeats', '2', '--concurrency', '8', '--workers', '2'], { home: two });
    expect(b.code, b.stderr).toBe(a.code);
    expect(b.stderr).toMatch(/in 2 worker processes/);
    expect(Object.keys(scores(two)).length).toBe(16);
    expect(scores(two)).toEqual(scores(one));
  });

  it('a runner killed with -9 takes its workers and their sandboxes along; resume finishes', async () => {
    const home = tmpdir();
    const task = slowTask(tmpdir(), 4);
    const child = cliSpawn(['run', task, '--harness', 'oracle', '--repeats', '4', '--concurrency', '4', '--workers', '2'], { home });
    let workers: number[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 20_000) {
      workers = childrenOf(child.pid!).filter((p) => cmdline(p).includes('worker-main'));
      const started = fs.existsSync(path.join(home, 'experiments')) && fs.readdirSync(path.join(home, 'experiments')).length > 0;
      if (workers.length === 2 && started) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(workers).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 1500)); // the solutions are sleeping now
    const descendants = workers.flatMap((w) => [w, ...childrenOf(w)]);
    child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 3000));
    for (const p of descendants) expect(alive(p), `process ${p} outlived its runner`).toBe(false);
    const r = cli(['resume'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(Object.values(scores(home))).toEqual([1, 1, 1, 1]);
  }, 60_000);
});
