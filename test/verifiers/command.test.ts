// The command verifier's pure parts on real files: test counts (and the agent's phrases skipped),
// reward files (read no-follow and non-blocking, checked), redaction of hidden test lines, and the
// sweep of what the agent's code leaves in the workspace copy.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countPhrases, parseTestCounts } from '../../src/verifiers/counts.js';
import { REDACTED, Redactor, redactorFor } from '../../src/verifiers/redact.js';
import { outOfRange, parseRewardJson, parseRewardText, readReward } from '../../src/verifiers/reward.js';
import { sweepWorkspace } from '../../src/verifiers/workspace-links.js';
import { tmpdir } from '../helpers/cli.js';

describe('parseTestCounts', () => {
  it('reads "N passed, N failed" in either order and takes the last such line', () => {
    expect(parseTestCounts('3 passed, 1 failed')).toEqual({ passed: 3, failed: 1 });
    expect(parseTestCounts('==== 1 failed, 2 passed in 0.1s ====')).toEqual({ passed: 2, failed: 1 });
    expect(parseTestCounts('first: 1 passed, 1 failed\nlater: 5 passed, 0 failed\n')).toEqual({ passed: 5, failed: 0 });
    expect(parseTestCounts('result: 4 passed')).toEqual({ passed: 4, failed: 0 });
    expect(parseTestCounts('no counts here')).toBeNull();
  });

  it('skips lines whose count phrase the agent printed, even inside a longer line', () => {
    const agent = new Set(countPhrases('fake: 12 passed, 0 failed\n'));
    expect(agent).toEqual(new Set(['12 passed, 0 failed']));
    const out = 'tests: 3 passed, 9 failed\nagent said: 12 passed, 0 failed\n';
    expect(parseTestCounts(out)).toEqual({ passed: 12, failed: 0 });
    expect(parseTestCounts(out, agent)).toEqual({ passed: 3, failed: 9 });
    expect(parseTestCounts('12 passed, 0 failed\n', agent)).toBeNull();
  });
});

describe('reward files', () => {
  it('parses plain decimals only', () => {
    expect(parseRewardText(' 1\n')).toEqual({ value: 1 });
    expect(parseRewardText('0.25')).toEqual({ value: 0.25 });
    expect(parseRewardText('1e300')).toEqual({ value: 1e300 });
    for (const bad of ['', 'yes', 'NaN', 'Infinity', '-Infinity', '0x1', '1,0', '1 1', '1e400']) {
      expect(parseRewardText(bad), bad).toHaveProperty('error');
    }
    expect(parseRewardJson('{"reward": 0.5, "extra": "x"}')).toEqual({ value: 0.5 });
    expect(parseRewardJson('0.5')).toEqual({ value: 0.5 });
    expect(parseRewardJson('{"score": 0.5}')).toEqual({ value: 0.5 });
    expect(parseRewardJson('{"reward": "1"}')).toMatchObject({ error: expect.stringMatching(/a string, not a number/) });
    expect(parseRewardJson('{"reward": 1e400}')).toMatchObject({ error: expect.stringMatching(/not a finite number/) });
    expect(parseRewardJson('{"reward": true}')).toMatchObject({ error: expect.stringMatching(/boolean/) });
    expect(parseRewardJson('{"a": 1, "b": 2}')).toMatchObject({ error: expect.stringMatching(/no "reward"/) });
    expect(parseRewardJson('[1]')).toMatchObject({ error: expect.stringMatching(/no "reward"/) });
    expect(parseRewardJson('{')).toMatchObject({ error: expect.stringMatching(/not valid JSON/) });
  });

  it('checks the range', () => {
    expect(outOfRange(1, [0, 1])).toBeNull();
    expect(outOfRange(0, [0, 1])).toBeNull();
    expect(outOfRange(1e300, [0, 1])).toMatch(/outside the task's reward_range \[0, 1\]/);
    expect(outOfRange(-1, [0, 1])).toMatch(/outside/);
    expect(outOfRange(50, [0, 100])).toBeNull();
  });

  it('reads reward.txt before reward.json, and refuses links, FIFOs, directories and huge files without blocking', async () => {
    const d = tmpdir();
    expect(await readReward(d)).toBeNull();
    fs.writeFileSync(path.join(d, 'reward.json'), '{"reward": 0.5}');
    expect(await readReward(d)).toEqual({ value: 0.5, file: 'reward.json' });
    fs.writeFileSync(path.join(d, 'reward.txt'), '1\n');
    expect(await readReward(d)).toEqual({ value: 1, file: 'reward.txt' });
    fs.rmSync(path.join(d, 'reward.txt'));
    fs.symlinkSync('/etc/hostname', path.join(d, 'reward.txt'));
    expect(await readReward(d)).toEqual({ file: 'reward.txt', error: 'reward.txt is a symbolic link' });
    fs.rmSync(path.join(d, 'reward.txt'));
    execFileSync('mkfifo', [path.join(d, 'reward.txt')]);
    expect(await readReward(d)).toMatchObject({ file: 'reward.txt', error: 'reward.txt is not a regular file' });
    fs.rmSync(path.join(d, 'reward.txt'));
    fs.rmSync(path.join(d, 'reward.json'));
    fs.mkdirSync(path.join(d, 'reward.json'));
    expect(await readReward(d)).toEqual({ file: 'reward.json', error: 'reward.json is a directory' });
    fs.rmdirSync(path.join(d, 'reward.json'));
    fs.writeFileSync(path.join(d, 'reward.txt'), '1'.repeat(1024 * 1024));
    expect(await readReward(d)).toMatchObject({ file: 'reward.txt', error: expect.stringMatching(/more than the 65536 allowed/) });
  });
});

describe('Redactor', () => {
  const tests = 'import unittest\n\n    def test_x(self):\n        self.assertEqual(median([10, 2, 8, 4]), 6)\n    x = 1\n';

  it('replaces output lines that equal or hold a hidden test line, and leaves the rest', () => {
    const r = new Redactor();
    r.add(tests);
    const out = [
      'ok   test_x',
      '    self.assertEqual(median([10, 2, 8, 4]), 6)',
      'LEAK>self.assertEqual(median([10, 2, 8, 4]), 6)<',
      'import unittest',
      'x = 1',
      '8 passed, 4 failed',
    ].join('\n');
    const { text, lines } = r.redact(out);
    expect(lines).toBe(3);
    expect(text.split('\n')).toEqual(['ok   test_x', REDACTED, REDACTED, REDACTED, 'x = 1', '8 passed, 4 failed']);
  });

  it('bounds the work on output made to hit many shared-prefix test lines: such a line is redacted', () => {
    const r = new Redactor();
    r.add(Array.from({ length: 5000 }, (_, j) => `${'0,'.repeat(30)}x${j}`).join('\n'));
    // 32,768 positions × 5,000 candidates would be 1.6e8 comparisons; the budget stops far sooner
    expect(r.redact('0,'.repeat(32 * 1024)).lines).toBe(1);
    expect(r.redact('0,0,0,0,0,0,0,0,0,0,0 but short').lines).toBe(0);
  });

  it('indexes the text files of a directory and skips binary ones', async () => {
    const d = tmpdir();
    fs.mkdirSync(path.join(d, 'sub'));
    fs.writeFileSync(path.join(d, 'sub', 'test_a.py'), tests);
    fs.writeFileSync(path.join(d, 'blob.bin'), Buffer.from('\0\0binary line that is long enough\n'));
    const r = await redactorFor(d);
    expect(r.redact('import unittest').lines).toBe(1);
    expect(r.redact('binary line that is long enough').lines).toBe(0);
    expect((await redactorFor(null)).redact('import unittest').lines).toBe(0);
  });
});

describe('sweepWorkspace', () => {
  it('removes links to what only the verifier sees, FIFOs and sockets; keeps the rest', async () => {
    const ws = tmpdir();
    fs.mkdirSync(path.join(ws, 'd'));
    fs.writeFileSync(path.join(ws, 'real.txt'), 'x');
    fs.symlinkSync('/tests/expected_output.txt', path.join(ws, 'output.txt'));
    fs.symlinkSync('../../logs/verifier/reward.txt', path.join(ws, 'd', 'r'));
    fs.symlinkSync('real.txt', path.join(ws, 'ok-link'));
    fs.symlinkSync('/usr/bin/python3', path.join(ws, 'py'));
    execFileSync('mkfifo', [path.join(ws, 'd', 'fifo')]);
    const r = await sweepWorkspace(ws, '/workspace');
    expect(r).toEqual({ removed: 3 });
    expect(fs.readdirSync(ws).sort()).toEqual(['d', 'ok-link', 'py', 'real.txt']);
    expect(fs.readdirSync(path.join(ws, 'd'))).toEqual([]);
  });

  it('refuses a tree deeper than the snapshot allows', async () => {
    const ws = tmpdir();
    fs.mkdirSync(path.join(ws, ...Array(8).fill('d')), { recursive: true });
    const r = await sweepWorkspace(ws, '/workspace', { maxBytes: 1e9, maxEntries: 1000, maxDepth: 5, maxPathBytes: 3000 });
    expect(r.refused).toMatch(/deeper than 5 levels/);
  });
});
