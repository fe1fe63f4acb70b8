// The task cache: directories outlast derives from a task's files once per task content (a Harbor
// task's replayed workspace, an `extends` task's merged workspace/tests/solution). Each lives under
// <cache>/<kind>/<key>, is built in a temporary directory and renamed into place (so concurrent
// loads are safe), and is shared by every rollout of the task: copy it, never write into it.
// Deleting the cache is always safe.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError, oneLine } from '../core/errors.js';
import { isDir } from './common.js';

/** The default cache directory: $OUTLAST_CACHE_DIR, else <os tmpdir>/outlast-cache-<uid> (one per user). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OUTLAST_CACHE_DIR) return path.resolve(env.OUTLAST_CACHE_DIR);
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return path.join(os.tmpdir(), `outlast-cache-${uid}`);
}

/** The cache key of a task hash: its first 40 hex digits and a version of the way the tree is built. */
export function cacheKey(hash: string, version: string): string {
  return `${hash.replace(/^sha256:/, '').slice(0, 40)}-${version}`;
}

/**
 * `<cacheDir>/<kind>/<key>`, built by `build(tmp)` into a fresh temporary directory the first time
 * (then renamed into place) and reused while it exists.
 */
export async function materialiseTree(cacheDir: string, kind: string, key: string, build: (root: string) => Promise<void>): Promise<string> {
  const base = path.join(cacheDir, kind);
  const final = path.join(base, key);
  if (await isDir(final)) return final;
  try {
    await fs.mkdir(base, { recursive: true });
  } catch (err) {
    throw new UserError(oneLine(`cannot create the task cache ${base}: ${(err as Error).message}; set OUTLAST_CACHE_DIR to a writable directory`));
  }
  const tmp = path.join(base, `.${key}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(tmp, { recursive: true });
    await build(tmp);
    try {
      await fs.rename(tmp, final);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
      // Another process materialised the same tree first: use its copy.
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return final;
}
