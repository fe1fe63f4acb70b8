import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTestCounts, readReward } from '../../src/verifiers/command.js';
import { tmpdir } from '../helpers/cli.js';

describe('parseTestCounts', () => {
  it('reads "N passed, N failed" in either order and takes the last such line', () => {
    expect(parseTestCounts('3 passed, 1 failed')).toEqual({ passed: 3, failed: 1 });
    expect(parseTestCounts('==== 1 failed, 2 passed in 0.1s ====')).toEqual({ passed: 2, failed: 1 });
    expect(parseTestCounts('first: 1 passed, 1 failed\nlater: 5 passed, 0 failed\n')).toEqual({ passed: 5, failed: 0 });
    expect(parseTestCounts('result: 4 passed')).toEqual({ passed: 4, failed: 0 });
    expect(parseTestCounts('no counts here')).toBeNull();
  });
});

describe('readReward', () => {
  it('reads reward.txt, reward.json and reports garbage', () => {
    const d = tmpdir();
    expect(readReward(d)).toBeNull();
    fs.writeFileSync(path.join(d, 'reward.json'), '{"reward": 0.5, "extra": "x"}');
    expect(readReward(d)).toEqual({ value: 0.5, file: 'reward.json' });
    fs.writeFileSync(path.join(d, 'reward.txt'), ' 1\n');
    expect(readReward(d)).toEqual({ value: 1, file: 'reward.txt' });
    fs.writeFileSync(path.join(d, 'reward.txt'), 'yes');
    expect(readReward(d)).toMatchObject({ file: 'reward.txt', error: expect.stringMatching(/not a number/) });
    fs.rmSync(path.join(d, 'reward.txt'));
    fs.writeFileSync(path.join(d, 'reward.json'), '{"a": 1, "b": 2}');
    expect(readReward(d)).toMatchObject({ error: expect.stringMatching(/no "reward"/) });
  });
});
