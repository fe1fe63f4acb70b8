// The task hash: stable, content-addressed, sensitive to every byte, the exec bit and symlinks.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashTaskDir } from '../../src/tasks/hash.js';
import { loadTask } from '../../src/tasks/load.js';
import { cleanup, EXAMPLES, nativeTask, tmp } from './helpers.js';

afterAll(cleanup);

function copy(dir: string): string {
  const dest = path.join(tmp(), path.basename(dir));
  fs.cpSync(dir, dest, { recursive: true, verbatimSymlinks: true });
  return dest;
}

describe('hashTaskDir', () => {
  it('is sha256: and 64 hex digits, and the same on every call', async () => {
    const dir = nativeTask();
    const a = await hashTaskDir(dir);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await hashTaskDir(dir)).toBe(a);
  });

  it('is the same for the same content elsewhere, whatever the times', async () => {
    const dir = nativeTask();
    const other = copy(dir);
    fs.utimesSync(path.join(other, 'instruction.md'), new Date(0), new Date(0));
    expect(await hashTaskDir(other)).toBe(await hashTaskDir(dir));
  });

  it('changes when one byte changes', async () => {
    const dir = nativeTask();
    const before = await hashTaskDir(dir);
    const f = path.join(dir, 'workspace', 'a.txt');
    fs.writeFileSync(f, 'hellp\n');
    expect(await hashTaskDir(dir)).not.toBe(before);
  });

  it('changes when the exec bit changes, but not for other mode bits', async () => {
    const dir = nativeTask();
    const f = path.join(dir, 'workspace', 'a.txt');
    fs.chmodSync(f, 0o644);
    const before = await hashTaskDir(dir);
    fs.chmodSync(f, 0o600);
    expect(await hashTaskDir(dir)).toBe(before);
    fs.chmodSync(f, 0o744);
    expect(await hashTaskDir(dir)).not.toBe(before);
  });

  it('changes when a file is renamed, added, or an empty directory appears', async () => {
    const dir = nativeTask();
    const h0 = await hashTaskDir(dir);
    fs.renameSync(path.join(dir, 'workspace', 'a.txt'), path.join(dir, 'workspace', 'b.txt'));
    const h1 = await hashTaskDir(dir);
    expect(h1).not.toBe(h0);
    fs.mkdirSync(path.join(dir, 'workspace', 'empty'));
    const h2 = await hashTaskDir(dir);
    expect(h2).not.toBe(h1);
    fs.writeFileSync(path.join(dir, 'workspace', 'empty', 'f'), '');
    expect(await hashTaskDir(dir)).not.toBe(h2);
  });

  it('does not confuse a path boundary with content', async () => {
    const a = nativeTask({ 'workspace/a.txt': null, 'workspace/ab': 'c' });
    const b = nativeTask({ 'workspace/a.txt': null, 'workspace/a': 'bc' });
    expect(await hashTaskDir(a)).not.toBe(await hashTaskDir(b));
  });

  it('hashes symlinks by their target, without following them', async () => {
    const dir = nativeTask();
    fs.symlinkSync('a.txt', path.join(dir, 'workspace', 'link'));
    const h1 = await hashTaskDir(dir);
    fs.writeFileSync(path.join(dir, 'workspace', 'a.txt'), 'hello\n'); // same content: same hash
    expect(await hashTaskDir(dir)).toBe(h1);
    fs.unlinkSync(path.join(dir, 'workspace', 'link'));
    fs.symlinkSync('/nonexistent/elsewhere', path.join(dir, 'workspace', 'link'));
    expect(await hashTaskDir(dir)).not.toBe(h1);
  });

  it('ignores .git directories', async () => {
    const dir = nativeTask();
    const before = await hashTaskDir(dir);
    fs.mkdirSync(path.join(dir, '.git'));
    fs.writeFileSync(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    expect(await hashTaskDir(dir)).toBe(before);
  });

  it('is what loadTask reports, for native and Harbor tasks alike', async () => {
    for (const name of ['fix-failing-test', 'log-summary']) {
      const dir = path.join(EXAMPLES, name);
      const t = await loadTask(dir, { cacheDir: tmp('outlast-cache-') });
      expect(t.hash).toBe(await hashTaskDir(dir));
      expect(t.hash).toBe(await hashTaskDir(copy(dir)));
    }
  });
});
