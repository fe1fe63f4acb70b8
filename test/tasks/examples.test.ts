// The example tasks really work: the oracle's solution/solve.sh, run in a bare bubblewrap sandbox
// (system read-only, no network), passes each verifier, and doing nothing (the nop harness) fails it.
// The solution runs in bwrap directly, not outlast's sandbox, so a task's solution is checked on its
// own; the grade is outlast's command verifier, as a rollout runs it (the verifier's identity, the
// agent's for agent-run, the workspace copy owned as the snapshot owns it), because the tasks' tests
// run the agent's code through the verifier's agent-run helper.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/types.js';
import { asIdentity, createSandbox, copyTree, identityFor } from '../../src/sandbox/index.js';
import { discoverTasks } from '../../src/tasks/discover.js';
import { createVerifier } from '../../src/verifiers/index.js';
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

/** Grade a workspace with outlast's command verifier, set up as a rollout sets it up. */
async function verify(task: Task, ws: string): Promise<{ passed: boolean; detail: string }> {
  const sandbox = await createSandbox('bwrap');
  const agentId = identityFor(`examples-${task.name}`, 'agent');
  const scratch = tmp('outlast-verify-');
  const copy = path.join(scratch, 'workspace');
  await copyTree(ws, copy, { owner: sandbox.enforced.dedicated_uid ? { uid: agentId.uid, gid: agentId.gid } : undefined, groupLikeOwner: true });
  const v = await createVerifier(task.verifier).verify({
    task,
    workspace: copy,
    tests: task.tests_dir,
    scratch,
    sandbox: asIdentity(sandbox, identityFor(`examples-${task.name}`, 'verifier')),
    agent: asIdentity(sandbox, agentId),
    seed: 1,
  });
  return { passed: v.score.passed, detail: `${JSON.stringify(v.score.details)}\n${v.run.output.slice(-1500)}` };
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
    it(`${task.name}: nop fails`, async () => {
      const v = await verify(task, freshWorkspace(task));
      expect(v.passed, v.detail).toBe(false);
    });

    it(`${task.name}: oracle passes`, async () => {
      const ws = freshWorkspace(task);
      const solve = bwrap(ws, task.workdir, [['--ro-bind', task.solution_dir!, '/solution']], 'bash /solution/solve.sh');
      expect(solve.code, solve.out).toBe(0);
      const v = await verify(task, ws);
      expect(v.passed, v.detail).toBe(true);
    });
  }
});
