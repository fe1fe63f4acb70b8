// Small real disks for full-disk tests: a tmpfs of a given size (root only: `mount -t tmpfs`),
// filled to the last byte by a filler file, and given back by removing or shrinking it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tmpdir } from './cli.js';

export const isRoot = process.getuid?.() === 0;

/** Mounts made by this process, unmounted by unmountAll() (call it in afterAll). */
const mounts: string[] = [];

/** A fresh directory with a tmpfs of `size` (e.g. "2m") mounted on it. */
export function smallDisk(size: string, extra = ''): string {
  const dir = tmpdir('outlast-small-disk-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${extra ? `,${extra}` : ''}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

export function unmountAll(): void {
  for (const m of mounts.splice(0)) {
    try {
      execFileSync('umount', ['-l', m]);
      fs.rmdirSync(m);
    } catch {
      /* already gone */
    }
  }
}

/** Bytes free on the filesystem holding `dir`. */
export function free(dir: string): number {
  const st = fs.statfsSync(dir);
  return st.bavail * st.bsize;
}

/** Fill the filesystem holding `dir` to the last byte with `<dir>/<name>`; returns the filler's path. */
export function fill(dir: string, name = '.filler'): string {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'a');
  const chunk = Buffer.alloc(64 * 1024, 0x78);
  try {
    for (;;) {
      let n = chunk.length;
      try {
        while (n > 0) n -= fs.writeSync(fd, chunk, chunk.length - n, n);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        break;
      }
    }
    // the last partial chunk may have left a few bytes: take them with one-byte writes
    for (;;) {
      try {
        if (fs.writeSync(fd, chunk, 0, 1) === 0) break;
      } catch {
        break;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** Give `bytes` back by shrinking the filler (it must hold at least that many). */
export function giveBack(filler: string, bytes: number): void {
  fs.truncateSync(filler, Math.max(0, fs.statSync(filler).size - bytes));
}
