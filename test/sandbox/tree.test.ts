// Host-side copies and removals of trees the agent made: the shapes an agent can leave behind
// (deep nesting, names that are not UTF-8, FIFOs and sockets, sparse files, links that lead to what
// the verifier sees) never hang, crash or mislead the copy.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyTree, DEFAULT_TREE_LIMITS, removeTree, sandboxLinkPolicy, TreeRefused } from '../../src/sandbox/tree.js';
import { tmpdir } from '../helpers/cli.js';

const B = (s: string): Buffer => Buffer.from(s);

describe('copyTree', () => {
  it('copies files, modes and symlinks (as links), skips sockets and FIFOs, clears setuid bits', async () => {
    const src = tmpdir();
    fs.mkdirSync(path.join(src, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a/b/run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(src, 'data.txt'), 'hello');
    fs.writeFileSync(path.join(src, 'suid'), 'x');
    fs.chmodSync(path.join(src, 'suid'), 0o4755);
    fs.symlinkSync('/etc/passwd', path.join(src, 'link'));
    execFileSync('mkfifo', [path.join(src, 'fifo')]);
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(path.join(src, 'sock'), r));
    const dst = path.join(tmpdir(), 'copy');
    const rep = await copyTree(src, dst);
    server.close();
    expect(rep).toMatchObject({ files: 3, symlinks: 1, bytes: 16, cleared_setid: 1 });
    expect(rep.skipped.sort()).toEqual(['fifo', 'sock']);
    expect(fs.statSync(path.join(dst, 'a/b/run.sh')).mode & 0o7777).toBe(0o755);
    expect(fs.statSync(path.join(dst, 'suid')).mode & 0o7777).toBe(0o755);
    expect(fs.readlinkSync(path.join(dst, 'link'))).toBe('/etc/passwd');
    expect(fs.readFileSync(path.join(dst, 'data.txt'), 'utf8')).toBe('hello');
    expect(fs.existsSync(path.join(dst, 'sock'))).toBe(false);
    expect(fs.existsSync(path.join(dst, 'fifo'))).toBe(false);
  });

  it('mirrors owner bits to the group and sets the owner when asked', async () => {
    const src = tmpdir();
    fs.writeFileSync(path.join(src, 'f'), 'x', { mode: 0o600 });
    fs.mkdirSync(path.join(src, 'd'), { mode: 0o700 });
    const dst = path.join(tmpdir(), 'copy');
    const owner = process.getuid!() === 0 ? { uid: 12345, gid: 23456 } : undefined;
    await copyTree(src, dst, { groupLikeOwner: true, owner });
    expect(fs.statSync(path.join(dst, 'f')).mode & 0o777).toBe(0o660);
    expect(fs.statSync(path.join(dst, 'd')).mode & 0o777).toBe(0o770);
    if (owner) expect(fs.statSync(path.join(dst, 'f'))).toMatchObject({ uid: 12345, gid: 23456 });
  });

  it('keeps names that are not UTF-8', async () => {
    const src = tmpdir();
    const odd = Buffer.concat([B(src + '/'), Buffer.from([0xff, 0xfe, 0x41])]);
    fs.mkdirSync(odd);
    fs.writeFileSync(Buffer.concat([odd, B('/f')]), 'inside');
    const dst = path.join(tmpdir(), 'copy');
    const rep = await copyTree(src, dst);
    expect(rep.files).toBe(1);
    expect(fs.readFileSync(Buffer.concat([B(dst + '/'), Buffer.from([0xff, 0xfe, 0x41]), B('/f')]), 'utf8')).toBe('inside');
  });

  it('refuses a tree nested deeper than the limit, leaves nothing behind, and removeTree removes it', async () => {
    const src = tmpdir();
    // 3,000 levels: deeper than PATH_MAX allows to name from the top (made with relative mkdirs)
    execFileSync('python3', ['-c', "import os\nfor i in range(3000):\n  os.mkdir('d'); os.chdir('d')\nopen('leaf','w').write('x')"], { cwd: src });
    const dst = path.join(tmpdir(), 'copy');
    const err = await copyTree(src, dst).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TreeRefused);
    expect((err as TreeRefused).reason).toMatch(/deeper than 128 levels/);
    expect(fs.existsSync(dst)).toBe(false);
    await removeTree(src);
    expect(fs.existsSync(src)).toBe(false);
  });

  it('counts sparse files at their apparent size and refuses a tree over the byte quota without writing it', async () => {
    const src = tmpdir();
    const fd = fs.openSync(path.join(src, 'sparse'), 'w');
    fs.ftruncateSync(fd, 8 * 1024 ** 4); // 8 TiB of holes
    fs.closeSync(fd);
    const dst = path.join(tmpdir(), 'copy');
    const t0 = Date.now();
    const err = await copyTree(src, dst, { limits: { ...DEFAULT_TREE_LIMITS, maxBytes: 1024 ** 3 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TreeRefused);
    expect((err as TreeRefused).reason).toMatch(/more than 1\.0 GiB \(apparent size/);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(fs.existsSync(dst)).toBe(false);
  });

  it('refuses more entries than the quota', async () => {
    const src = tmpdir();
    for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(src, `f${i}`), '');
    const err = await copyTree(src, path.join(tmpdir(), 'copy'), { limits: { ...DEFAULT_TREE_LIMITS, maxEntries: 20 } }).catch((e: unknown) => e);
    expect((err as TreeRefused).reason).toMatch(/more than 20 entries/);
  });
});

describe("the verifier copy's symlink policy", () => {
  it('keeps links inside the workspace and into the system, drops links to what only the verifier sees', async () => {
    const src = tmpdir();
    fs.mkdirSync(path.join(src, 'node_modules/pkg/bin'), { recursive: true });
    fs.mkdirSync(path.join(src, 'node_modules/.bin'), { recursive: true });
    fs.writeFileSync(path.join(src, 'node_modules/pkg/bin/cli.js'), '');
    const links: Record<string, string> = {
      'node_modules/.bin/cli': '../pkg/bin/cli.js', // npm's own kind: stays
      python3: '/usr/bin/python3', // a venv's kind: stays
      devnull: '/dev/null', // stays
      dangling: 'nowhere/at/all', // stays (harmless)
      abs_inside: '/workspace/node_modules/pkg/bin/cli.js', // stays
      expected: '/tests/expected_output.txt', // dropped
      up: '../tests/expected_output.txt', // dropped
      reward: '/logs/verifier/reward.txt', // dropped
      proc: '/proc/self/root/tests/x', // dropped
      root: '/', // dropped
      usr: '/usr', // stays on its own...
      via_usr: 'usr/../tests/expected_output.txt', // ...but dropped: the kernel goes /usr/.. = /
      chain1: 'chain2', // dropped: leads on to /tests
      chain2: 'chain3',
      chain3: '/tests',
      loop1: 'loop2', // dropped: a loop
      loop2: 'loop1',
    };
    for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(src, name));
    const dst = path.join(tmpdir(), 'copy');
    const rep = await copyTree(src, dst, { keepLink: sandboxLinkPolicy('/workspace') });
    expect(rep.dropped_links.sort()).toEqual(['chain1', 'chain2', 'chain3', 'expected', 'loop1', 'loop2', 'proc', 'reward', 'root', 'up', 'via_usr'].sort());
    for (const kept of ['node_modules/.bin/cli', 'python3', 'devnull', 'dangling', 'abs_inside', 'usr']) {
      expect(fs.lstatSync(path.join(dst, kept)).isSymbolicLink()).toBe(true);
    }
  });
});
