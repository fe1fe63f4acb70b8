// Every verifier reports an interrupted verification as VerificationAborted, never as a score of
// the run it saw killed: the command verifier (its test command, and the agent's code it runs
// through agent-run) and the speedup verifier (its grader), on real sandboxes.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { asIdentity, copyTree, createSandbox, identityFor } from '../../src/sandbox/index.js';
import { loadTask } from '../../src/tasks/load.js';
import { createVerifier } from '../../src/verifiers/index.js';
import { SpeedupVerifier } from '../../src/verifiers/speedup.js';
import { isVerificationAborted, type VerifyOutcome } from '../../src/verifiers/verifier.js';
import { tmpdir, writeTree } from '../helpers/cli.js';
import { kit, SMOKE, type Kit } from './speedup-helpers.js';

/** Start grading `workspace` with a task whose tests/test.sh is `script`; abort once `started` exists in the verifier's logs. */
async function commandAborted(script: string): Promise<{ err: unknown; ms: number }> {
  const dir = writeTree(tmpdir(), {
    'task.toml': '[task]\nname = "abort"\n[verifier]\ntimeout_sec = 60\n',
    'instruction.md': 'x\n',
    'tests/test.sh': `#!/bin/bash\n${script}\n`,
    'workspace/answer.txt': '42\n',
  });
  const task = await loadTask(dir);
  const sandbox = await createSandbox('bwrap');
  const key = `abort-${path.basename(dir)}`;
  const agentId = identityFor(key, 'agent');
  const scratch = tmpdir();
  const copy = path.join(scratch, 'workspace');
  await copyTree(task.workspace_dir!, copy, { owner: sandbox.enforced.dedicated_uid ? { uid: agentId.uid, gid: agentId.gid } : undefined, groupLikeOwner: true });
  const ac = new AbortController();
  const marker = path.join(scratch, 'logs-verifier', 'started');
  const poll = setInterval(() => fs.existsSync(marker) && ac.abort(new Error('SIGINT')), 20);
  const t0 = Date.now();
  try {
    const out: VerifyOutcome = await createVerifier(task.verifier).verify({
      task,
      workspace: copy,
      tests: task.tests_dir,
      scratch,
      sandbox: asIdentity(sandbox, identityFor(key, 'verifier')),
      agent: asIdentity(sandbox, agentId),
      seed: 1,
      signal: ac.signal,
    });
    return { err: new Error(`graded instead: ${JSON.stringify(out.score)}`), ms: Date.now() - t0 };
  } catch (err) {
    return { err, ms: Date.now() - t0 };
  } finally {
    clearInterval(poll);
  }
}

describe('the command verifier, interrupted', () => {
  it('while its test command runs: aborted, not graded by the killed run\'s exit code', { timeout: 60_000 }, async () => {
    // killed, this command exits non-zero with no reward file: graded, that would be a 0
    const { err, ms } = await commandAborted('touch /logs/verifier/started\nsleep 30\necho 1 > /logs/verifier/reward.txt');
    expect(isVerificationAborted(err), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/interrupted \(SIGINT\)/);
    expect(ms).toBeLessThan(20_000);
  });

  it("while the agent's code runs through agent-run: aborted", { timeout: 60_000 }, async () => {
    const { err } = await commandAborted('touch /logs/verifier/started\nagent-run sleep 30\necho "1 passed, 0 failed"');
    expect(isVerificationAborted(err), String(err)).toBe(true);
  });
});

describe('the speedup verifier, interrupted', () => {
  let k: Kit;
  beforeAll(async () => {
    k = await kit();
  }, 120_000);

  it('while its grader runs: aborted, not "grading was aborted" scored 0', { timeout: 180_000 }, async () => {
    const task = k.tasks.get('softmax')!;
    const ws = tmpdir('outlast-speedup-ws-');
    fs.cpSync(task.workspace_dir!, ws, { recursive: true });
    const scratch = tmpdir('outlast-speedup-scratch-');
    const v = new SpeedupVerifier({ ...task.verifier, ...SMOKE });
    // a first grading measures (and caches) the roofline, so the second is interrupted in its grader
    const first = await v.verify({ task, workspace: ws, tests: task.tests_dir, scratch, sandbox: k.sandbox, seed: 7, cacheDir: k.cacheDir });
    expect(first.score.details.correct, String(first.score.details.reason)).toBe(true);
    const ac = new AbortController();
    const out = path.join(scratch, 'speedup-out');
    // the grader has started once its out directory is there again and a moment has passed
    const t0 = Date.now();
    const timer = setTimeout(() => ac.abort(new Error('SIGTERM')), 700);
    let err: unknown = null;
    try {
      const o = await v.verify({ task, workspace: ws, tests: task.tests_dir, scratch, sandbox: k.sandbox, seed: 7, cacheDir: k.cacheDir, signal: ac.signal });
      err = new Error(`graded instead: ${JSON.stringify(o.score.details.reason)}`);
    } catch (e) {
      err = e;
    } finally {
      clearTimeout(timer);
    }
    expect(isVerificationAborted(err), String(err)).toBe(true);
    expect(fs.existsSync(out)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(first.run.duration_ms + 10_000);
  });
});
