// Every malformed input is a one-line UserError that names the file and the field at fault.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../src/core/errors.js';
import { loadTask } from '../../src/tasks/load.js';
import { cleanup, harborTask, nativeTask, tmp } from './helpers.js';

afterAll(cleanup);

interface Case {
  name: string;
  /** Builds the task directory; returns the path to load. */
  make: () => string;
  /** File named in the message, relative to the task directory ('' = the path itself). */
  file: string;
  /** Field (or other detail) the message must name. */
  field: string | RegExp;
}

const toml = (s: string) => ({ 'task.toml': s });
/** Add a symlink `rel` -> `target` to a task directory; returns the directory. */
const withLink = (dir: string, rel: string, target: string): string => {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.symlinkSync(target, path.join(dir, rel));
  return dir;
};

const cases: Case[] = [
  { name: 'missing task.toml', make: () => nativeTask({ 'task.toml': null }), file: 'task.toml', field: 'missing' },
  { name: 'task.toml is a directory', make: () => nativeTask({ 'task.toml': null, 'task.toml/x': 'x' }), file: 'task.toml', field: 'is a directory' },
  { name: 'bad TOML syntax, with its line number', make: () => nativeTask(toml('[task]\nname = "t"\nturns = = 3\n')), file: 'task.toml:3:', field: 'invalid TOML' },
  { name: 'unclosed table header', make: () => nativeTask(toml('[task\nname = "t"\n')), file: 'task.toml:1:', field: 'invalid TOML' },
  { name: 'unknown top-level field', make: () => nativeTask(toml('colour = "red"\n')), file: 'task.toml', field: '"colour"' },
  { name: 'unknown field in a section', make: () => nativeTask(toml('[limits]\nturnz = 3\n')), file: 'task.toml', field: /"turnz" in limits/ },
  { name: 'wrong type', make: () => nativeTask(toml('[limits]\nturns = "ten"\n')), file: 'task.toml', field: /field limits\.turns: .*found "ten"/ },
  { name: 'negative limit', make: () => nativeTask(toml('[limits]\nwall_time_sec = -5\n')), file: 'task.toml', field: /field limits\.wall_time_sec: .*found number -5/ },
  { name: 'zero limit', make: () => nativeTask(toml('[limits]\ncost_usd = 0\n')), file: 'task.toml', field: 'field limits.cost_usd' },
  { name: 'fractional turns', make: () => nativeTask(toml('[limits]\nturns = 1.5\n')), file: 'task.toml', field: 'field limits.turns' },
  { name: 'negative sandbox memory', make: () => nativeTask(toml('[sandbox]\nmemory_mb = -1\n')), file: 'task.toml', field: 'field sandbox.memory_mb' },
  { name: 'zero agent timeout', make: () => nativeTask(toml('[agent]\ntimeout_sec = 0\n')), file: 'task.toml', field: 'field agent.timeout_sec' },
  { name: 'requires.gpu not a boolean', make: () => nativeTask(toml('[requires]\ngpu = "yes"\n')), file: 'task.toml', field: 'field requires.gpu' },
  { name: 'invalid task name', make: () => nativeTask(toml('[task]\nname = "has space"\n')), file: 'task.toml', field: 'field task.name' },
  { name: 'missing instruction.md', make: () => nativeTask({ 'instruction.md': null }), file: 'instruction.md', field: 'missing' },
  { name: 'empty instruction.md', make: () => nativeTask({ 'instruction.md': '  \n\n' }), file: 'instruction.md', field: 'empty' },
  { name: 'solution/ without solve.sh', make: () => nativeTask({ 'solution/solve.sh': null, 'solution/notes.txt': 'x' }), file: 'solution/solve.sh', field: 'missing' },
  { name: 'nonexistent path', make: () => path.join(tmp(), 'no-such-task'), file: '', field: 'no such task or suite directory' },
  { name: 'tests/ missing for the default verifier command', make: () => nativeTask({ 'tests/test.sh': null }), file: 'tests', field: 'field verifier.command' },
  { name: 'tests/test.sh missing from tests/', make: () => nativeTask({ 'tests/test.sh': null, 'tests/other.py': 'x' }), file: 'tests/test.sh', field: 'field verifier.command' },
  { name: 'a file the verifier command names is missing', make: () => nativeTask(toml('[verifier]\ncommand = "python3 /tests/check.py"\n')), file: 'tests/check.py', field: 'field verifier.command' },
  { name: 'tools entry missing command', make: () => nativeTask(toml('[[tools]]\nname = "evaluate"\n')), file: 'task.toml', field: 'field tools[0].command' },
  { name: 'duplicate tool names', make: () => nativeTask(toml('[[tools]]\nname = "e"\ncommand = "true"\n[[tools]]\nname = "e"\ncommand = "false"\n')), file: 'task.toml', field: /field tools\[1\]\.name: duplicate tool name "e"/ },
  { name: 'invalid tool name', make: () => nativeTask(toml('[[tools]]\nname = "run tests"\ncommand = "true"\n')), file: 'task.toml', field: 'field tools[0].name' },
  { name: 'unknown verifier kind', make: () => nativeTask(toml('[verifier]\nkind = "vibes"\n')), file: 'task.toml', field: /field verifier\.kind: .*"command".*found "vibes"/ },
  { name: 'command verifier with another kind\'s setting', make: () => nativeTask(toml('[verifier]\nexpected = "42"\n')), file: 'task.toml', field: /"expected" in verifier/ },
  { name: 'reward_range with lo >= hi', make: () => nativeTask(toml('[verifier]\nreward_range = [1, 0]\n')), file: 'task.toml', field: /field verifier\.reward_range: expected \[lo, hi\] with lo < hi/ },
  { name: 'reward_range of one number', make: () => nativeTask(toml('[verifier]\nreward_range = [1]\n')), file: 'task.toml', field: 'field verifier.reward_range' },
  { name: 'unknown score_from', make: () => nativeTask(toml('[verifier]\nscore_from = "vibes"\n')), file: 'task.toml', field: /field verifier\.score_from: .*"reward"/ },
  { name: 'empty verifier command', make: () => nativeTask(toml('[verifier]\ncommand = ""\n')), file: 'task.toml', field: 'field verifier.command' },
  { name: 'workspace is a file', make: () => nativeTask({ 'workspace/a.txt': null, workspace: 'not a dir' }), file: 'workspace', field: 'expected a directory' },
  { name: 'Harbor: tests/test.sh missing', make: () => harborTask({ 'tests/test.sh': null, 'tests/x.py': 'x' }), file: 'tests/test.sh', field: 'missing' },
  { name: 'Harbor: bad verifier timeout', make: () => harborTask(toml('version = "1.0"\n[verifier]\ntimeout_sec = -1.0\n')), file: 'task.toml', field: 'field verifier.timeout_sec' },
  { name: 'Harbor: agent timeout of the wrong type', make: () => harborTask(toml('[agent]\ntimeout_sec = "long"\n')), file: 'task.toml', field: 'field agent.timeout_sec' },
  { name: 'Harbor: Windows task', make: () => harborTask(toml('[environment]\nos = "windows"\n')), file: 'task.toml', field: 'field environment.os' },
  { name: 'Harbor: solution/ without solve.sh', make: () => harborTask({ 'solution/solve.sh': null, 'solution/x': 'x' }), file: 'solution/solve.sh', field: 'missing' },
  { name: 'Harbor: COPY of a missing file', make: () => harborTask({ 'environment/data.txt': null }), file: 'environment/Dockerfile:3', field: 'COPY' },
  { name: 'Harbor: WORKDIR /', make: () => harborTask({ 'environment/Dockerfile': 'FROM x\nWORKDIR /\n' }), file: 'environment/Dockerfile:2', field: 'WORKDIR /' },
  { name: 'Harbor: WORKDIR inside /usr', make: () => harborTask({ 'environment/Dockerfile': 'FROM x\nWORKDIR /usr/src/app\nRUN true\n' }), file: 'environment/Dockerfile:2', field: /WORKDIR \/usr\/src\/app: .*\/usr/ },
  // a task is untrusted input: links out of its directory would show host files to the agent or verifier
  { name: 'tests/ is a symlink out of the task', make: () => withLink(nativeTask({ 'tests/test.sh': null }), 'tests', '/etc'), file: 'tests', field: 'outside the task directory' },
  { name: 'solution/ is a symlink out of the task', make: () => withLink(nativeTask({ 'solution/solve.sh': null }), 'solution', '/root'), file: 'solution', field: 'outside the task directory' },
  { name: 'workspace/ holds a symlink to a host file', make: () => withLink(nativeTask(), 'workspace/key', '/etc/ssh/ssh_host_ed25519_key'), file: 'workspace/key', field: 'outside the task directory' },
  { name: 'tests/ holds a relative link out of the task', make: () => withLink(nativeTask(), 'tests/up', '../../../etc/passwd'), file: 'tests/up', field: 'outside the task directory' },
  { name: 'a dangling link that would lead out', make: () => withLink(nativeTask(), 'workspace/later', '/nonexistent/x'), file: 'workspace/later', field: 'outside the task directory' },
  { name: 'Harbor: environment/ file linked to a host file (COPY would read it)', make: () => withLink(harborTask({ 'environment/data.txt': null }), 'environment/data.txt', '/etc/shadow'), file: 'environment/data.txt', field: 'outside the task directory' },
  { name: 'Harbor: bad outlast extension', make: () => harborTask(toml('version = "1.0"\n[limits]\nturns = 0\n')), file: 'task.toml', field: 'field limits.turns' },
];

describe('malformed task directories', () => {
  it('covers at least 12 kinds', () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const target = c.make();
      let err: unknown;
      try {
        await loadTask(target, { cacheDir: tmp('outlast-cache-') });
      } catch (e) {
        err = e;
      }
      expect(err, 'loadTask should have thrown').toBeDefined();
      expect(isUserError(err), String(err)).toBe(true);
      const msg = (err as Error).message;
      expect(msg).not.toMatch(/[\r\n]/);
      expect(msg.length).toBeLessThan(400);
      expect(msg).toContain(c.file ? path.join(target, c.file) : target);
      if (typeof c.field === 'string') expect(msg).toContain(c.field);
      else expect(msg).toMatch(c.field);
    });
  }
});
