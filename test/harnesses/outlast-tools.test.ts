// The outlast harness's tools, run directly: file tools stay inside the workspace (symlinks
// included), edit_file needs one exact occurrence, bash runs in the sandbox with a timeout and a
// head+tail output cap, task tools parse an evaluation score.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/types.js';
import type { HarnessContext } from '../../src/harnesses/harness.js';
import { DEFAULT_SETTINGS } from '../../src/harnesses/outlast/index.js';
import { parseEvaluation, runTool, toolDefinitions } from '../../src/harnesses/outlast/tools.js';
import { createSandbox } from '../../src/sandbox/index.js';
import { TrajectoryWriter } from '../../src/store/trajectory.js';
import { cleanup, stepTask, tmpdir } from './helpers.js';

let ctx: HarnessContext;
let ws: string;
let outside: string;
const settings = { ...DEFAULT_SETTINGS, output_bytes: 1000, command_timeout_sec: 10 };
const run = (name: string, args: unknown) => runTool(name, args, { ctx, settings });

beforeAll(async () => {
  const task: Task = await stepTask();
  const dir = tmpdir();
  ws = path.join(dir, 'workspace');
  fs.mkdirSync(ws);
  outside = path.join(dir, 'secret.txt');
  fs.writeFileSync(outside, 'host secret\n');
  const sandbox = await createSandbox('bwrap');
  await sandbox.adopt(ws);
  ctx = { task, workspace: ws, sandbox, log: new TrajectoryWriter(path.join(dir, 't.jsonl'), { fsync: false }), limits: {}, seed: 0, signal: new AbortController().signal };
});
afterAll(() => {
  ctx.log.close();
  cleanup();
});

describe('file tools', () => {
  it('write, read (ranges), list', async () => {
    expect(await run('write_file', { path: 'src/a.txt', content: 'one\ntwo\nthree\nfour\n' })).toMatchObject({ exit_code: 0, output: 'wrote 19 bytes to src/a.txt' });
    expect((await run('read_file', { path: 'src/a.txt' })).output).toBe('one\ntwo\nthree\nfour');
    expect((await run('read_file', { path: '/workspace/src/a.txt', start_line: 2, end_line: 3 })).output).toBe('[lines 2-3 of 4]\ntwo\nthree');
    expect((await run('read_file', { path: 'src/a.txt', start_line: 9 })).error).toMatch(/past the end/);
    expect((await run('read_file', { path: 'nope.txt' })).error).toMatch(/no such file/);
    expect((await run('list_files', {})).output).toBe('src/\nsrc/a.txt');
  });

  it('edit_file replaces exactly one occurrence, with clear errors otherwise', async () => {
    await run('write_file', { path: 'e.py', content: 'x = 1\ny = 1\nx = 1\n' });
    const multi = await run('edit_file', { path: 'e.py', old_string: 'x = 1', new_string: 'x = 2' });
    expect(multi.exit_code).toBe(1);
    expect(multi.error).toBe('old_string occurs 2 times in e.py (at lines 1, 3); include more context to make it unique');
    const absent = await run('edit_file', { path: 'e.py', old_string: 'z = 1', new_string: 'z = 2' });
    expect(absent.error).toMatch(/old_string was not found in e.py/);
    expect(await run('edit_file', { path: 'e.py', old_string: 'y = 1', new_string: 'y = 3' })).toMatchObject({ exit_code: 0, output: 'edited e.py at line 2' });
    expect(fs.readFileSync(path.join(ws, 'e.py'), 'utf8')).toBe('x = 1\ny = 3\nx = 1\n');
  });

  it('refuses paths that leave the workspace, through symlinks too', async () => {
    expect((await run('read_file', { path: '../secret.txt' })).error).toMatch(/outside the workspace/);
    expect((await run('read_file', { path: '/etc/passwd' })).error).toMatch(/outside the workspace/);
    expect((await run('write_file', { path: '/tmp/x', content: 'x' })).error).toMatch(/outside the workspace/);
    fs.symlinkSync(outside, path.join(ws, 'link.txt'));
    fs.symlinkSync(path.dirname(outside), path.join(ws, 'linkdir'));
    expect((await run('read_file', { path: 'link.txt' })).error).toMatch(/through a symlink/);
    expect((await run('write_file', { path: 'link.txt', content: 'pwned' })).error).toMatch(/through a symlink/);
    expect((await run('write_file', { path: 'linkdir/new.txt', content: 'pwned' })).error).toMatch(/through a symlink/);
    expect((await run('edit_file', { path: 'linkdir/secret.txt', old_string: 'host', new_string: 'x' })).error).toMatch(/through a symlink/);
    expect(fs.readFileSync(outside, 'utf8')).toBe('host secret\n');
    expect(fs.existsSync(path.join(path.dirname(outside), 'new.txt'))).toBe(false);
    fs.rmSync(path.join(ws, 'link.txt'));
    fs.rmSync(path.join(ws, 'linkdir'));
  });

  it('bad calls come back as errors, not exceptions', async () => {
    expect((await run('frobnicate', {})).error).toBe('unknown tool "frobnicate"');
    expect((await run('write_file', '{"path": "a"')).error).toMatch(/not valid JSON/);
    expect((await run('write_file', { path: 'a' })).error).toMatch(/"content" must be a string/);
  });
});

describe('bash and task tools', () => {
  it('runs in the sandbox with an exit code', async () => {
    const r = await run('bash', { command: 'cd /workspace && echo hi > b.txt && cat b.txt && exit 3' });
    expect(r).toMatchObject({ exit_code: 3, output: 'hi\n', timed_out: false });
    expect(fs.readFileSync(path.join(ws, 'b.txt'), 'utf8')).toBe('hi\n');
  });

  it('caps output head + tail and says what was cut', async () => {
    const r = await run('bash', { command: 'seq 1 2000' });
    expect(r.truncated_bytes).toBeGreaterThan(7000);
    expect(r.output).toMatch(/^1\n2\n/);
    expect(r.output).toMatch(/1999\n2000\n$/);
    expect(r.output).toContain(`[... ${r.truncated_bytes} bytes cut ...]`);
  });

  it('times out', async () => {
    const r = await run('bash', { command: 'sleep 20', timeout_sec: 1 });
    expect(r.timed_out).toBe(true);
    expect(r.duration_ms).toBeLessThan(5000);
  });

  it("the task's evaluate tool is offered and parses the last JSON line", async () => {
    expect(toolDefinitions(ctx.task.tools).map((t) => t.name)).toEqual(['bash', 'read_file', 'write_file', 'edit_file', 'list_files', 'submit', 'evaluate']);
    fs.mkdirSync(path.join(ws, 'steps'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'steps', 'a'), '');
    const r = await run('evaluate', {});
    expect(r.evaluation).toEqual({ score: 1, passed: true, details: { score: 1, correct: true } });
    expect(parseEvaluation('x\n{"score": 0.5, "passed": false, "t": 3}\nbye\n')).toEqual({ score: 0.5, passed: false, details: { score: 0.5, passed: false, t: 3 } });
    expect(parseEvaluation('{"score": "high"}')).toBeUndefined();
    expect(parseEvaluation('no json')).toBeUndefined();
  });
});
