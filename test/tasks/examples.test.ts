// The example tasks really work: in a bare bubblewrap sandbox (system read-only, no network), the
// oracle's solution/solve.sh passes each verifier and doing nothing (the nop harness) fails it.
// This uses bwrap directly, not outlast's sandbox, so a task's correctness is checked on its own.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/types.js';
import { discoverTasks } from '../../src/tasks/discover.js';
import { cleanup, EXAMPLES, tmp } from './helpers.js';

afterAll(cleanup);

const hasBwrap = spawnSync('bwrap', ['--ro-bind', '/', '/', 'true']).status === 0;

function bwrap(ws: string, workdir: string, mounts: string[][], command: string): { code: number | null; out: string } {
  const args = ['--unshare-all', '--die-with-parent', '--clearenv', '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin', '--setenv', 'HOME', '/tmp'];
  args.push('--ro-bind', '/usr', '/usr', '--ro-bind', '/etc', '/etc');
  for (const d of ['/bin', '/lib', '/lib64', '/sbin']) {
    if (!fs.existsSync(d)) continue;
    const st = fs.lstatSync(d);
    if (st.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(d), d);
    else args.push('--ro-bind', d, d);
  }
  args.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--bind', ws, workdir);
  for (const m of mounts) args.push(...m);
  args.push('--chdir', workdir, '--', '/bin/sh', '-c', command);
  const r = spawnSync('bwrap', args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Grade a workspace the way the command verifier does: reward file, else "N passed, N failed", else exit code. */
function verify(task: Task, ws: string): { passed: boolean; detail: string } {
  const copy = tmp('outlast-verify-');
  fs.cpSync(ws, copy, { recursive: true });
  const logs = tmp('outlast-logs-');
  const cmd = task.verifier.kind === 'command' ? (task.verifier as { command: string }).command : 'false';
  const r = bwrap(copy, task.workdir, [['--ro-bind', task.tests_dir!, '/tests'], ['--bind', logs, '/logs/verifier']], cmd);
  const rewardFile = path.join(logs, 'reward.txt');
  if (fs.existsSync(rewardFile)) {
    const v = Number(fs.readFileSync(rewardFile, 'utf8').trim());
    return { passed: v >= 1, detail: `reward ${v}` };
  }
  const rewardJson = path.join(logs, 'reward.json');
  if (fs.existsSync(rewardJson)) {
    const v = Number((JSON.parse(fs.readFileSync(rewardJson, 'utf8')) as { reward: unknown }).reward);
    return { passed: v >= 1, detail: `reward.json ${v}` };
  }
  const counts = [...r.out.matchAll(/(\d+) passed, (\d+) failed/g)].pop();
  if (counts) return { passed: counts[2] === '0' && r.code === 0, detail: counts[0] };
  return { passed: r.code === 0, detail: `exit ${r.code}: ${r.out.slice(-500)}` };
}

function freshWorkspace(task: Task): string {
  const ws = tmp('outlast-ws-');
  if (task.workspace_dir) fs.cpSync(task.workspace_dir, ws, { recursive: true });
  return ws;
}

describe.skipIf(!hasBwrap)('example tasks in a bare sandbox', async () => {
  const { tasks } = await discoverTasks([EXAMPLES], { cacheDir: tmp('outlast-cache-'), gpu: false });

  it('there are at least three, one of them Harbor-style', () => {
    expect(tasks.length).toBeGreaterThanOrEqual(3);
    expect(tasks.some((t) => t.format === 'harbor')).toBe(true);
  });

  for (const task of tasks) {
    it(`${task.name}: nop fails`, () => {
      const v = verify(task, freshWorkspace(task));
      expect(v.passed, v.detail).toBe(false);
    });

    it(`${task.name}: oracle passes`, () => {
      const ws = freshWorkspace(task);
      const solve = bwrap(ws, task.workdir, [['--ro-bind', task.solution_dir!, '/solution']], 'bash /solution/solve.sh');
      expect(solve.code, solve.out).toBe(0);
      const v = verify(task, ws);
      expect(v.passed, v.detail).toBe(true);
    });
  }
});
