// Find tasks from command-line paths: a directory with task.toml is a task; any other directory is
// a suite, searched recursively for task directories (never inside a task, nor into workspace/,
// tests/, solution/, environment/, node_modules/ or hidden directories). Tasks come back in path
// order within each suite, suites in argument order.
import { promises as fs } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors.js';
import type { Task } from '../core/types.js';
import { shown, statOrNull } from './common.js';
import { loadTask, type LoadOptions } from './load.js';

/** Directory names a suite search never enters. */
export const SUITE_SKIP_DIRS: readonly string[] = ['workspace', 'tests', 'solution', 'environment', 'node_modules'];

export interface SkippedTask {
  /** Absolute path of the task directory. */
  dir: string;
  /** One line: why it was skipped. */
  reason: string;
}

export interface Discovery {
  tasks: Task[];
  skipped: SkippedTask[];
}

export interface DiscoverOptions extends LoadOptions {
  /** Whether this machine has a GPU (default: detected with hasGpu()). */
  gpu?: boolean;
}

/** True when this machine has an NVIDIA GPU: /dev/nvidia0 exists or nvidia-smi is on PATH. */
export async function hasGpu(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (await statOrNull('/dev/nvidia0')) return true;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      await fs.access(path.join(dir, 'nvidia-smi'), fsConstants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Task directories below a suite directory, sorted by path. */
export async function findTaskDirs(suite: string): Promise<string[]> {
  const found: string[] = [];
  const seen = new Set<string>();
  async function walk(dir: string): Promise<void> {
    const real = await fs.realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    if (await statOrNull(path.join(dir, 'task.toml'))) {
      found.push(dir);
      return;
    }
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      if (name.startsWith('.') || SUITE_SKIP_DIRS.includes(name)) continue;
      const child = path.join(dir, name);
      const st = await statOrNull(child);
      if (st?.isDirectory()) await walk(child);
    }
  }
  await walk(suite);
  return found.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Load every task named by `paths` (task or suite directories). */
export async function discoverTasks(paths: string[], opts: DiscoverOptions = {}): Promise<Discovery> {
  const dirs: string[] = [];
  for (const p of paths) {
    const abs = path.resolve(p);
    const st = await statOrNull(abs);
    if (!st) throw new UserError(`no such task or suite directory: ${p}`);
    if (st.isFile() && path.basename(abs) === 'task.toml') {
      dirs.push(path.dirname(abs));
      continue;
    }
    if (!st.isDirectory()) throw new UserError(`${p}: not a directory; expected a task directory (with task.toml) or a suite of them`);
    if (await statOrNull(path.join(abs, 'task.toml'))) {
      dirs.push(abs);
      continue;
    }
    const inSuite = await findTaskDirs(abs);
    if (inSuite.length === 0) throw new UserError(`${p}: no task found (no directory below it holds a task.toml)`);
    dirs.push(...inSuite);
  }

  // The same directory named twice (e.g. a suite and one of its tasks) counts once.
  const unique: string[] = [];
  const seenReal = new Set<string>();
  for (const d of dirs) {
    const real = await fs.realpath(d);
    if (seenReal.has(real)) continue;
    seenReal.add(real);
    unique.push(d);
  }

  const gpu = opts.gpu ?? (await hasGpu());
  const tasks: Task[] = [];
  const skipped: SkippedTask[] = [];
  const byName = new Map<string, string>();
  for (const d of unique) {
    const task = await loadTask(d, opts);
    const other = byName.get(task.name);
    if (other !== undefined) {
      throw new UserError(`duplicate task name "${task.name}": ${shown(other)} and ${shown(d)}; give one a different [task] name`);
    }
    byName.set(task.name, d);
    if (task.requires.gpu && !gpu) {
      skipped.push({ dir: task.dir, reason: `task ${task.name} requires a GPU and this machine has none (no /dev/nvidia0, no nvidia-smi on PATH)` });
      continue;
    }
    tasks.push(task);
  }
  return { tasks, skipped };
}
