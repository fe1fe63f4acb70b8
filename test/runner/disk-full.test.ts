// An append that fails reaches the rollout as a resumable stop with its reason (a real 4 MiB tmpfs as
// the home, as root): the harness's log.append finds the disk full, the rollout ends unfinished with
// DiskFull's one line, nothing is graded, and once space is free the same rollout resumes and ends
// as it would have: one rollout.finished, contiguous seqs, the attempts counted.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskFull } from '../../src/core/errors.js';
import type { RolloutSpec } from '../../src/core/types.js';
import type { Harness, HarnessContext, HarnessResult } from '../../src/harnesses/harness.js';
import { rolloutSeed } from '../../src/runner/experiment.js';
import { runRollout } from '../../src/runner/rollout.js';
import { createSandbox } from '../../src/sandbox/index.js';
import { Layout } from '../../src/store/layout.js';
import { openStore } from '../../src/store/index.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { loadTask } from '../../src/tasks/load.js';
import { tmpdir, writeTree } from '../helpers/cli.js';
import { fill, isRoot, smallDisk, unmountAll } from '../helpers/disk.js';

/** Writes its answer, then (the first time) fills the disk and tries to log a large note. */
class FillingHarness implements Harness {
  readonly name = 'filling';
  readonly version = '1';
  readonly settings = {};
  readonly resumable = true;
  filler: string | null = null;
  caught: unknown = null;
  constructor(private readonly fillOnce: boolean) {}
  async run(ctx: HarnessContext): Promise<HarnessResult> {
    fs.writeFileSync(path.join(ctx.workspace, 'answer.txt'), '42\n');
    if (this.fillOnce) {
      this.filler = fill(path.dirname(ctx.workspace), 'filler');
      try {
        // Until the disk refuses (the writer's reserve, when it had room for one, is spent first).
        for (let i = 0; i < 1000; i++) ctx.log.append({ type: 'note', level: 'info', message: 'z'.repeat(32 * 1024) });
      } catch (e) {
        this.caught = e;
        throw e;
      }
    }
    return { outcome: 'completed', reason: 'wrote it', tool_calls: 0, turns: 0 };
  }
}

describe.runIf(isRoot)('an append that fails', () => {
  afterAll(unmountAll);

  it('stops the rollout, resumable, with the reason; it resumes once space is free', { timeout: 60_000 }, async () => {
    const taskDir = writeTree(tmpdir(), {
      'task.toml': '[task]\nname = "fill"\n',
      'instruction.md': 'x\n',
      'workspace/.keep': '',
      'tests/test.sh': '#!/bin/bash\ngrep -qx 42 answer.txt\n',
    });
    const task = await loadTask(taskDir);
    const layout = new Layout(smallDisk('4m'));
    const store = await openStore(layout);
    const spec: RolloutSpec = {
      rollout_id: 'fill--filling--r1',
      experiment_id: 'exp-full',
      task: { name: task.name, family: task.family, dir: task.dir, hash: task.hash, format: task.format },
      harness: { name: 'filling', version: '1', settings: {} },
      model: null,
      verifier: task.verifier,
      repeat: 1,
      seed: rolloutSeed('exp-full', 'fill--filling--r1'),
      limits: {},
      sandbox: 'bwrap',
    };
    const sandbox = await createSandbox('bwrap');
    const first = new FillingHarness(true);
    const r1 = await runRollout({ layout, store, spec, task, harness: first, sandbox });
    expect(first.caught).toBeInstanceOf(DiskFull);
    expect(r1.interrupted).toBe(true);
    expect(r1.outcome).toBeNull();
    expect(r1.score).toBeNull();
    expect(r1.halted).toBe(first.caught);
    expect(r1.reason).toMatch(/^disk full: could not write .*trajectory\.jsonl \(32\.\d KiB needed, [\d.]+ (B|KiB) free; ENOSPC\)$/);
    const file = layout.trajectory(spec.experiment_id, spec.rollout_id);
    const stopped = readTrajectory(file);
    expect(stopped.bad).toEqual([]);
    expect(stopped.torn).toBeNull();
    expect(stopped.events.some((e) => e.type === 'rollout.finished' || e.type === 'verifier.result')).toBe(false);

    fs.rmSync(first.filler!);
    const r2 = await runRollout({ layout, store, spec, task, harness: new FillingHarness(false), sandbox });
    await store.close();
    expect(r2.outcome).toBe('completed');
    expect(r2.score?.passed).toBe(true);
    const all = readTrajectory(file).events;
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i));
    const fin = all.filter((e) => e.type === 'rollout.finished');
    expect(fin).toHaveLength(1);
    expect(fin[0]!.type === 'rollout.finished' && fin[0]!.totals.attempts).toBe(2);
  });
});
