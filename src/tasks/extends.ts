// `extends`: a task built on a base directory that holds a task family's shared files (see
// docs/task-format.md, "Task families"). task.toml's top-level `extends = "../common"` names the
// base, relative to the task directory. The base's workspace/, tests/ and solution/ are merged
// under the task's own (a file the task has wins over the base's file at the same path), once per
// task content, into the task cache; the task's workspace_dir / tests_dir / solution_dir point at
// the merged trees. The task hash covers the base's whole directory too.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { cacheKey, materialiseTree } from './cache.js';
import { lstatOrNull, shown, statOrNull } from './common.js';

/** Bumped whenever the way merged trees are built changes (part of the cache key). */
export const EXTENDS_VERSION = 'v1';
/** The directories of a task that a base contributes to. */
export const MERGED_TREES = ['workspace', 'tests', 'solution'] as const;

export interface TaskTrees {
  workspace_dir: string | null;
  tests_dir: string | null;
  solution_dir: string | null;
}

/** The base directory `extends` names, checked: relative, an existing directory, neither inside the task nor holding it. */
export async function resolveBase(taskDir: string, value: string, tomlFile: string): Promise<string> {
  const where = `${shown(tomlFile)}: field extends`;
  if (path.isAbsolute(value)) throw new UserError(`${where}: expected a path relative to the task directory, found "${value}"`);
  const base = path.resolve(taskDir, value);
  const st = await statOrNull(base);
  if (!st) throw new UserError(`${where}: the base directory ${shown(base)} does not exist`);
  if (!st.isDirectory()) throw new UserError(`${where}: ${shown(base)} is not a directory`);
  const [realTask, realBase] = [await fs.realpath(taskDir), await fs.realpath(base)];
  const inside = (a: string, b: string) => a === b || a.startsWith(b + path.sep);
  if (inside(realBase, realTask)) throw new UserError(`${where}: the base ${shown(base)} lies inside the task directory`);
  if (inside(realTask, realBase)) throw new UserError(`${where}: the base ${shown(base)} holds the task directory; name a sibling such as "../common"`);
  return base;
}

/** The hash of a task that extends a base: its own content hash combined with the base's. */
export function extendedHash(taskHash: string, baseHash: string): string {
  const h = createHash('sha256').update(`outlast-task-extends-v1\0${taskHash}\0${baseHash}\0`);
  return `sha256:${h.digest('hex')}`;
}

interface Entry {
  kind: 'dir' | 'file' | 'symlink';
  abs: string;
  mode: number;
  target?: string;
}

/** Every entry below `root` by relative path ('/'-separated); symlinks only where allowed. */
async function collect(root: string, rel: string, into: Map<string, Entry>, from: 'task' | 'base', taskRoot: string): Promise<void> {
  const abs = rel ? path.join(root, ...rel.split('/')) : root;
  for (const name of (await fs.readdir(abs)).sort()) {
    const childRel = rel ? `${rel}/${name}` : name;
    const childAbs = path.join(abs, name);
    const st = await fs.lstat(childAbs);
    const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : null;
    if (!kind) throw new UserError(`${shown(childAbs)}: not a regular file, directory or symbolic link`);
    if (kind === 'symlink' && from === 'base') throw new UserError(`${shown(childAbs)}: symbolic links are not allowed in a base directory`);
    const prev = into.get(childRel);
    if (prev && (prev.kind === 'dir') !== (kind === 'dir')) {
      throw new UserError(`${shown(path.join(taskRoot, ...childRel.split('/')))}: a directory in one of the task and its base, a file in the other`);
    }
    into.set(childRel, { kind, abs: childAbs, mode: st.mode, target: kind === 'symlink' ? await fs.readlink(childAbs) : undefined });
    if (kind === 'dir') await collect(root, childRel, into, from, taskRoot);
  }
}

/** The merged workspace/, tests/ and solution/ of `taskDir` over `baseDir`, materialised under the cache. */
export async function materialiseExtended(taskDir: string, baseDir: string, hash: string, cacheDir: string): Promise<TaskTrees> {
  const plans = new Map<string, Map<string, Entry>>();
  for (const tree of MERGED_TREES) {
    const entries = new Map<string, Entry>();
    let present = false;
    for (const [from, dir] of [['base', baseDir], ['task', taskDir]] as const) {
      const root = path.join(dir, tree);
      const st = await lstatOrNull(root);
      if (!st) continue;
      if (!st.isDirectory()) throw new UserError(`${shown(root)}: expected a directory, found a file`);
      present = true;
      await collect(root, '', entries, from, path.join(taskDir, tree));
    }
    if (present) plans.set(tree, entries);
  }
  const root = await materialiseTree(cacheDir, 'task-trees', cacheKey(hash, EXTENDS_VERSION), async (tmp) => {
    for (const [tree, entries] of plans) {
      const dest = path.join(tmp, tree);
      await fs.mkdir(dest, { recursive: true });
      for (const [rel, e] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const to = path.join(dest, ...rel.split('/'));
        if (e.kind === 'dir') await fs.mkdir(to, { recursive: true });
        else if (e.kind === 'symlink') await fs.symlink(e.target!, to);
        else {
          await fs.copyFile(e.abs, to);
          await fs.chmod(to, e.mode & 0o777);
        }
      }
    }
  });
  const at = (tree: string) => (plans.has(tree) ? path.join(root, tree) : null);
  return { workspace_dir: at('workspace'), tests_dir: at('tests'), solution_dir: at('solution') };
}
