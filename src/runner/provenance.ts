// Versions recorded with every rollout: outlast's package version, the git commit it was built
// from (when run from a checkout), and the Node.js version.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the outlast package (the directory holding package.json). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('outlast package.json not found');
    dir = up;
  }
  return dir;
}

let cached: { outlast: string; commit: string | null; node: string } | null = null;

export function versions(): { outlast: string; commit: string | null; node: string } {
  if (cached) return cached;
  const root = packageRoot();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  let commit: string | null = null;
  if (fs.existsSync(path.join(root, '.git'))) {
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
      const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      if (commit && dirty) commit += '-dirty';
    } catch {
      commit = null;
    }
  }
  cached = { outlast: pkg.version, commit, node: process.version };
  return cached;
}
