// Helpers shared by the native and Harbor task loaders: reading task.toml and instruction.md,
// checking solution/ and tests/, and naming files the way the user typed them.
import { promises as fs } from 'node:fs';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { UserError, oneLine } from '../core/errors.js';
import type { TaskTool } from '../core/types.js';

/** A path as the user should see it: relative to the current directory when it lies below it. */
export function shown(p: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, p);
  if (rel === '') return '.';
  if (rel.startsWith('..') || path.isAbsolute(rel)) return p;
  return rel;
}

/** lstat that answers null for a missing path. */
export async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

/** stat (following symlinks) that answers null for a missing path. */
export async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.stat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw err;
  }
}

/** Read and parse `<dir>/task.toml`; syntax errors become one line with the line and column. */
export async function readTaskToml(dir: string): Promise<{ file: string; data: Record<string, unknown> }> {
  const file = path.join(dir, 'task.toml');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${shown(file)}: missing; a task directory needs a task.toml`);
    if (code === 'EISDIR') throw new UserError(`${shown(file)}: is a directory, expected a TOML file`);
    throw new UserError(`${shown(file)}: cannot read: ${oneLine((err as Error).message)}`);
  }
  try {
    return { file, data: parseToml(text) as Record<string, unknown> };
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '');
      throw new UserError(oneLine(`${shown(file)}:${err.line}:${err.column}: invalid TOML: ${first}`));
    }
    throw err;
  }
}

/** Read instruction.md: it must exist and say something. */
export async function readInstruction(dir: string): Promise<string> {
  const file = path.join(dir, 'instruction.md');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${shown(file)}: missing; the agent's instruction goes there`);
    throw new UserError(`${shown(file)}: cannot read: ${oneLine((err as Error).message)}`);
  }
  if (text.trim() === '') throw new UserError(`${shown(file)}: empty; the agent's instruction goes there`);
  return text;
}

/** An optional sub-directory: its absolute path, null when absent, an error when it is not a directory. */
export async function optionalDir(dir: string, name: string): Promise<string | null> {
  const p = path.join(dir, name);
  const st = await statOrNull(p);
  if (!st) return null;
  if (!st.isDirectory()) throw new UserError(`${shown(p)}: expected a directory, found a file`);
  return p;
}

/** solution/ is optional, but when present the oracle runs `bash /solution/solve.sh`. */
export async function checkSolution(solutionDir: string | null): Promise<void> {
  if (!solutionDir) return;
  const solve = path.join(solutionDir, 'solve.sh');
  const st = await statOrNull(solve);
  if (!st) throw new UserError(`${shown(solve)}: missing; solution/ exists and the oracle runs bash /solution/solve.sh`);
  if (!st.isFile()) throw new UserError(`${shown(solve)}: expected a file`);
}

/**
 * Every `/tests/<file>` a verifier command names must exist in the task's tests (`testsDir`: its
 * tests/, or the tree merged with its base; null when it has none). `shownDir` is the task's own
 * tests/ path, for the message.
 */
export async function checkTestsReferenced(testsDir: string | null, shownDir: string, command: string, field: string, tomlFile: string): Promise<void> {
  const refs = new Set<string>();
  for (const m of command.matchAll(/(?:^|[\s'"=:(])\/tests\/([A-Za-z0-9._\/-]+)/g)) refs.add(m[1]!.replace(/\/+$/, ''));
  const usesTestsDir = /(?:^|[\s'"=:(])\/tests(?:\/|\b)/.test(command);
  if (usesTestsDir && !testsDir) {
    throw new UserError(oneLine(`${shown(shownDir)}: missing; field ${field} of ${shown(tomlFile)} runs "${command}", which needs tests/`));
  }
  for (const ref of refs) {
    if (ref === '' || ref.split('/').includes('..') || !testsDir) continue;
    if (!(await statOrNull(path.join(testsDir, ref)))) {
      throw new UserError(oneLine(`${shown(path.join(shownDir, ref))}: missing; field ${field} of ${shown(tomlFile)} runs "${command}"`));
    }
  }
}

/** Tool names must be unique within a task. */
export function checkToolNames(tools: TaskTool[], tomlFile: string): void {
  const seen = new Set<string>();
  tools.forEach((t, i) => {
    if (seen.has(t.name)) throw new UserError(`${shown(tomlFile)}: field tools[${i}].name: duplicate tool name "${t.name}"`);
    seen.add(t.name);
  });
}

/** True when `p` is an existing directory. */
export async function isDir(p: string): Promise<boolean> {
  const st = await statOrNull(p);
  return !!st && st.isDirectory();
}

/**
 * A task directory is untrusted input: a symlink anywhere in it that leads outside it (e.g. a
 * `tests -> /etc` or `workspace/key -> /root/.ssh/id_rsa`) would put host files in front of the
 * agent or the verifier. Refuse the task with a one-line error naming the first such link.
 */
export async function checkTaskLinks(dir: string): Promise<void> {
  const root = await fs.realpath(dir);
  const stack = [root];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const ent of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, ent.name);
      if (ent.isDirectory()) {
        if (ent.name !== '.git') stack.push(p);
        continue;
      }
      if (!ent.isSymbolicLink()) continue;
      const target = await fs.readlink(p);
      let resolved: string;
      try {
        resolved = await fs.realpath(p);
      } catch {
        resolved = path.resolve(path.dirname(p), target); // dangling: judged by where it points
      }
      if (resolved !== root && !resolved.startsWith(root + path.sep)) {
        throw new UserError(oneLine(`${shown(path.join(dir, path.relative(root, p)))}: a symbolic link to ${target}, outside the task directory; a task may only link to its own files`));
      }
    }
  }
}
