// Helpers for the task-loading tests: temporary task directories built from a map of files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EXAMPLES = path.join(ROOT, 'tasks', 'examples');

const made: string[] = [];

export function tmp(prefix = 'outlast-tasks-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanup(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Write files (path → content, null = nothing); content starting with "#!" becomes executable. */
export function writeTree(root: string, files: Record<string, string | null>): string {
  for (const [rel, content] of Object.entries(files)) {
    if (content === null) continue;
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode: content.startsWith('#!') ? 0o755 : 0o644 });
  }
  return root;
}

/** A valid native task, with some files replaced (null removes one). */
export const NATIVE: Record<string, string> = {
  'task.toml': '[task]\nname = "t"\n',
  'instruction.md': 'Do the thing.\n',
  'workspace/a.txt': 'hello\n',
  'tests/test.sh': '#!/bin/bash\ntest -f done\n',
  'solution/solve.sh': '#!/bin/bash\ntouch done\n',
};

export function nativeTask(over: Record<string, string | null> = {}, name = 't'): string {
  const root = path.join(tmp(), name);
  fs.mkdirSync(root);
  return writeTree(root, { ...NATIVE, ...over });
}

/** A valid Harbor task, with some files replaced (null removes one). */
export const HARBOR: Record<string, string> = {
  'task.toml': 'version = "1.0"\n\n[metadata]\ndifficulty = "easy"\n\n[verifier]\ntimeout_sec = 60.0\n\n[agent]\ntimeout_sec = 120.0\n',
  'instruction.md': 'Do the thing in /app.\n',
  'environment/Dockerfile': 'FROM ubuntu:24.04\nWORKDIR /app\nCOPY data.txt /app/data.txt\n',
  'environment/data.txt': 'data\n',
  'tests/test.sh': '#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n',
  'solution/solve.sh': '#!/bin/bash\ntrue\n',
};

export function harborTask(over: Record<string, string | null> = {}, name = 'h'): string {
  const root = path.join(tmp(), name);
  fs.mkdirSync(root);
  return writeTree(root, { ...HARBOR, ...over });
}

/** Relative paths of every file and directory below `dir`, sorted. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(dir, r));
      out.push(st.isDirectory() ? r + '/' : r);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}
