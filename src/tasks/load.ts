// Load and validate one task directory, in outlast's native format or Harbor's (see
// docs/task-format.md). Every problem is a one-line UserError naming the file and the field.
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import type { Task, TaskTool, VerifierConfig } from '../core/types.js';
import { parseWith } from '../core/validate.js';
import { defaultCacheDir } from './cache.js';
import { checkSolution, checkTaskLinks, checkTestsReferenced, checkToolNames, optionalDir, readInstruction, readTaskToml, shown, statOrNull } from './common.js';
import { extendedHash, materialiseExtended, resolveBase, type TaskTrees } from './extends.js';
import { defaultFamily, defaultName, isHarborTask, loadHarborTask, type HarborLoadOptions } from './harbor.js';
import { hashTaskDir } from './hash.js';
import { commandVerifierSchema, DEFAULT_SANDBOX, DEFAULT_WORKSPACE_QUOTA, NATIVE_WORKDIR, nativeTaskTomlSchema } from './schema.js';

export interface LoadOptions extends HarborLoadOptions {}

/** Load the task in `dir` (native or Harbor format). */
export async function loadTask(dir: string, opts: LoadOptions = {}): Promise<Task> {
  const abs = path.resolve(dir);
  const st = await statOrNull(abs);
  if (!st) throw new UserError(`no such task or suite directory: ${dir}`);
  if (!st.isDirectory()) throw new UserError(`${dir}: not a directory; a task is a directory holding task.toml`);
  const { file, data } = await readTaskToml(abs);
  await checkTaskLinks(abs);
  const hash = await hashTaskDir(abs);
  if (await isHarborTask(abs, data)) return loadHarborTask(abs, file, data, hash, opts);
  return loadNativeTask(abs, file, data, hash, opts);
}

async function loadNativeTask(dir: string, tomlFile: string, toml: Record<string, unknown>, ownHash: string, opts: LoadOptions): Promise<Task> {
  const source = shown(tomlFile);
  const cfg = parseWith(nativeTaskTomlSchema, toml, source);

  // workspace/, tests/, solution/: the task's own, or merged over the base it extends
  let hash = ownHash;
  let trees: TaskTrees;
  if (cfg.extends !== undefined) {
    const base = await resolveBase(dir, cfg.extends, tomlFile);
    hash = extendedHash(ownHash, await hashTaskDir(base));
    trees = await materialiseExtended(dir, base, hash, opts.cacheDir ?? defaultCacheDir());
  } else {
    trees = { workspace_dir: await optionalDir(dir, 'workspace'), tests_dir: await optionalDir(dir, 'tests'), solution_dir: await optionalDir(dir, 'solution') };
  }
  const { workspace_dir, tests_dir, solution_dir } = trees;

  let verifier: VerifierConfig;
  if (cfg.verifier.kind === 'command') {
    const raw = (toml.verifier ?? {}) as Record<string, unknown>;
    // Parsed under its own key so that errors name the field as verifier.<key>.
    const v = parseWith(z.object({ verifier: commandVerifierSchema }), { verifier: raw }, source).verifier;
    verifier = { kind: 'command', command: v.command, timeout_sec: v.timeout_sec, reward_range: v.reward_range, score_from: v.score_from };
    await checkTestsReferenced(tests_dir, path.join(dir, 'tests'), v.command, 'verifier.command', tomlFile);
  } else {
    verifier = { ...cfg.verifier } as VerifierConfig;
  }

  const tools = cfg.tools as TaskTool[];
  checkToolNames(tools, tomlFile);

  const instruction = await readInstruction(dir);
  await checkSolution(solution_dir);

  const metadata: Record<string, unknown> = { ...(cfg.task.metadata ?? {}) };
  if (cfg.task.description !== undefined) metadata.description = cfg.task.description;

  return {
    name: cfg.task.name ?? defaultName(dir, tomlFile),
    family: cfg.task.family ?? defaultFamily(dir),
    dir,
    format: 'outlast',
    instruction,
    workspace_dir,
    tests_dir,
    solution_dir,
    workdir: NATIVE_WORKDIR,
    limits: stripUndefined(cfg.limits),
    sandbox: stripUndefined({
      cpu_time_sec: cfg.sandbox.cpu_time_sec,
      memory_mb: cfg.sandbox.memory_mb ?? DEFAULT_SANDBOX.memory_mb,
      processes: cfg.sandbox.processes ?? DEFAULT_SANDBOX.processes,
      file_size_mb: cfg.sandbox.file_size_mb ?? DEFAULT_SANDBOX.file_size_mb,
      tmp_mb: cfg.sandbox.tmp_mb,
      cpus: cfg.sandbox.cpus,
    }),
    workspace_quota: {
      mb: cfg.sandbox.workspace_mb ?? DEFAULT_WORKSPACE_QUOTA.mb,
      files: cfg.sandbox.workspace_files ?? DEFAULT_WORKSPACE_QUOTA.files,
    },
    agent_timeout_sec: cfg.agent.timeout_sec,
    verifier,
    tools,
    requires: { gpu: cfg.requires.gpu },
    hash,
    metadata,
    ignored: [],
  };
}

export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
