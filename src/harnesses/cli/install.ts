// The install cache of external agent CLIs: each pinned npm package in its own folder
// `<cache>/<name>@<version>` (cache: $OUTLAST_CACHE/harnesses, else $XDG_CACHE_HOME/outlast/harnesses,
// else ~/.cache/outlast/harnesses), installed with `npm install --prefix` from whatever registry npm
// is configured to use (nothing is fetched from anywhere else), into a temporary folder renamed into
// place only when npm succeeded, so a half-finished install is never used. A folder is installed
// once and then shared by every rollout (mounted read-only into the sandbox).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError, oneLine } from '../../core/errors.js';
import type { NpmPackage } from './spec.js';

/** Written last into an install folder: its presence means the install is whole. */
const MARKER = '.outlast-install.json';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OUTLAST_CACHE) return path.resolve(env.OUTLAST_CACHE, 'harnesses');
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'outlast', 'harnesses');
}

/** The folder a package installs into. */
export function installDir(pkg: NpmPackage, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), `${pkg.name.replace(/^@/, '').replace(/\//g, '+')}@${pkg.version}`);
}

export function isInstalled(pkg: NpmPackage, env: NodeJS.ProcessEnv = process.env): boolean {
  return fs.existsSync(path.join(installDir(pkg, env), MARKER));
}

export interface InstallOptions {
  /** Where npm's progress goes (default: stderr). */
  progress?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Files of the package (relative to node_modules) to make executable after the install. */
  executables?: readonly string[];
  /** A folder with the `node` the package's install scripts must run with (first on npm's PATH). */
  nodeBinDir?: string;
}

/** Installs concurrently asked for in this process share one npm run. */
const pending = new Map<string, Promise<string>>();

/** The package's node_modules folder, installing the package first when it is not in the cache. */
export function ensureInstalled(pkg: NpmPackage, opts: InstallOptions = {}): Promise<string> {
  const dir = installDir(pkg, opts.env);
  if (fs.existsSync(path.join(dir, MARKER))) return Promise.resolve(path.join(dir, 'node_modules'));
  let p = pending.get(dir);
  if (!p) {
    p = install(pkg, dir, opts).finally(() => pending.delete(dir));
    pending.set(dir, p);
  }
  return p;
}

async function install(pkg: NpmPackage, dir: string, opts: InstallOptions): Promise<string> {
  const say = opts.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const spec = `${pkg.name}@${pkg.version}`;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.partial-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  // The install's own package.json: npm runs the install scripts of the packages its allowScripts
  // names (the CLI's own, when its spec asks), and of no other.
  fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'outlast-cli-install', private: true, allowScripts: pkg.scripts ? { [pkg.name]: true } : {} }) + '\n');
  const registry = await npmRegistry(opts.env);
  say(`outlast: installing ${spec} from ${registry} into ${dir}`);
  const args = ['install', '--prefix', tmp, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel', 'http', ...(pkg.scripts ? [] : ['--ignore-scripts']), spec];
  const base = opts.env ?? process.env;
  const env = opts.nodeBinDir ? { ...base, PATH: `${opts.nodeBinDir}${path.delimiter}${base.PATH ?? ''}` } : base;
  const { code, tail } = await runNpm(args, env, say);
  if (code !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new UserError(installError(spec, registry, tail));
  }
  for (const rel of opts.executables ?? []) {
    const f = path.join(tmp, 'node_modules', rel);
    if (fs.existsSync(f)) fs.chmodSync(f, 0o755);
  }
  // Readable by the sandbox's unprivileged identity whatever npm's umask was.
  fs.chmodSync(tmp, 0o755);
  fs.writeFileSync(path.join(tmp, MARKER), JSON.stringify({ package: pkg.name, version: pkg.version, registry, installed_at: new Date().toISOString() }) + '\n', { mode: 0o644 });
  try {
    fs.renameSync(tmp, dir);
  } catch (err) {
    // Another process finished the same install first: use theirs.
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, MARKER))) throw err;
  }
  say(`outlast: installed ${spec}`);
  return path.join(dir, 'node_modules');
}

/** The registry npm is configured to use (npmrc, npm_config_registry), for messages. */
async function npmRegistry(env?: NodeJS.ProcessEnv): Promise<string> {
  let out = '';
  const code = await new Promise<number>((resolve) => {
    const p = spawn('npm', ['config', 'get', 'registry'], { env: env ?? process.env, stdio: ['ignore', 'pipe', 'ignore'] });
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', () => resolve(127));
    p.on('close', (c) => resolve(c ?? 1));
  });
  if (code === 127) throw new UserError('cannot install external CLIs: npm was not found on PATH');
  return out.trim() || 'the npm registry';
}

function runNpm(args: string[], env: NodeJS.ProcessEnv | undefined, say: (l: string) => void): Promise<{ code: number; tail: string }> {
  return new Promise((resolve) => {
    const p = spawn('npm', args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const onData = (d: Buffer) => {
      const s = d.toString();
      tail = (tail + s).slice(-4000);
      for (const line of s.split('\n')) if (line.trim() && !/^npm (http (fetch|cache)|warn (EBADENGINE|install-scripts))|^npm warn\s*$/.test(line)) say(`  ${line.trimEnd()}`);
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    p.on('error', (e) => resolve({ code: 127, tail: e.message }));
    p.on('close', (c) => resolve({ code: c ?? 1, tail }));
  });
}

/** One line for a failed install: offline, an unknown version, or npm's own last error. */
export function installError(spec: string, registry: string, tail: string): string {
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network/i.test(tail)) {
    return `cannot install ${spec}: the npm registry (${registry}) cannot be reached (offline?); install it while online with \`outlast harness install\`, or set npm's registry to a mirror`;
  }
  if (/E404|ETARGET|No matching version/i.test(tail)) return `cannot install ${spec}: the registry ${registry} has no such package or version`;
  const last = tail.split('\n').filter((l) => /npm error/.test(l)).slice(-2).join(' ');
  return `cannot install ${spec} with npm: ${oneLine(last || tail).slice(0, 300)}`;
}
