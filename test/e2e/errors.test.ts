// User mistakes give a one-line error and a non-zero exit, never a stack trace.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tmpdir, writeTree } from '../helpers/cli.js';

const GOOD = {
  'task.toml': '[task]\nname = "t"\n',
  'instruction.md': 'Do it.\n',
  'tests/test.sh': '#!/bin/bash\nexit 1\n',
  'solution/solve.sh': '#!/bin/bash\ntrue\n',
};

function task(over: Record<string, string | null>): string {
  const root = tmpdir('outlast-bad-');
  const files: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...GOOD, ...over })) if (v !== null) files[k] = v;
  writeTree(root, files);
  return root;
}

const cases: [string, () => string[], RegExp][] = [
  ['nonexistent path', () => ['run', '/nonexistent/outlast-task'], /nonexistent\/outlast-task/],
  ['repeats zero', () => ['run', task({}), '--repeats', '0'], /--repeats/],
  ['repeats not a number', () => ['run', task({}), '--repeats', 'many'], /--repeats/],
  ['unknown harness', () => ['run', task({}), '--harness', 'gpt-9'], /gpt-9/],
  ['unknown sandbox', () => ['run', task({}), '--sandbox', 'docker'], /docker/],
  ['missing task.toml', () => ['run', task({ 'task.toml': null })], /task/],
  ['bad TOML', () => ['run', task({ 'task.toml': '[task\nname = "t"\n' })], /task\.toml/],
  ['unknown field', () => ['run', task({ 'task.toml': '[task]\nname = "t"\ncolour = "red"\n' })], /colour/],
  ['negative limit', () => ['run', task({ 'task.toml': '[task]\nname = "t"\n[limits]\nwall_time_sec = -5\n' })], /wall_time_sec/],
  ['missing instruction', () => ['run', task({ 'instruction.md': null })], /instruction\.md/],
  ['solution without solve.sh', () => ['run', task({ 'solution/solve.sh': null, 'solution/notes.txt': 'x' })], /solve\.sh/],
  ['unknown experiment', () => ['show', 'exp-nope'], /exp-nope/],
  ['unknown command', () => ['fly'], /fly/],
  ['unknown option', () => ['run', task({}), '--turbo'], /--turbo/],
  // A key variable that is not set: refused before any rollout starts (not an infra_error per rollout).
  ['key variable not set', () => ['run', task({}), '--harness', 'outlast', '--model', 'm', '--models', modelsFile()], /model "m": the environment variable OUTLAST_TEST_UNSET_KEY .* is not set/],
];

function modelsFile(): string {
  const dir = tmpdir('outlast-models-');
  const f = path.join(dir, 'models.toml');
  fs.writeFileSync(f, '[[models]]\nname = "m"\nprotocol = "openai-chat"\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "OUTLAST_TEST_UNSET_KEY"\n');
  return f;
}

describe('bad input', () => {
  const home = tmpdir();
  for (const [name, args, mentions] of cases) {
    it(name, () => {
      const r = cli(args(), { home, timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^outlast: /);
      expect(lines[0]).toMatch(mentions);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr).not.toMatch(/internal error/);
    });
  }

  it('--help explains each command', () => {
    for (const c of ['run', 'check', 'show', 'list', 'resume', 'rebuild']) {
      const r = cli([c, '--help'], { home });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: outlast/);
    }
    expect(fs.existsSync(path.join(home, 'experiments'))).toBe(false);
  });
});
