// Harbor / Terminal-Bench 2 task directories, run without Docker.
//
//   task.toml            Harbor's fields (version, [metadata], [verifier], [agent], [environment]...)
//   instruction.md       what the agent reads
//   environment/         Dockerfile and its build context
//   tests/test.sh        the verifier: writes /logs/verifier/reward.txt or reward.json
//   solution/solve.sh    the oracle
//
// The Dockerfile is not built. Its final WORKDIR (default /app) is where the workspace is mounted,
// and its COPY/ADD lines that bring build-context files under that WORKDIR are replayed into a
// workspace directory, materialised once per task hash in a cache directory. Every other line, and
// every task.toml field outlast does not use, is listed in `task.ignored`, one line each.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError, oneLine } from '../core/errors.js';
import type { Task, TaskTool } from '../core/types.js';
import { parseWith } from '../core/validate.js';
import {
  type DockerInstruction,
  dockerignoreMatcher,
  expandVars,
  finalChain,
  globToRegExp,
  hasGlob,
  parseAssignments,
  parseDockerfile,
  shellWords,
  splitStages,
} from './dockerfile.js';
import {
  DEFAULT_AGENT_TIMEOUT_SEC,
  DEFAULT_SANDBOX,
  DEFAULT_WORKSPACE_QUOTA,
  DEFAULT_VERIFIER_COMMAND,
  DEFAULT_VERIFIER_TIMEOUT_SEC,
  limitsSchema,
  requiresSchema,
  sandboxSchema,
  taskNameSchema,
  toolsSchema,
} from './schema.js';
import { cacheKey, defaultCacheDir, materialiseTree } from './cache.js';
import { checkSolution, checkToolNames, isDir, lstatOrNull, optionalDir, readInstruction, shown, statOrNull } from './common.js';

export { defaultCacheDir } from './cache.js';

/** Where a Harbor task's workspace is mounted when its Dockerfile sets no WORKDIR. */
export const HARBOR_DEFAULT_WORKDIR = '/app';
/** Bumped whenever the way workspaces are materialised changes (part of the cache key). */
export const MATERIALISER_VERSION = 'v1';

/** Top-level task.toml keys only Harbor uses; any of them (without outlast-only keys) means Harbor. */
const HARBOR_ONLY_KEYS = ['version', 'schema_version', 'source', 'metadata', 'environment', 'solution'];
/** Top-level task.toml keys only outlast's native format uses. */
const NATIVE_ONLY_KEYS = ['limits', 'sandbox', 'tools', 'requires', 'extends'];

/** Is this task directory in Harbor's format? Yes when it has environment/, or Harbor-only fields and no outlast-only ones. */
export async function isHarborTask(dir: string, toml: Record<string, unknown>): Promise<boolean> {
  if (await isDir(path.join(dir, 'environment'))) return true;
  const keys = Object.keys(toml);
  if (keys.some((k) => NATIVE_ONLY_KEYS.includes(k))) return false;
  const task = toml.task;
  const harborTaskKeys =
    task !== null && typeof task === 'object' && ('authors' in (task as object) || 'keywords' in (task as object));
  const nativeVerifier =
    toml.verifier !== null && typeof toml.verifier === 'object' && ('kind' in (toml.verifier as object) || 'command' in (toml.verifier as object));
  if (nativeVerifier) return false;
  return keys.some((k) => HARBOR_ONLY_KEYS.includes(k)) || harborTaskKeys;
}

const positive = () => z.number().positive();
const envTable = () => z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

const harborTomlSchema = z.looseObject({
  version: z.union([z.string(), z.number()]).optional(),
  schema_version: z.union([z.string(), z.number()]).optional(),
  source: z.string().optional(),
  task: z
    .looseObject({
      name: taskNameSchema.optional(),
      description: z.string().optional(),
      authors: z.array(z.unknown()).optional(),
      keywords: z.array(z.string()).optional(),
    })
    .optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  verifier: z.looseObject({ timeout_sec: positive().optional(), env: envTable().optional() }).optional(),
  agent: z.looseObject({ timeout_sec: positive().optional(), setup_timeout_sec: positive().optional() }).optional(),
  solution: z.looseObject({ env: envTable().optional() }).optional(),
  environment: z
    .looseObject({
      build_timeout_sec: positive().optional(),
      docker_image: z.string().optional(),
      os: z.enum(['linux'], { message: 'expected "linux" (outlast runs Linux tasks only)' }).optional(),
      cpus: positive().optional(),
      memory_mb: positive().optional(),
      storage_mb: positive().optional(),
      memory: z.string().regex(/^\s*\d+(\.\d+)?\s*[KMGT]?i?B?\s*$/i, 'expected a size such as "2G" or "512M"').optional(),
      storage: z.string().regex(/^\s*\d+(\.\d+)?\s*[KMGT]?i?B?\s*$/i, 'expected a size such as "10G" or "512M"').optional(),
      gpus: z.number().int().nonnegative().optional(),
      gpu_types: z.array(z.string()).optional(),
      allow_internet: z.boolean().optional(),
    })
    .optional(),
  // outlast extensions, same meaning as in the native format
  limits: limitsSchema.optional(),
  sandbox: sandboxSchema.optional(),
  tools: toolsSchema.optional(),
  requires: requiresSchema.optional(),
});

/** Fields of task.toml the Harbor import uses; any other field is listed as ignored. */
const USED: Record<string, string[] | '*'> = {
  version: '*',
  schema_version: '*',
  source: '*',
  metadata: '*',
  limits: '*',
  sandbox: '*',
  tools: '*',
  requires: '*',
  task: ['name', 'description', 'authors', 'keywords'],
  verifier: ['timeout_sec'],
  agent: ['timeout_sec'],
  environment: ['memory_mb', 'memory', 'gpus', 'os', 'cpus', 'storage_mb', 'storage'],
  solution: [],
};

const FIELD_REASONS: Record<string, string> = {
  'verifier.env': 'not passed to the verifier',
  'verifier.user': 'not applied; the verifier runs as outlast\'s own sandbox identity (docs/security.md)',
  'agent.user': 'not applied; the agent runs as outlast\'s own sandbox identity (docs/security.md)',
  'agent.setup_timeout_sec': 'no setup phase without Docker',
  'solution.env': 'not passed to the oracle',
  'environment.build_timeout_sec': 'nothing is built',
  'environment.docker_image': 'the image is not pulled; commands run on this machine\'s system',
  'environment.allow_internet': 'sandboxes never have network access',
  'environment.gpu_types': 'not checked; only whether a GPU exists is',
  'environment.mcp_servers': 'no MCP servers are started',
  'environment.skills_dir': 'skills are not copied',
  'environment.tpu': 'not checked',
  'environment.healthcheck': 'no effect without Docker',
  'verifier.environment': 'no separate verifier image; the verifier runs in a sandbox like the agent\'s',
  artifacts: 'not collected separately; each rollout keeps its final workspace',
  steps: 'multi-step tasks are not supported; only the top-level instruction.md and tests/ are used',
};

function preview(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  s = oneLine(s);
  return s.length > 60 ? s.slice(0, 59) + '…' : s;
}

function ignoredTomlFields(toml: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(toml)) {
    const used = USED[key];
    if (used === '*') continue;
    if (used === undefined) {
      out.push(`task.toml: ${key} = ${preview(value)} — ${FIELD_REASONS[key] ?? 'not a field outlast knows; ignored'}`);
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    for (const [sub, v] of Object.entries(value as Record<string, unknown>)) {
      if (used.includes(sub)) continue;
      const reason = FIELD_REASONS[`${key}.${sub}`] ?? 'not a field outlast knows; ignored';
      out.push(`task.toml: [${key}] ${sub} = ${preview(v)} — ${reason}`);
    }
  }
  return out;
}

function sizeToMb(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)/i.exec(s)!;
  const n = Number(m[1]);
  const unit = m[2]!.toUpperCase();
  const factor = unit === 'K' ? 1 / 1024 : unit === 'G' ? 1024 : unit === 'T' ? 1024 * 1024 : unit === 'M' ? 1 : 1 / (1024 * 1024);
  return n * factor;
}

// ---------------------------------------------------------------------------------------------
// Workspace plan: what the Dockerfile's COPY/ADD lines put under the final WORKDIR.

/** One step that builds the starting workspace, relative to the workspace root. */
export type WorkspaceOp =
  | { kind: 'dir'; dest: string }
  | { kind: 'file'; dest: string; src: string; mode: number }
  | { kind: 'symlink'; dest: string; target: string };

export interface WorkspacePlan {
  /** The workspace mount path inside the sandbox. */
  workdir: string;
  /** Steps in Dockerfile order; later steps overwrite earlier ones. */
  ops: WorkspaceOp[];
  /** One line per Dockerfile line (or part of one) that was not applied. */
  ignored: string[];
}

interface ContextEntry {
  rel: string;
  abs: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  target?: string;
}

async function listContext(envDir: string): Promise<Map<string, ContextEntry>> {
  let ignore: (rel: string) => boolean = () => false;
  try {
    ignore = dockerignoreMatcher(await fs.readFile(path.join(envDir, '.dockerignore'), 'utf8'));
  } catch {
    // no .dockerignore
  }
  const out = new Map<string, ContextEntry>();
  async function walk(rel: string): Promise<void> {
    const abs = rel ? path.join(envDir, rel) : envDir;
    for (const name of (await fs.readdir(abs)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (ignore(r)) continue;
      const a = path.join(abs, name);
      const st = await fs.lstat(a);
      if (st.isDirectory()) {
        out.set(r, { rel: r, abs: a, type: 'dir', mode: st.mode });
        await walk(r);
      } else if (st.isSymbolicLink()) {
        out.set(r, { rel: r, abs: a, type: 'symlink', mode: st.mode, target: await fs.readlink(a) });
      } else if (st.isFile()) {
        out.set(r, { rel: r, abs: a, type: 'file', mode: st.mode });
      }
    }
  }
  await walk('');
  return out;
}

const DOCKERFILE_REASONS: Record<string, string> = {
  FROM: "base image not used; commands run on this machine's own system (read-only)",
  RUN: 'not run; whatever it would install or create is missing unless this machine already has it',
  ENV: 'not set in the sandbox (only used to expand $VARS in WORKDIR, COPY and ADD)',
  CMD: 'not run',
  ENTRYPOINT: 'not run',
  USER: "not applied; commands run as outlast's own sandbox identity",
  EXPOSE: 'no effect without Docker',
  VOLUME: 'no effect without Docker',
  HEALTHCHECK: 'no effect without Docker',
  LABEL: 'no effect without Docker',
  MAINTAINER: 'no effect without Docker',
  SHELL: 'not applied; commands run with /bin/sh',
  STOPSIGNAL: 'no effect without Docker',
  ONBUILD: 'no effect without Docker',
};

function insText(ins: DockerInstruction): string {
  const s = oneLine(`${ins.keyword} ${ins.args}`);
  return s.length > 100 ? s.slice(0, 99) + '…' : s;
}

function isUnder(root: string, p: string): boolean {
  const rel = path.posix.relative(root, p);
  return rel === '' || (!rel.startsWith('../') && rel !== '..' && !path.posix.isAbsolute(rel));
}

/** Paths the workspace may neither cover nor sit inside: the system, and the sandbox's own mounts. */
const RESERVED_MOUNTS = ['/', '/usr', '/etc', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/dev', '/sys', '/tests', '/solution', '/logs'];

const ARCHIVE_RE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst)$/i;

/** Read environment/Dockerfile and its build context into a workspace plan (no files are written). */
export async function planHarborWorkspace(taskDir: string): Promise<WorkspacePlan> {
  const envDir = path.join(taskDir, 'environment');
  const dockerfile = path.join(envDir, 'Dockerfile');
  const dfName = 'environment/Dockerfile';
  const ignored: string[] = [];
  for (const name of ['docker-compose.yaml', 'docker-compose.yml', 'compose.yaml', 'compose.yml']) {
    if (await statOrNull(path.join(envDir, name))) ignored.push(`environment/${name} — not used; no services are started`);
  }
  let text: string;
  try {
    text = await fs.readFile(dockerfile, 'utf8');
  } catch {
    ignored.push(`${dfName}: missing — the workspace starts empty at ${HARBOR_DEFAULT_WORKDIR}`);
    return { workdir: HARBOR_DEFAULT_WORKDIR, ops: [], ignored };
  }
  const context = await listContext(envDir);
  const { preamble, stages } = splitStages(parseDockerfile(text));
  const globalArgs: Record<string, string> = {};
  for (const ins of preamble) {
    if (ins.keyword === 'ARG') {
      for (const [k, v] of parseAssignments(ins.args, false)) if (v !== undefined) globalArgs[k] = v;
    } else {
      ignored.push(`${dfName}:${ins.line}: ${insText(ins)} — not valid before FROM; ignored`);
    }
  }
  const chain = new Set(finalChain(stages));
  for (let s = 0; s < stages.length; s++) {
    if (chain.has(s)) continue;
    const st = stages[s]!;
    for (const ins of st.instructions) {
      ignored.push(`${dfName}:${ins.line}: ${insText(ins)} — in build stage "${st.name ?? s}", which the final image is not built from`);
    }
  }

  // Destinations are absolute paths in the image; filtered against the final WORKDIR at the end.
  type Pending = { ins: DockerInstruction; abs: string; op: WorkspaceOp };
  const pending: Pending[] = [];
  const dirs = new Set<string>(['/']);
  const markDir = (p: string) => {
    for (let d = p; ; d = path.posix.dirname(d)) {
      dirs.add(d);
      if (d === '/') break;
    }
  };
  let workdir = HARBOR_DEFAULT_WORKDIR;
  let sawWorkdir = false;
  const vars: Record<string, string> = {};
  markDir(workdir);

  const fail = (ins: DockerInstruction, msg: string): never => {
    throw new UserError(oneLine(`${shown(dockerfile)}:${ins.line}: ${ins.keyword}: ${msg}`));
  };

  for (const s of [...chain].sort((a, b) => a - b)) {
    const stageArgs: Record<string, string> = {};
    for (const ins of stages[s]!.instructions) {
      const scope = { ...vars, ...stageArgs };
      switch (ins.keyword) {
        case 'ARG':
          for (const [k, v] of parseAssignments(ins.args, false)) {
            if (v !== undefined) stageArgs[k] = expandVars(v, scope);
            else if (k in globalArgs) stageArgs[k] = globalArgs[k]!;
          }
          break;
        case 'ENV':
          for (const [k, v] of parseAssignments(ins.args, true)) vars[k] = expandVars(v ?? '', scope);
          ignored.push(`${dfName}:${ins.line}: ${insText(ins)} — ${DOCKERFILE_REASONS.ENV}`);
          break;
        case 'WORKDIR': {
          const w = expandVars(shellWords(ins.args).join(' ') || ins.args, scope);
          workdir = path.posix.resolve(workdir, w);
          sawWorkdir = true;
          markDir(workdir);
          pending.push({ ins, abs: workdir, op: { kind: 'dir', dest: '' } });
          break;
        }
        case 'COPY':
        case 'ADD':
          planCopy(ins, scope);
          break;
        default:
          ignored.push(`${dfName}:${ins.line}: ${insText(ins)} — ${DOCKERFILE_REASONS[ins.keyword] ?? 'unknown instruction; ignored'}`);
      }
    }
  }

  function planCopy(ins: DockerInstruction, scope: Record<string, string>): void {
    const prefix = `${dfName}:${ins.line}: ${insText(ins)} — `;
    let rest = ins.args;
    const flags: Record<string, string> = {};
    for (;;) {
      const m = /^--([A-Za-z-]+)(?:=(\S*))?\s*/.exec(rest);
      if (!m) break;
      flags[m[1]!.toLowerCase()] = m[2] ?? 'true';
      rest = rest.slice(m[0].length);
    }
    if (flags.from) return void ignored.push(`${prefix}copies from another image or build stage ("${flags.from}"), which is not built`);
    if (ins.heredocs.length) return void ignored.push(`${prefix}heredoc sources are not supported`);
    for (const f of ['exclude', 'parents', 'checksum', 'keep-git-dir']) {
      if (flags[f]) return void ignored.push(`${prefix}the --${f} flag is not supported`);
    }
    let words: string[];
    if (rest.startsWith('[')) {
      try {
        words = JSON.parse(rest) as string[];
        if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) throw new Error('not strings');
      } catch {
        return fail(ins, `expected a JSON array of strings, found ${preview(rest)}`);
      }
    } else words = rest.split(/\s+/).filter(Boolean);
    words = words.map((w) => expandVars(w, scope));
    if (words.length < 2) return fail(ins, 'expected at least one source and a destination');
    let mode: number | null = null;
    if (flags.chmod) {
      if (/^[0-7]{3,4}$/.test(flags.chmod)) mode = parseInt(flags.chmod, 8);
      else ignored.push(`${prefix}--chmod=${flags.chmod} not applied (only octal modes are)`);
    }
    if (flags.chown) ignored.push(`${prefix}--chown=${flags.chown} not applied; files belong to the agent's sandbox identity`);
    if (flags.link) {
      // --link changes layer reuse, not the files: nothing to report.
    }
    const destRaw = words[words.length - 1]!;
    const sources = words.slice(0, -1);
    const destAbs = path.posix.resolve(workdir, destRaw);
    // Collect (context entry, absolute destination) pairs.
    const pairs: { e: ContextEntry; abs: string }[] = [];
    const matched: ContextEntry[] = [];
    const rootEntry: ContextEntry = { rel: '', abs: envDir, type: 'dir', mode: 0o755 };
    for (const src of sources) {
      if (ins.keyword === 'ADD' && /^(https?|git|ssh):\/\/|^git@/.test(src)) {
        ignored.push(`${prefix}remote source ${src} is not fetched (no network)`);
        continue;
      }
      const norm = path.posix.normalize(src.replace(/^\/+/, '')).replace(/\/+$/, '') || '.';
      if (norm === '..' || norm.startsWith('../')) fail(ins, `source "${src}" is outside the build context environment/`);
      if (hasGlob(norm)) {
        const re = globToRegExp(norm);
        const hits = [...context.values()].filter((e) => re.test(e.rel));
        if (hits.length === 0) fail(ins, `no file in environment/ matches "${src}"`);
        matched.push(...hits);
      } else if (norm === '.') matched.push(rootEntry);
      else {
        const e = context.get(norm);
        if (!e) fail(ins, `source "${src}" not found in environment/${context.size ? '' : ' (empty build context)'}`);
        matched.push(e!);
      }
    }
    if (matched.length === 0) return;
    const intoDir = destRaw.endsWith('/') || matched.length > 1 || dirs.has(destAbs);
    for (const e of matched) {
      if (ins.keyword === 'ADD' && e.type === 'file' && ARCHIVE_RE.test(e.rel)) {
        ignored.push(`${prefix}local archive ${e.rel} is not extracted`);
        continue;
      }
      if (e.type === 'dir') {
        pairs.push({ e: { ...e, type: 'dir' }, abs: destAbs });
        const under = e.rel === '' ? '' : e.rel + '/';
        for (const c of context.values()) {
          if (under && !c.rel.startsWith(under)) continue;
          pairs.push({ e: c, abs: path.posix.join(destAbs, c.rel.slice(under.length)) });
        }
      } else {
        pairs.push({ e, abs: intoDir ? path.posix.join(destAbs, path.posix.basename(e.rel)) : destAbs });
      }
    }
    for (const { e, abs } of pairs) {
      if (e.type === 'dir') {
        markDir(abs);
        pending.push({ ins, abs, op: { kind: 'dir', dest: '' } });
      } else {
        markDir(path.posix.dirname(abs));
        dirs.delete(abs);
        if (e.type === 'symlink') pending.push({ ins, abs, op: { kind: 'symlink', dest: '', target: e.target! } });
        else pending.push({ ins, abs, op: { kind: 'file', dest: '', src: e.abs, mode: mode ?? e.mode & 0o7777 } });
      }
    }
  }

  if (!sawWorkdir) workdir = HARBOR_DEFAULT_WORKDIR;
  const reserved = RESERVED_MOUNTS.find((r) => (r === '/' ? workdir === '/' : isUnder(r, workdir) || isUnder(workdir, r)));
  if (reserved !== undefined) {
    const last = [...pending].reverse().find((p) => p.ins.keyword === 'WORKDIR');
    throw new UserError(
      oneLine(
        `${shown(dockerfile)}:${last?.ins.line ?? 1}: WORKDIR ${workdir}: the workspace cannot be mounted there (it would cover or sit inside ${reserved}); use a directory such as /app`,
      ),
    );
  }
  const ops: WorkspaceOp[] = [];
  const outside = new Map<DockerInstruction, { n: number; where: Set<string> }>();
  for (const p of pending) {
    if (isUnder(workdir, p.abs)) {
      const dest = path.posix.relative(workdir, p.abs);
      if (p.op.kind === 'dir' && dest === '') continue;
      ops.push({ ...p.op, dest });
    } else if (p.ins.keyword !== 'WORKDIR' && p.op.kind !== 'dir') {
      const o = outside.get(p.ins) ?? { n: 0, where: new Set<string>() };
      o.n++;
      o.where.add(path.posix.dirname(p.abs));
      outside.set(p.ins, o);
    }
  }
  for (const [ins, o] of outside) {
    const where = [...o.where].slice(0, 3).join(', ') + (o.where.size > 3 ? ', …' : '');
    ignored.push(
      `${dfName}:${ins.line}: ${insText(ins)} — ${o.n} file${o.n > 1 ? 's' : ''} land outside the workspace ${workdir} (in ${where}); not copied`,
    );
  }
  ignored.sort((a, b) => lineOf(a) - lineOf(b));
  return { workdir, ops, ignored };
}

function lineOf(s: string): number {
  const m = /^environment\/Dockerfile:(\d+):/.exec(s);
  return m ? Number(m[1]) : 0;
}

// ---------------------------------------------------------------------------------------------
// Materialisation: the plan written to disk once per (task hash, materialiser version).

async function applyOp(root: string, op: WorkspaceOp): Promise<void> {
  const dest = path.join(root, ...op.dest.split('/'));
  if (op.kind === 'dir') {
    const st = await lstatOrNull(dest);
    if (st && !st.isDirectory()) await fs.rm(dest, { force: true });
    await fs.mkdir(dest, { recursive: true });
    return;
  }
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await fs.rm(dest, { recursive: true, force: true });
  if (op.kind === 'symlink') await fs.symlink(op.target, dest);
  else {
    await fs.copyFile(op.src, dest);
    await fs.chmod(dest, op.mode);
  }
}

/**
 * Write the plan's workspace under `<cacheDir>/harbor-workspaces/<key>/workspace` (once: an existing
 * one is reused) and return its path, or null when the plan puts no files in the workspace.
 * The directory is shared by every rollout of the task: copy it, never write into it.
 */
export async function materialiseWorkspace(plan: WorkspacePlan, hash: string, cacheDir: string): Promise<string | null> {
  if (plan.ops.length === 0) return null;
  const root = await materialiseTree(cacheDir, 'harbor-workspaces', cacheKey(hash, MATERIALISER_VERSION), async (tmp) => {
    await fs.mkdir(path.join(tmp, 'workspace'), { recursive: true });
    for (const op of plan.ops) await applyOp(path.join(tmp, 'workspace'), op);
  });
  return path.join(root, 'workspace');
}

// ---------------------------------------------------------------------------------------------

export interface HarborLoadOptions {
  /** Where materialised workspaces are cached (default: defaultCacheDir()). */
  cacheDir?: string;
}

/** Load a Harbor task directory whose task.toml has been parsed already. */
export async function loadHarborTask(
  dir: string,
  tomlFile: string,
  toml: Record<string, unknown>,
  hash: string,
  opts: HarborLoadOptions = {},
): Promise<Task> {
  const cfg = parseWith(harborTomlSchema, toml, shown(tomlFile));
  const instruction = await readInstruction(dir);
  const tests_dir = await optionalDir(dir, 'tests');
  const testSh = path.join(dir, 'tests', 'test.sh');
  if (!(await statOrNull(testSh))) {
    throw new UserError(`${shown(testSh)}: missing; a Harbor task is verified by bash /tests/test.sh`);
  }
  const solution_dir = await optionalDir(dir, 'solution');
  await checkSolution(solution_dir);
  const tools: TaskTool[] = (cfg.tools ?? []) as TaskTool[];
  checkToolNames(tools, tomlFile);

  const plan = await planHarborWorkspace(dir);
  const workspace_dir = await materialiseWorkspace(plan, hash, opts.cacheDir ?? defaultCacheDir());

  const env = cfg.environment ?? {};
  const declaredMb = env.memory_mb ?? (env.memory ? sizeToMb(env.memory) : undefined);
  // Harbor's RAM figure only ever raises the default (without a memory cgroup the limit is each
  // process's address space, which runtimes over-reserve).
  const memory_mb = cfg.sandbox?.memory_mb ?? Math.max(DEFAULT_SANDBOX.memory_mb, declaredMb ?? 0);
  const storageMb = env.storage_mb ?? (env.storage ? sizeToMb(env.storage) : undefined);

  const metadata: Record<string, unknown> = { ...(cfg.metadata ?? {}) };
  if (cfg.task?.description !== undefined) metadata.description = cfg.task.description;
  if (cfg.task?.authors !== undefined) metadata.authors = cfg.task.authors;
  if (cfg.task?.keywords !== undefined) metadata.keywords = cfg.task.keywords;
  if (cfg.version !== undefined) metadata.harbor_version = cfg.version;
  if (cfg.schema_version !== undefined) metadata.harbor_schema_version = cfg.schema_version;
  if (cfg.source !== undefined) metadata.source = cfg.source;

  const name = cfg.task?.name ?? defaultName(dir, tomlFile);
  return {
    name,
    family: defaultFamily(dir),
    dir,
    format: 'harbor',
    instruction,
    workspace_dir,
    tests_dir,
    solution_dir,
    workdir: plan.workdir,
    limits: cfg.limits ?? {},
    sandbox: {
      ...(cfg.sandbox?.cpu_time_sec !== undefined ? { cpu_time_sec: cfg.sandbox.cpu_time_sec } : {}),
      memory_mb,
      processes: cfg.sandbox?.processes ?? DEFAULT_SANDBOX.processes,
      file_size_mb: cfg.sandbox?.file_size_mb ?? DEFAULT_SANDBOX.file_size_mb,
      ...(cfg.sandbox?.tmp_mb !== undefined ? { tmp_mb: cfg.sandbox.tmp_mb } : {}),
      ...((cfg.sandbox?.cpus ?? env.cpus) !== undefined ? { cpus: cfg.sandbox?.cpus ?? env.cpus } : {}),
    },
    workspace_quota: {
      mb: cfg.sandbox?.workspace_mb ?? storageMb ?? DEFAULT_WORKSPACE_QUOTA.mb,
      files: cfg.sandbox?.workspace_files ?? DEFAULT_WORKSPACE_QUOTA.files,
    },
    agent_timeout_sec: cfg.agent?.timeout_sec ?? DEFAULT_AGENT_TIMEOUT_SEC,
    verifier: { kind: 'command', command: DEFAULT_VERIFIER_COMMAND, timeout_sec: cfg.verifier?.timeout_sec ?? DEFAULT_VERIFIER_TIMEOUT_SEC },
    tools,
    requires: { gpu: cfg.requires?.gpu ?? (env.gpus ?? 0) > 0 },
    hash,
    metadata,
    ignored: [...ignoredTomlFields(toml), ...plan.ignored],
  };
}

/** A task's default name: its directory's name, which must then be a valid task name. */
export function defaultName(dir: string, tomlFile: string): string {
  const base = path.basename(dir);
  const r = taskNameSchema.safeParse(base);
  if (!r.success) {
    throw new UserError(
      `${shown(tomlFile)}: field task.name: missing, and the directory name "${base}" is not a valid task name (letters, digits, ".", "_", "-"); set [task] name`,
    );
  }
  return base;
}

/** A task's default family: the name of the directory that holds it (its suite). */
export function defaultFamily(dir: string): string {
  return path.basename(path.dirname(dir)) || 'default';
}
