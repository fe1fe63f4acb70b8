// Task families: `extends = "../common"` merges a base directory's workspace/, tests/ and solution/
// under a task's own at load time (materialised in the task cache), and the task hash covers the
// base. Real directories, real loads; the kernels suite is the family in the tree.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTask } from '../../src/tasks/load.js';
import { cleanup, ROOT, tmp, writeTree } from './helpers.js';

afterAll(cleanup);

/** A suite dir with a base `common/` and a task `t/` extending it. */
function family(base: Record<string, string | null>, task: Record<string, string | null>, toml = 'extends = "../common"\n[task]\nname = "t"\n'): string {
  const suite = tmp();
  writeTree(path.join(suite, 'common'), base);
  writeTree(path.join(suite, 't'), { 'task.toml': toml, 'instruction.md': 'Do it.\n', ...task });
  return path.join(suite, 't');
}
const files = (dir: string | null): Record<string, string> => {
  const out: Record<string, string> = {};
  if (!dir) return out;
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const abs = path.join(e.parentPath, e.name);
    out[path.relative(dir, abs)] = fs.readFileSync(abs, 'utf8');
  }
  return out;
};

describe('extends', () => {
  it('merges the base under the task, the task winning on the same path, execute bits kept', async () => {
    const dir = family(
      { 'workspace/shared.txt': 'base\n', 'workspace/over.txt': 'base\n', 'workspace/sub/deep.txt': 'deep\n', 'tests/test.sh': '#!/bin/bash\ntrue\n', 'solution/solve.sh': '#!/bin/bash\n' },
      { 'workspace/over.txt': 'task\n', 'workspace/own.txt': 'own\n' },
    );
    const cache = tmp();
    const t = await loadTask(dir, { cacheDir: cache });
    expect(t.workspace_dir!.startsWith(path.join(cache, 'task-trees'))).toBe(true);
    expect(files(t.workspace_dir)).toEqual({ 'shared.txt': 'base\n', 'over.txt': 'task\n', 'own.txt': 'own\n', 'sub/deep.txt': 'deep\n' });
    expect(files(t.tests_dir)).toEqual({ 'test.sh': '#!/bin/bash\ntrue\n' });
    expect(fs.statSync(path.join(t.tests_dir!, 'test.sh')).mode & 0o111).not.toBe(0);
    expect(t.solution_dir).not.toBeNull();
    // loaded again: the same cached trees
    expect((await loadTask(dir, { cacheDir: cache })).workspace_dir).toBe(t.workspace_dir);
  });

  it('the hash covers the base: a byte changed in the base changes it and gives fresh trees', async () => {
    const dir = family({ 'workspace/a.txt': 'one\n', 'tests/test.sh': '#!/bin/bash\n' }, {});
    const cache = tmp();
    const a = await loadTask(dir, { cacheDir: cache });
    fs.writeFileSync(path.join(dir, '../common/workspace/a.txt'), 'two\n');
    const b = await loadTask(dir, { cacheDir: cache });
    expect(b.hash).not.toBe(a.hash);
    expect(files(b.workspace_dir)).toEqual({ 'a.txt': 'two\n' });
    expect(files(a.workspace_dir)).toEqual({ 'a.txt': 'one\n' });
    // a file outside workspace/tests/solution of the base counts too
    fs.writeFileSync(path.join(dir, '../common/notes.md'), 'x\n');
    expect((await loadTask(dir, { cacheDir: cache })).hash).not.toBe(b.hash);
  });

  it('the verifier command may name a test file that only the base has', async () => {
    const dir = family({ 'tests/grade.sh': '#!/bin/bash\n' }, {}, 'extends = "../common"\n[verifier]\ncommand = "bash /tests/grade.sh"\n');
    const t = await loadTask(dir, { cacheDir: tmp() });
    expect(t.verifier).toMatchObject({ command: 'bash /tests/grade.sh' });
    const bad = family({ 'tests/other.sh': '#!/bin/bash\n' }, {}, 'extends = "../common"\n[verifier]\ncommand = "bash /tests/grade.sh"\n');
    await expect(loadTask(bad, { cacheDir: tmp() })).rejects.toThrow(/tests\/grade\.sh: missing; field verifier\.command/);
  });

  it('refuses a missing, absolute, enclosing or enclosed base, a file/directory clash and symlinks in the base', async () => {
    const cache = tmp();
    const load = (dir: string) => loadTask(dir, { cacheDir: cache });
    await expect(load(family({}, {}, 'extends = "../nope"\n'))).rejects.toThrow(/field extends: the base directory .*nope does not exist/);
    await expect(load(family({}, {}, 'extends = "/usr"\n'))).rejects.toThrow(/field extends: expected a path relative to the task directory/);
    await expect(load(family({}, {}, 'extends = ".."\n'))).rejects.toThrow(/holds the task directory/);
    await expect(load(family({}, { 'inner/x': 'x' }, 'extends = "inner"\n'))).rejects.toThrow(/lies inside the task directory/);
    await expect(load(family({ 'workspace/x/y.txt': 'y' }, { 'workspace/x': 'file' }))).rejects.toThrow(/workspace\/x: a directory in one of the task and its base, a file in the other/);
    const linked = family({ 'workspace/a.txt': 'a' }, {});
    fs.symlinkSync('/etc/passwd', path.join(linked, '../common/workspace/pw'));
    await expect(load(linked)).rejects.toThrow(/symbolic links are not allowed in a base directory/);
    await expect(load(family({}, {}, 'extends = ""\n'))).rejects.toThrow(/field extends/);
  });

  it('a task without extends is loaded as before (its own directories, its own hash)', async () => {
    const dir = family({ 'workspace/a.txt': 'a' }, { 'workspace/b.txt': 'b', 'tests/test.sh': '#!/bin/bash\n' }, '[task]\nname = "t"\n');
    const t = await loadTask(dir, { cacheDir: tmp() });
    expect(t.workspace_dir).toBe(path.join(dir, 'workspace'));
    expect(files(t.workspace_dir)).toEqual({ 'b.txt': 'b' });
  });
});

describe('the kernels family', () => {
  const KERNELS = ['extend-attention', 'softmax', 'rmsnorm', 'matmul'];

  it('every kernels task extends tasks/kernels/common; no shared file is copied into a task, none twice anywhere', async () => {
    const common = path.join(ROOT, 'tasks/kernels/common');
    const shared = new Set([...Object.keys(files(path.join(common, 'workspace'))).map((f) => `workspace/${f}`), ...Object.keys(files(path.join(common, 'tests'))).map((f) => `tests/${f}`), ...Object.keys(files(path.join(common, 'solution'))).map((f) => `solution/${f}`)]);
    expect(fs.existsSync(path.join(common, 'sync.sh'))).toBe(false);
    const cache = tmp();
    for (const name of KERNELS) {
      const dir = path.join(ROOT, 'tasks/kernels', name);
      const own = Object.keys(files(dir)).filter((f) => /^(workspace|tests|solution)\//.test(f));
      expect(own.filter((f) => shared.has(f)), `${name} copies shared files`).toEqual([]);
      // the task's tests/ holds only what is hidden: its workloads
      expect(own.filter((f) => f.startsWith('tests/')).sort(), name).toEqual(['tests/workloads.txt', 'tests/workloads_smoke.txt']);
      const t = await loadTask(dir, { cacheDir: cache });
      const ws = files(t.workspace_dir);
      for (const f of ['driver.h', 'grader.c', 'worker.c', 'check_kernel.py', 'build.sh', 'eval.sh', 'build.conf', 'driver.c', 'kernel.h', 'reference.c', 'kernel.conf', 'kernel.c', 'workloads.txt']) {
        expect(ws[f], `${name}: workspace/${f}`).toBeDefined();
      }
      // the starting kernel is the reference the grader times against
      expect(ws['kernel.c']).toBe(ws['reference.c']);
      expect(Object.keys(files(t.tests_dir)).sort()).toEqual(['grade.sh', 'workloads.txt', 'workloads_smoke.txt']);
      expect(Object.keys(files(t.solution_dir)).sort()).toEqual(['kernel.c', 'solve.sh']);
      expect(t.tools.find((x) => x.name === 'evaluate')).toMatchObject({ command: 'bash "$OUTLAST_TASK/eval.sh"', records_evaluation: true });
    }
  });
});
