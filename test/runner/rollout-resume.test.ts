// Resuming a rollout whose crash cut the preparation short: the half-copied workspace is not kept,
// even for a harness that can continue from its workspace.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Harness, HarnessContext, HarnessResult } from '../../src/harnesses/harness.js';
import { runRollout } from '../../src/runner/rollout.js';
import { rolloutSeed } from '../../src/runner/experiment.js';
import { createSandbox } from '../../src/sandbox/index.js';
import { Layout } from '../../src/store/layout.js';
import { openStore } from '../../src/store/index.js';
import { TrajectoryWriter } from '../../src/store/trajectory.js';
import { loadTask } from '../../src/tasks/load.js';
import type { RolloutSpec } from '../../src/core/types.js';
import { tmpdir, writeTree } from '../helpers/cli.js';

/** A resumable harness that only looks: it records which files its workspace holds. */
class LookingHarness implements Harness {
  readonly name = 'looking';
  readonly version = '1';
  readonly settings = {};
  readonly resumable = true;
  seen: string[] = [];
  async run(ctx: HarnessContext): Promise<HarnessResult> {
    this.seen = fs.readdirSync(ctx.workspace).sort();
    return { outcome: 'completed', reason: 'looked', tool_calls: 0, turns: 0 };
  }
}

describe('resume after a crash during prepare', () => {
  it('copies the task workspace again instead of keeping a partial one', async () => {
    const taskDir = writeTree(tmpdir(), {
      'task.toml': '[task]\nname = "copy"\n',
      'instruction.md': 'Nothing to do.\n',
      'workspace/a.txt': 'a',
      'workspace/b.txt': 'b',
      'tests/test.sh': '#!/bin/bash\ntest -f a.txt && test -f b.txt\n',
    });
    const task = await loadTask(taskDir);
    const layout = new Layout(tmpdir());
    const store = await openStore(layout);
    const spec: RolloutSpec = {
      rollout_id: 'copy--looking--r1',
      experiment_id: 'exp-test',
      task: { name: task.name, family: task.family, dir: task.dir, hash: task.hash, format: task.format },
      harness: { name: 'looking', version: '1', settings: {} },
      model: null,
      verifier: task.verifier,
      repeat: 1,
      seed: rolloutSeed('exp-test', 'copy--looking--r1'),
      limits: {},
      sandbox: 'bwrap',
    };
    // What a crash in the middle of copying leaves: the start of prepare logged, one file copied.
    const log = new TrajectoryWriter(layout.trajectory(spec.experiment_id, spec.rollout_id));
    log.append({ type: 'rollout.started', spec, versions: { outlast: '0', commit: null, node: process.version }, sandbox: { mode: 'bwrap', unsandboxed: false, enforced: {} } });
    log.append({ type: 'phase', phase: 'prepare', status: 'started' });
    log.close();
    const ws = layout.workspace(spec.experiment_id, spec.rollout_id);
    fs.mkdirSync(ws, { recursive: true });
    fs.writeFileSync(path.join(ws, 'a.txt'), 'a');

    const harness = new LookingHarness();
    const r = await runRollout({ layout, store, spec, task, harness, sandbox: await createSandbox('bwrap') });
    await store.close();
    expect(harness.seen).toEqual(['a.txt', 'b.txt']);
    expect(r.outcome).toBe('completed');
    expect(r.score?.passed).toBe(true);
  });
});
