// Python hardening for the processes a verification runs (the grading code and the agent's code run
// through agent-run). Hardening, not a guarantee: it closes the cheap ways a workspace changes what
// Python runs, while code the tests import on purpose still runs (docs/task-format.md).
//   PYTHONSAFEPATH=1          the script's directory or the cwd (the agent's workspace) is not put
//                             first on sys.path: a workspace `pytest.py` cannot shadow pytest
//                             under `python3 -m pytest` (Python 3.11+; `-P` on our own command lines)
//   PYTHONDONTWRITEBYTECODE=1 nothing is written next to the sources
//   PYTHONPYCACHEPREFIX       byte code is read only from PYCACHE_MOUNT, never from the workspace's
//                             __pycache__/: an unchecked-hash .pyc there cannot stand in for the .py
//                             beside it
// PYCACHE_MOUNT is a read-only tree of links to the byte code the system's Python already has under
// /usr, so the standard library still starts from its caches (a python3 that imports json, re and
// unittest: 0.04 s instead of 0.13 s compiling them all). It is built once per machine and Python
// installation under outlast's cache directory (see pycacheMirror); a stale one is only slower (a
// missing link means that module compiles from source), never wrong, as links lead only into /usr.
import { createHash } from 'node:crypto';
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { PYCACHE_MOUNT } from '../core/mounts.js';
import type { Mount } from '../sandbox/sandbox.js';
import { defaultCacheDir } from '../tasks/harbor.js';

export const PYTHON_HARDENING: Readonly<Record<string, string>> = {
  PYTHONSAFEPATH: '1',
  PYTHONDONTWRITEBYTECODE: '1',
  PYTHONPYCACHEPREFIX: PYCACHE_MOUNT,
};

/** Where the system's Python keeps its modules (inside /usr, which every sandbox sees read-only). */
const PYTHON_ROOTS = ['/usr/lib', '/usr/local/lib'];

let mirror: Promise<string | null> | undefined;

/**
 * A directory laid out as PYTHONPYCACHEPREFIX expects (`<prefix>/usr/lib/python3.11/json/__init__.cpython-311.pyc`)
 * whose entries are links to the system's own `__pycache__` files, or null when there is no Python
 * under /usr or the cache directory is not outlast's own. Once per process.
 */
export function pycacheMirror(cacheDir = defaultCacheDir()): Promise<string | null> {
  mirror ??= buildMirror(cacheDir).catch(() => null);
  return mirror;
}

async function buildMirror(cacheDir: string): Promise<string | null> {
  const roots: string[] = [];
  const key = createHash('sha256');
  for (const root of PYTHON_ROOTS) {
    for (const e of await entries(root)) {
      if (!e.isDirectory() || !/^python3/.test(e.name)) continue;
      const dir = path.join(root, e.name);
      roots.push(dir);
      // the directory and its subdirectories change when Python or a package is installed
      for (const d of [dir, ...(await entries(dir)).filter((x) => x.isDirectory()).map((x) => path.join(dir, x.name))]) {
        key.update(`${d}\0${(await fs.stat(d)).mtimeMs}\0`);
      }
    }
  }
  if (roots.length === 0) return null;
  const base = path.join(cacheDir, 'python-pycache');
  await fs.mkdir(base, { recursive: true, mode: 0o755 });
  for (const d of [cacheDir, base]) if (!(await ownDir(d))) return null;
  const dir = path.join(base, key.digest('hex').slice(0, 16));
  if (await ownDir(dir)) return dir;
  const tmp = await fs.mkdtemp(path.join(base, 'building-'));
  const stack = [...roots];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const e of await entries(d)) {
      if (!e.isDirectory()) continue;
      const sub = path.join(d, e.name);
      if (e.name !== '__pycache__') {
        stack.push(sub);
        continue;
      }
      const into = path.join(tmp, d);
      await fs.mkdir(into, { recursive: true, mode: 0o755 });
      for (const f of await entries(sub)) if (f.isFile() && f.name.endsWith('.pyc')) await fs.symlink(path.join(sub, f.name), path.join(into, f.name));
    }
  }
  await fs.chmod(tmp, 0o755); // mkdtemp made it 0700: every sandbox identity must read the tree
  try {
    await fs.rename(tmp, dir);
  } catch {
    await fs.rm(tmp, { recursive: true, force: true }); // another process finished first
  }
  return (await ownDir(dir)) ? dir : null;
}

/** A directory (not a link) of this process's user that no one else may write. */
async function ownDir(d: string): Promise<boolean> {
  const st = await fs.lstat(d).catch(() => null);
  return !!st && st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
}

async function entries(d: string): Promise<Dirent[]> {
  return fs.readdir(d, { withFileTypes: true }).catch(() => []);
}

/** The read-only mount of the mirror (none when there is no system Python). */
export async function pycacheMounts(): Promise<Mount[]> {
  const m = await pycacheMirror();
  return m ? [{ host: m, target: PYCACHE_MOUNT, readonly: true }] : [];
}
