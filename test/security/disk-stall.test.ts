// A full disk stops a rollout without a grade only when the agent did not fill it (src/runner/
// grade.ts). An agent that fills the disk itself, from inside its own grading (the tests run its
// code, which writes into the workspace copy until the disk is full), must not be able to turn its
// 0 into a rollout that never finishes (excluded from the scores): it is graded, and the run ends.
// (A disk something else filled: test/e2e/disk-full.test.ts.)
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, smallDisk, unmountAll } from '../helpers/disk.js';
import { runAgent, task } from './helpers.js';

describe.runIf(isRoot)('class 3: filling the disk during the grading', () => {
  afterAll(unmountAll);

  it("the agent's code fills the disk while the tests run it: graded (0), not a resumable stop", { timeout: 120_000 }, async () => {
    const home = smallDisk('24m');
    const t = task({ 'tests/test.sh': '#!/bin/bash\nbash ./check.sh\n[ -f done.txt ] && [ -f never.txt ]\n' }, '[verifier]\ntimeout_sec = 60\n');
    const o = await runAgent(t, ['printf "head -c 100M /dev/zero > big; true\\n" > check.sh', 'touch done.txt'], { home });
    expect(o.cli.code, o.cli.stdout + o.cli.stderr).toBe(0);
    expect(o.cli.stderr).not.toMatch(/disk full|internal error/);
    expect(o.finished?.outcome).toBe('completed');
    expect(o.finished?.score).toMatchObject({ value: 0, passed: false });
  });

});
