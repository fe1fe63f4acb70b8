// Helpers for whole-CLI tests: run the real `outlast` binary (built to dist/ by `npm test`) in a
// child process, and write small task directories.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'outlast.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: { home: string; cwd?: string; env?: Record<string, string>; timeoutMs?: number }): CliResult {
  const r = spawnSync(process.execPath, [BIN, '--home', opts.home, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, CI: '1', ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Start the CLI without waiting (for kill tests). */
export function cliSpawn(args: string[], opts: { home: string; cwd?: string }) {
  return spawn(process.execPath, [BIN, '--home', opts.home, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function tmpdir(prefix = 'outlast-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write files (path → content; a content starting with "#!" becomes executable). */
export function writeTree(root: string, files: Record<string, string>): string {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode: content.startsWith('#!') ? 0o755 : 0o644 });
  }
  return root;
}

/** Like `cli`, without blocking this process's event loop (needed when this process serves HTTP the CLI calls). */
export async function cliAsync(args: string[], opts: { home: string; cwd?: string; timeoutMs?: number }): Promise<CliResult> {
  const child = cliSpawn(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The first rollout's trajectory file under a home directory, or null before one exists. */
export function firstTrajectory(home: string): string | null {
  const root = path.join(home, 'experiments');
  for (const exp of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    const dir = path.join(root, exp, 'rollouts');
    for (const r of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const f = path.join(dir, r, 'trajectory.jsonl');
      if (fs.existsSync(f)) return f;
    }
  }
  return null;
}

/** Every file under `dir` (relative path → its text), for comparing workspaces. */
export function treeFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out[r] = fs.readFileSync(path.join(d, e.name), 'utf8');
    }
  };
  walk(dir, '');
  return out;
}
