// Discovery: task dirs and suites from the command line, ordering, duplicates, GPU-only tasks.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverTasks, findTaskDirs, hasGpu } from '../../src/tasks/discover.js';
import { cleanup, EXAMPLES, NATIVE, tmp, writeTree } from './helpers.js';

afterAll(cleanup);

const opts = () => ({ cacheDir: tmp('outlast-cache-'), gpu: false });

function suite(tasks: Record<string, string>): string {
  const root = tmp('outlast-suite-');
  for (const [rel, toml] of Object.entries(tasks)) {
    const files: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...NATIVE, 'task.toml': toml })) files[`${rel}/${k}`] = v;
    writeTree(root, files);
  }
  return root;
}

describe('discoverTasks', () => {
  it('finds the four examples, in path order', async () => {
    const { tasks, skipped } = await discoverTasks([EXAMPLES], opts());
    expect(tasks.map((t) => t.name)).toEqual(['clean-csv', 'fix-failing-test', 'implement-function', 'log-summary']);
    expect(tasks.map((t) => t.format)).toEqual(['outlast', 'outlast', 'outlast', 'harbor']);
    expect(skipped).toEqual([]);
  });

  it('a task directory is one task', async () => {
    const { tasks } = await discoverTasks([path.join(EXAMPLES, 'implement-function')], opts());
    expect(tasks.map((t) => t.name)).toEqual(['implement-function']);
  });

  it('searches suites recursively, sorted by path, never inside a task or its workspace/tests/solution/environment', async () => {
    const root = suite({
      'b/two': '[task]\nname = "two"\n',
      'a/one': '[task]\nname = "one"\n',
      'a/one/nested': '[task]\nname = "nested-inside-a-task"\n',
      'c/workspace/hidden': '[task]\nname = "in-workspace"\n',
      'c/tests/hidden': '[task]\nname = "in-tests"\n',
      'c/environment/hidden': '[task]\nname = "in-environment"\n',
      'c/.cache/hidden': '[task]\nname = "in-dot-dir"\n',
      'c/three': '[task]\nname = "three"\n',
    });
    const { tasks } = await discoverTasks([root], opts());
    expect(tasks.map((t) => t.name)).toEqual(['one', 'two', 'three']);
    expect(await findTaskDirs(root)).toEqual(['a/one', 'b/two', 'c/three'].map((r) => path.join(root, r)));
  });

  it('keeps argument order across paths and counts a directory named twice once', async () => {
    const root = suite({ x: '[task]\nname = "x"\n', y: '[task]\nname = "y"\n' });
    const { tasks } = await discoverTasks([path.join(root, 'y'), root], opts());
    expect(tasks.map((t) => t.name)).toEqual(['y', 'x']);
  });

  it('accepts the path of a task.toml', async () => {
    const root = suite({ x: '[task]\nname = "x"\n' });
    const { tasks } = await discoverTasks([path.join(root, 'x', 'task.toml')], opts());
    expect(tasks.map((t) => t.name)).toEqual(['x']);
  });

  it('skips a GPU task on a machine without a GPU, with a reason', async () => {
    const root = suite({ cpu: '[task]\nname = "cpu"\n', gpu: '[task]\nname = "gpu"\n[requires]\ngpu = true\n' });
    const { tasks, skipped } = await discoverTasks([root], opts());
    expect(tasks.map((t) => t.name)).toEqual(['cpu']);
    expect(skipped).toEqual([{ dir: path.join(root, 'gpu'), reason: expect.stringMatching(/requires a GPU/) }]);
    const withGpu = await discoverTasks([root], { ...opts(), gpu: true });
    expect(withGpu.tasks.map((t) => t.name)).toEqual(['cpu', 'gpu']);
  });

  it('detects a GPU from /dev/nvidia0 or nvidia-smi on PATH', async () => {
    const bin = tmp();
    const none = await hasGpu({ PATH: bin });
    expect(none).toBe(fs.existsSync('/dev/nvidia0'));
    writeTree(bin, { 'nvidia-smi': '#!/bin/sh\nexit 0\n' });
    expect(await hasGpu({ PATH: bin })).toBe(true);
  });

  it('a nonexistent path is a one-line error naming it', async () => {
    await expect(discoverTasks(['/nonexistent/outlast-suite'], opts())).rejects.toThrow('no such task or suite directory: /nonexistent/outlast-suite');
  });

  it('a suite without any task is an error', async () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'empty', 'deeper'), { recursive: true });
    await expect(discoverTasks([root], opts())).rejects.toThrow(/no task found/);
  });

  it('two tasks with the same name are an error naming both directories', async () => {
    const root = suite({ a: '[task]\nname = "same"\n', b: '[task]\nname = "same"\n' });
    await expect(discoverTasks([root], opts())).rejects.toThrow(/duplicate task name "same": .*a and .*b/);
  });

  it('a malformed task inside a suite fails discovery with that task\'s message', async () => {
    const root = suite({ ok: '[task]\nname = "ok"\n', bad: '[limits]\nturns = -1\n' });
    await expect(discoverTasks([root], opts())).rejects.toThrow(/bad\/task\.toml: field limits\.turns/);
  });
});
