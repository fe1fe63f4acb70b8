// Content hash of a whole task directory: it goes into every rollout's provenance, so two rollouts
// with the same hash ran the same task, wherever its directory was.
//
// sha256 over every entry below the directory (skipping `.git` directories), in order of relative
// path (compared as UTF-8 bytes, `/` as separator). Each entry contributes a header and, for regular
// files, the file's bytes:
//   "d\0<path>\0"                                   a directory (so empty directories count)
//   "f\0<path>\0<x|->\0<size>\0" + bytes            a regular file; x = any execute bit is set
//   "l\0<path>\0<target>\0"                          a symbolic link, by its target (not followed)
//   "o\0<path>\0"                                    anything else (fifo, socket, device)
// Only the execute bit of the mode counts, so umask and ownership do not change the hash; times
// never count. The result is `sha256:` and 64 hex digits.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';

/** Names of directories the hash skips, at any depth. */
export const HASH_SKIP_DIRS: readonly string[] = ['.git'];

interface Entry {
  rel: string;
  abs: string;
}

async function walk(root: string, rel: string, out: Entry[]): Promise<void> {
  const abs = rel ? path.join(root, rel) : root;
  const names = await fs.readdir(abs);
  for (const name of names) {
    const childRel = rel ? `${rel}/${name}` : name;
    const childAbs = path.join(abs, name);
    const st = await fs.lstat(childAbs);
    if (st.isDirectory()) {
      if (HASH_SKIP_DIRS.includes(name)) continue;
      out.push({ rel: childRel, abs: childAbs });
      await walk(root, childRel, out);
    } else {
      out.push({ rel: childRel, abs: childAbs });
    }
  }
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

async function feedFile(h: Hash, file: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createReadStream(file);
    s.on('data', (chunk) => h.update(chunk));
    s.on('error', reject);
    s.on('end', () => resolve());
  });
}

/** `sha256:<hex>` of the directory's content (see the header of this file for exactly what counts). */
export async function hashTaskDir(dir: string): Promise<string> {
  const entries: Entry[] = [];
  await walk(dir, '', entries);
  entries.sort((a, b) => compareBytes(a.rel, b.rel));
  const h = createHash('sha256');
  h.update('outlast-task-hash-v1\0');
  for (const e of entries) {
    const st = await fs.lstat(e.abs);
    if (st.isDirectory()) {
      h.update(`d\0${e.rel}\0`);
    } else if (st.isFile()) {
      h.update(`f\0${e.rel}\0${st.mode & 0o111 ? 'x' : '-'}\0${st.size}\0`);
      await feedFile(h, e.abs);
    } else if (st.isSymbolicLink()) {
      h.update(`l\0${e.rel}\0${await fs.readlink(e.abs)}\0`);
    } else {
      h.update(`o\0${e.rel}\0`);
    }
  }
  return `sha256:${h.digest('hex')}`;
}
