import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyWorkspace } from '../../src/runner/workspace.js';
import { tmpdir } from '../helpers/cli.js';

describe('copyWorkspace', () => {
  it('copies files, modes and symlinks (as links) and skips sockets', async () => {
    const src = tmpdir();
    fs.mkdirSync(path.join(src, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a/b/run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(src, 'data.txt'), 'hello');
    fs.symlinkSync('/etc/passwd', path.join(src, 'link'));
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(path.join(src, 'sock'), r));
    const dst = path.join(tmpdir(), 'copy');
    const rep = copyWorkspace(src, dst);
    server.close();
    expect(rep).toMatchObject({ files: 2, symlinks: 1, bytes: 15, skipped: ['sock'] });
    expect(fs.statSync(path.join(dst, 'a/b/run.sh')).mode & 0o777).toBe(0o755);
    expect(fs.readlinkSync(path.join(dst, 'link'))).toBe('/etc/passwd');
    expect(fs.readFileSync(path.join(dst, 'data.txt'), 'utf8')).toBe('hello');
    expect(fs.existsSync(path.join(dst, 'sock'))).toBe(false);
  });
});
