// The outlast harness's tools: their schemas (as the gateway IR's tool definitions) and their
// execution. `bash` and the task's own tools run in the rollout's sandbox; the file tools work on the
// workspace directly from the host and refuse any path (symlinks included) that leads out of it.
import fs from 'node:fs';
import path from 'node:path';
import type { EvaluationEvent, ToolResultEvent, TrajectoryEvent } from '../../core/events.js';
import type { TaskTool } from '../../core/types.js';
import type { IRTool } from '../../gateway/ir.js';
import { readAgentFile } from '../../sandbox/agent-file.js';
import { cutMarker } from '../../sandbox/capture.js';
import { diskNearlyFull, measureTree, quotaLimits, TreeRefused } from '../../sandbox/tree.js';
import type { ExecOptions, SandboxSession } from '../../sandbox/sandbox.js';
import { openSession } from '../../sandbox/session.js';
import { TASK_FILES_MOUNT } from '../../core/mounts.js';
import type { HarnessContext } from '../harness.js';
import type { OutlastSettings } from './settings.js';

const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, required, additionalProperties: false });
const str = (description: string) => ({ type: 'string', description });
const int = (description: string) => ({ type: 'integer', description });

export const BUILTIN_TOOLS: IRTool[] = [
  {
    name: 'bash',
    description: 'Run a bash command in the workspace (no network). Output is stdout+stderr, cut in the middle when long. State such as the current directory does not persist between calls.',
    parameters: obj({ command: str('the command line'), timeout_sec: int('timeout in seconds (default set by the harness)') }, ['command']),
  },
  {
    name: 'read_file',
    description: 'Read a text file of the workspace, optionally only lines start_line..end_line (1-based, inclusive).',
    parameters: obj({ path: str('path relative to the workspace'), start_line: int('first line (default 1)'), end_line: int('last line (default: end of file)') }, ['path']),
  },
  {
    name: 'write_file',
    description: 'Create or overwrite a file with the given content (parent directories are created).',
    parameters: obj({ path: str('path relative to the workspace'), content: str('the whole new content') }, ['path', 'content']),
  },
  {
    name: 'edit_file',
    description: 'Replace one exact occurrence of old_string with new_string. old_string must occur exactly once (include surrounding lines to make it unique).',
    parameters: obj({ path: str('path relative to the workspace'), old_string: str('exact text to replace'), new_string: str('replacement text') }, ['path', 'old_string', 'new_string']),
  },
  {
    name: 'list_files',
    description: 'List files and directories under a path of the workspace (directories end in /).',
    parameters: obj({ path: str('directory relative to the workspace (default .)'), max_depth: int('how deep to descend (default 3)') }),
  },
  {
    name: 'submit',
    description: 'Declare the task complete. The run ends and the workspace is graded as it is.',
    parameters: obj({ summary: str('one paragraph on what was done') }),
  },
];

const BUILTIN_NAMES = new Set(BUILTIN_TOOLS.map((t) => t.name));

/** The tools offered to the model: the built-ins, then the task's `[[tools]]` (a task tool may not shadow a built-in). */
export function toolDefinitions(taskTools: TaskTool[]): IRTool[] {
  const extra = taskTools
    .filter((t) => !BUILTIN_NAMES.has(t.name))
    .map((t) => ({ name: t.name, description: t.description || `Run the task's ${t.name} command.`, parameters: obj({}) }));
  return [...BUILTIN_TOOLS, ...extra];
}

export interface ToolOutcome {
  exit_code: number | null;
  output: string;
  truncated_bytes: number;
  timed_out: boolean;
  duration_ms: number;
  error?: string;
  /** Set by a task tool with `records_evaluation` whose output ended in a JSON line with a numeric `score`. */
  evaluation?: { score: number; passed?: boolean; details: Record<string, unknown> };
  /** Set by `submit`. */
  submitted?: boolean;
  /** Set when the run cannot go on (the workspace is over its quota and the disk is full): why. */
  stop?: string;
}

export interface ToolEnv {
  ctx: HarnessContext;
  settings: OutlastSettings;
  /** Where commands run (openToolSession); without one, each command is a fresh exec. */
  session?: SandboxSession;
  /** Milliseconds of wall/working time left, to bound command timeouts (undefined: unlimited). */
  timeLeftMs?: number;
}

/** Run one tool call. Never throws for a bad call: the error goes back to the model as the result. */
export async function runTool(name: string, args: unknown, env: ToolEnv): Promise<ToolOutcome> {
  const t0 = performance.now();
  try {
    const a = (args !== null && typeof args === 'object' && !Array.isArray(args) ? args : null) as Record<string, unknown> | null;
    if (a === null) throw new ToolError(typeof args === 'string' ? `the arguments are not valid JSON: ${args.slice(0, 200)}` : 'the arguments must be a JSON object');
    const out = await dispatch(name, a, env);
    if (!READ_ONLY_TOOLS.has(name)) {
      const over = await overQuota(env.ctx);
      if (over && (await diskNearlyFull(env.ctx.workspace))) {
        // Going on would take the disk the rollout's own record needs: the run ends here.
        out.stop = `${over} and the disk is full`;
        out.output += `\n[outlast: ${out.stop}: the run ends; a workspace over its quota is not graded (score 0).]`;
      } else if (over) out.output += `\n[outlast: ${over}. A workspace over its quota is not graded (score 0): remove files before you submit.]`;
    }
    return { duration_ms: Math.round(performance.now() - t0), ...out };
  } catch (e) {
    // A file the agent made that the host cannot handle (permissions, odd names, a full disk) is the
    // agent's tool error, not a crash of the harness.
    const fsError = typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
    if (!(e instanceof ToolError) && !fsError) throw e;
    const message = e instanceof ToolError ? e.message : `${(e as NodeJS.ErrnoException).code}: ${(e as Error).message}`;
    return { exit_code: 1, output: `error: ${message}`, truncated_bytes: 0, timed_out: false, duration_ms: Math.round(performance.now() - t0), error: message };
  }
}

class ToolError extends Error {}

/** Tools that cannot grow the workspace (no quota check after them). */
const READ_ONLY_TOOLS = new Set(['read_file', 'list_files', 'submit']);

/** Why the workspace is over the task's quota, or null when it is within it. */
async function overQuota(ctx: HarnessContext): Promise<string | null> {
  try {
    await measureTree(ctx.workspace, quotaLimits(ctx.task.workspace_quota));
    return null;
  } catch (e) {
    if (e instanceof TreeRefused) return e.reason;
    throw e;
  }
}

/** Largest file read_file and edit_file load. */
const MAX_READ_BYTES = 32 * 1024 * 1024;
/** Most entries list_files shows. */
const LIST_LIMIT = 1000;

/**
 * Entries under `dir` to `depth` levels, sorted by name, directories ending in "/" and links in
 * " ->"; names are read as bytes (shown as UTF-8), and a directory is read only as far as the limit.
 */
async function listTree(dir: string, depth: number, limit: number): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: Buffer, prefix: string, level: number): Promise<void> => {
    const names: Array<{ name: Buffer; dir: boolean; link: boolean }> = [];
    const h = await fs.promises.opendir(d as unknown as string, { encoding: 'buffer' as BufferEncoding });
    for await (const e of h) {
      names.push({ name: e.name as unknown as Buffer, dir: e.isDirectory(), link: e.isSymbolicLink() });
      if (names.length >= limit) break;
    }
    names.sort((x, y) => Buffer.compare(x.name, y.name));
    for (const e of names) {
      if (out.length >= limit) return;
      const shown = e.name.toString('utf8');
      if (e.dir) {
        out.push(`${prefix}${shown}/`);
        if (level < depth) await walk(Buffer.concat([d, Buffer.from('/'), e.name]), `${prefix}${shown}/`, level + 1);
      } else out.push(`${prefix}${shown}${e.link ? ' ->' : ''}`);
    }
  };
  await walk(Buffer.from(dir), '', 1);
  return out;
}

type Partial0 = Omit<ToolOutcome, 'duration_ms'>;

async function dispatch(name: string, a: Record<string, unknown>, env: ToolEnv): Promise<Partial0> {
  const ws = env.ctx.workspace;
  switch (name) {
    case 'bash': {
      const command = reqString(a, 'command');
      const asked = optInt(a, 'timeout_sec');
      const timeout = Math.min(asked ?? env.settings.command_timeout_sec, env.settings.command_timeout_sec * 4);
      return sandboxed(`exec bash -c ${shellQuote(command)}`, timeout, env);
    }
    case 'read_file': {
      const rel = reqString(a, 'path');
      const text = (await readRegular(resolveInside(ws, rel, env.ctx.task.workdir), rel, 'read parts of it with bash (head, sed -n, grep)')).toString('utf8');
      const lines = text.split('\n');
      if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
      const start = Math.max(1, optInt(a, 'start_line') ?? 1);
      const end = Math.min(lines.length, optInt(a, 'end_line') ?? lines.length);
      if (start > lines.length && lines.length > 0) throw new ToolError(`start_line ${start} is past the end of the file (${lines.length} lines)`);
      const body = lines.slice(start - 1, end).join('\n');
      const header = start > 1 || end < lines.length ? `[lines ${start}-${end} of ${lines.length}]\n` : '';
      return capped(header + body, env.settings.output_bytes);
    }
    case 'write_file': {
      const rel = reqString(a, 'path');
      const content = reqString(a, 'content', true);
      const file = resolveInside(ws, rel, env.ctx.task.workdir);
      const st = lstatOrNull(file);
      if (st?.isDirectory()) throw new ToolError(`${rel} is a directory`);
      if (st && !st.isFile()) throw new ToolError(`${rel} is not a regular file`);
      // What the host creates in the workspace goes to the agent's identity, like what it makes itself.
      const created = firstMissing(ws, path.dirname(file));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await fs.promises.writeFile(file, content, { flag: st ? 'w' : 'wx' });
      await env.ctx.sandbox.adopt(created ?? file);
      return ok(`wrote ${Buffer.byteLength(content)} bytes to ${rel}`);
    }
    case 'edit_file': {
      const rel = reqString(a, 'path');
      const oldS = reqString(a, 'old_string', true);
      const newS = reqString(a, 'new_string', true);
      if (oldS === '') throw new ToolError('old_string is empty');
      const file = resolveInside(ws, rel, env.ctx.task.workdir);
      const text = (await readRegular(file, rel, 'edit it with bash (sed, python)')).toString('utf8');
      const first = text.indexOf(oldS);
      if (first === -1) throw new ToolError(`old_string was not found in ${rel} (it must match exactly, whitespace included)`);
      const lines: number[] = [];
      for (let i = first; i !== -1; i = text.indexOf(oldS, i + 1)) lines.push(lineOf(text, i));
      if (lines.length > 1) throw new ToolError(`old_string occurs ${lines.length} times in ${rel} (at lines ${lines.slice(0, 10).join(', ')}); include more context to make it unique`);
      fs.writeFileSync(file, text.slice(0, first) + newS + text.slice(first + oldS.length));
      return ok(`edited ${rel} at line ${lines[0]}`);
    }
    case 'list_files': {
      const rel = typeof a.path === 'string' && a.path ? a.path : '.';
      const dir = resolveInside(ws, rel, env.ctx.task.workdir);
      if (!statOrNull(dir)?.isDirectory()) throw new ToolError(`not a directory: ${rel}`);
      const depth = Math.max(1, Math.min(10, optInt(a, 'max_depth') ?? 3));
      const out = await listTree(dir, depth, LIST_LIMIT);
      if (out.length >= LIST_LIMIT) out.push(`[listing stopped at ${LIST_LIMIT} entries]`);
      return capped(out.length ? out.join('\n') : '(empty)', env.settings.output_bytes);
    }
    case 'submit':
      return { ...ok('submitted'), submitted: true };
    default: {
      const tool = env.ctx.task.tools.find((t) => t.name === name);
      if (!tool || BUILTIN_NAMES.has(name)) throw new ToolError(`unknown tool "${name}"`);
      const res = await sandboxed(tool.command, tool.timeout_sec, env, taskFiles(env.ctx));
      if (tool.records_evaluation) {
        const ev = parseEvaluation(res.output);
        if (ev) res.evaluation = ev;
      }
      return res;
    }
  }
}

/**
 * The task's pristine starting workspace for a task tool: read-only at TASK_FILES_MOUNT (its path in
 * $OUTLAST_TASK), so that a tool such as `evaluate` runs the task's own evaluation script, not the
 * workspace's copy that the agent may have edited. Without a sandbox, $OUTLAST_TASK is the host path.
 */
function taskFiles(ctx: HarnessContext): Pick<ExecOptions, 'mounts' | 'env'> {
  const dir = ctx.task.workspace_dir;
  if (!dir) return {};
  if (ctx.sandbox.unsandboxed) return { env: { OUTLAST_TASK: dir } };
  return { mounts: [{ host: dir, target: TASK_FILES_MOUNT, readonly: true }], env: { OUTLAST_TASK: TASK_FILES_MOUNT } };
}

/**
 * The rollout's tool session: one long-lived sandbox over the workspace, with the task's files
 * mounted for task tools (which also get $OUTLAST_TASK), running each command as a fresh exec would.
 */
export function openToolSession(ctx: HarnessContext): SandboxSession {
  // OUTLAST_SESSIONS=0: a fresh sandbox per command, as before sessions (for comparison: bench/concurrency.ts).
  return openSession(ctx.sandbox, { workspace: ctx.workspace, workdir: ctx.task.workdir, mounts: taskFiles(ctx).mounts, limits: { ...ctx.task.sandbox, wall_time_sec: 1 } }, process.env.OUTLAST_SESSIONS !== '0');
}

async function sandboxed(command: string, timeoutSec: number, env: ToolEnv, extra: Pick<ExecOptions, 'mounts' | 'env'> = {}): Promise<Partial0> {
  const { ctx } = env;
  const left = env.timeLeftMs === undefined ? Infinity : env.timeLeftMs / 1000;
  const wall = Math.max(1, Math.min(timeoutSec, Math.ceil(left)));
  const cmd = { command, env: extra.env, wall_time_sec: wall, output_bytes: env.settings.output_bytes, signal: ctx.signal };
  const r = env.session
    ? await env.session.exec(cmd)
    : await ctx.sandbox.exec({ command, workspace: ctx.workspace, workdir: ctx.task.workdir, ...extra, limits: { ...ctx.task.sandbox, wall_time_sec: wall, output_bytes: env.settings.output_bytes }, signal: ctx.signal });
  if (r.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted');
  let output = r.output;
  if (r.oom_killed) output += `\n[outlast: a process was killed: the sandbox's memory limit (${ctx.task.sandbox.memory_mb} MiB, all processes together) was reached]`;
  return { exit_code: r.exit_code, output, truncated_bytes: r.truncated_bytes, timed_out: r.timed_out };
}

/** The last line of output that is a JSON object with a numeric `score` (`passed`, else `correct`, taken when boolean). */
export function parseEvaluation(output: string): ToolOutcome['evaluation'] | undefined {
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (!l.startsWith('{')) continue;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch {
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    const o = v as Record<string, unknown>;
    if (typeof o.score !== 'number' || !Number.isFinite(o.score)) return undefined;
    const passed = typeof o.passed === 'boolean' ? o.passed : typeof o.correct === 'boolean' ? o.correct : undefined;
    return { score: o.score, ...(passed !== undefined ? { passed } : {}), details: o };
  }
  return undefined;
}

/**
 * Host path of `p` inside the workspace. Relative paths are taken from the workspace; absolute ones
 * must lie under the workspace's mount point in the sandbox (`workdir`). Symlinks are resolved, so
 * a link the agent made to a host file is refused.
 */
export function resolveInside(workspace: string, p: string, workdir: string): string {
  let rel: string;
  if (path.isAbsolute(p)) {
    const r = path.relative(workdir, p);
    if (r.startsWith('..') || path.isAbsolute(r)) throw new ToolError(`${p} is outside the workspace (${workdir})`);
    rel = r;
  } else rel = p;
  const root = fs.realpathSync(workspace);
  const target = path.resolve(root, rel);
  if (!within(root, target)) throw new ToolError(`${p} is outside the workspace`);
  // The deepest part of the path that exists (a dangling symlink counts) must resolve inside, and so
  // must everything created under it.
  let existing = target;
  while (existing !== root && fs.lstatSync(existing, { throwIfNoEntry: false }) === undefined) existing = path.dirname(existing);
  let real: string;
  try {
    real = fs.realpathSync(existing);
  } catch {
    throw new ToolError(`${p} is a dangling symlink`);
  }
  if (!within(root, real)) throw new ToolError(`${p} leads outside the workspace (through a symlink)`);
  return path.join(real, path.relative(existing, target));
}

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root + path.sep);
}

function statOrNull(p: string): fs.Stats | null {
  return fs.statSync(p, { throwIfNoEntry: false }) ?? null;
}

function lstatOrNull(p: string): fs.Stats | null {
  return fs.lstatSync(p, { throwIfNoEntry: false }) ?? null;
}

/** The outermost directory of `dir` below `root` that does not exist yet (null when `dir` exists). */
function firstMissing(root: string, dir: string): string | null {
  let missing: string | null = null;
  for (let d = dir; d !== root && d.startsWith(root + path.sep) && !lstatOrNull(d); d = path.dirname(d)) missing = d;
  return missing;
}

/**
 * The bytes of a regular file of the workspace (already resolved inside it), read without following
 * a link or blocking on a FIFO; a one-line tool error for anything else.
 */
async function readRegular(file: string, rel: string, hint: string): Promise<Buffer> {
  const r = await readAgentFile(file, MAX_READ_BYTES);
  if (r.ok) return r.data;
  if (r.missing) throw new ToolError(`no such file: ${rel}`);
  if (r.reason === 'is a directory') throw new ToolError(`${rel} is a directory (use list_files)`);
  if (r.reason.startsWith('is ') && r.reason.includes('bytes')) throw new ToolError(`${rel} ${r.reason}; ${hint}`);
  throw new ToolError(`${rel} ${r.reason}`);
}

function reqString(a: Record<string, unknown>, k: string, allowEmpty = false): string {
  const v = a[k];
  if (typeof v !== 'string' || (!allowEmpty && v === '')) throw new ToolError(`"${k}" must be a ${allowEmpty ? '' : 'non-empty '}string`);
  return v;
}

function optInt(a: Record<string, unknown>, k: string): number | undefined {
  const v = a[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ToolError(`"${k}" must be a number`);
  return Math.floor(v);
}

function ok(output: string): Partial0 {
  return { exit_code: 0, output, truncated_bytes: 0, timed_out: false };
}

/** Cap text to `cap` bytes, keeping head and tail, with the sandbox's marker for what was cut. */
export function capped(text: string, cap: number): Partial0 {
  const buf = Buffer.from(text);
  if (buf.length <= cap) return ok(text);
  const head = Math.ceil(cap / 2);
  const tail = cap - head;
  const cut = buf.length - cap;
  return { exit_code: 0, output: buf.toString('utf8', 0, head) + cutMarker(cut) + buf.toString('utf8', buf.length - tail), truncated_bytes: cut, timed_out: false };
}

function lineOf(text: string, index: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * After a crash between a task tool's `tool.result` and its `evaluation` event, the evaluation that
 * was never written: derived from the recorded output, so no intermediate score is lost on resume.
 * Null when the log's last tool result needs none (or already has one).
 */
export function missingEvaluation(events: readonly TrajectoryEvent[], tools: readonly TaskTool[]): Omit<EvaluationEvent, 't' | 'seq'> | null {
  let toolCalls = 0;
  let last: ToolResultEvent | null = null;
  for (const e of events) {
    if (e.type === 'tool.call' && !e.repeated) toolCalls++;
    if (e.type === 'tool.result') last = e;
    else if (last && (e.type === 'evaluation' || e.type === 'assistant' || e.type === 'tool.call')) last = null;
  }
  if (!last) return null;
  const tool = tools.find((t) => t.name === last!.name);
  if (!tool?.records_evaluation || BUILTIN_NAMES.has(tool.name)) return null;
  const ev = parseEvaluation(last.output);
  return ev ? { type: 'evaluation', ...ev, tool_calls: toolCalls } : null;
}
