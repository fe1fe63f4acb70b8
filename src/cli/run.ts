// `outlast run <task-or-suite-dir>...`: an experiment of tasks × harnesses × repeats.
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import type { SandboxMode, Task } from '../core/types.js';
import { harnessNames, createHarness } from '../harnesses/index.js';
import { createExperiment, defaultConcurrency } from '../runner/experiment.js';
import { loadModelsConfig, type ModelsConfig } from '../models/config.js';
import type { Limits, ModelEndpoint } from '../core/types.js';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { RolloutResult } from '../runner/rollout.js';
import { checkTasksReadable } from '../runner/readable.js';
import { createSandbox } from '../sandbox/index.js';
import { discoverTasks } from '../tasks/discover.js';
import { EXIT, layoutFor, positiveInt, sandboxMode, withStore } from './common.js';
import { executeExperiment } from './execute.js';
import { rolloutTable } from './show.js';

export interface LoadedTasks {
  tasks: Task[];
  byName: Map<string, Task>;
}

/** Load tasks from the command line's paths, reporting skipped ones (e.g. GPU tasks without a GPU). */
export async function loadTasksFromArgs(paths: string[]): Promise<LoadedTasks> {
  const { tasks, skipped } = await discoverTasks(paths);
  for (const s of skipped) process.stderr.write(`outlast: skipping ${s.dir}: ${s.reason}\n`);
  if (tasks.length === 0) throw new UserError('no runnable tasks among the given paths');
  return { tasks, byName: new Map(tasks.map((t) => [t.name, t])) };
}

export function parseHarnesses(v: string, prev: string[] | undefined): string[] {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) createHarness(n); // fails with the list of known harnesses
  return [...(prev ?? []), ...names];
}

export function list(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** The endpoints named by --model, from --models (default ./models.toml). */
export function resolveModels(names: string[] | undefined, file: string | undefined): { endpoints: ModelEndpoint[]; config?: ModelsConfig } {
  if (!names?.length) return { endpoints: [] };
  const f = path.resolve(file ?? 'models.toml');
  if (!file && !fs.existsSync(f)) throw new UserError(`--model needs model endpoints: write ./models.toml or pass --models FILE (see docs/gateway.md)`);
  const config = loadModelsConfig(f);
  const endpoints = [...new Set(names)].map((n) => {
    const ep = config.models.find((m) => m.name === n);
    if (!ep) throw new UserError(`${f}: no model named "${n}" (models: ${config.models.map((m) => m.name).join(', ') || 'none'})`);
    return ep;
  });
  // A key that is not there fails every call: refuse before any rollout starts, not once per rollout.
  for (const ep of endpoints) {
    if (ep.api_key_env && !process.env[ep.api_key_env]) {
      throw new UserError(`model "${ep.name}": the environment variable ${ep.api_key_env} (its api_key_env in ${f}) is not set: export it, or drop api_key_env for an endpoint that needs no key`);
    }
  }
  return { endpoints, config };
}

/** Parse a duration: plain seconds, or a number with s, m, h or d (0 only when `zero` allows it). */
export function durationSec(name: string, zero = false) {
  return (v: string): number => {
    const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(v.trim());
    if (!m || (Number(m[1]) <= 0 && !zero)) throw new InvalidArgumentError(`${name} must be a ${zero ? '' : 'positive '}duration like 90, 45m, 35h or 2d, got "${v}"`);
    return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's']!;
  };
}

function positiveNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got "${v}"`);
    return n;
  };
}

/** Parse `--set key=value` (the value as JSON when it parses, else as a string). */
export function setting(v: string, prev: Record<string, unknown> | undefined): Record<string, unknown> {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`expected key=value, got "${v}"`);
  let value: unknown = m[2];
  try {
    value = JSON.parse(m[2]!);
  } catch {
    /* a plain string */
  }
  return { ...(prev ?? {}), [m[1]!]: value };
}

export interface LimitOptions {
  wallTime?: number;
  workingTime?: number;
  maxTurns?: number;
  maxTokens?: number;
  maxCost?: number;
  outagePatience?: number;
}

export function limitOverrides(o: LimitOptions): Limits {
  const l: Limits = {};
  if (o.wallTime !== undefined) l.wall_time_sec = o.wallTime;
  if (o.workingTime !== undefined) l.working_time_sec = o.workingTime;
  if (o.maxTurns !== undefined) l.turns = o.maxTurns;
  if (o.maxTokens !== undefined) l.tokens = o.maxTokens;
  if (o.maxCost !== undefined) l.cost_usd = o.maxCost;
  if (o.outagePatience !== undefined) l.outage_patience_sec = o.outagePatience;
  return l;
}

export function summarize(results: RolloutResult[]): { line: string; problems: number } {
  const finished = results.filter((r) => !r.interrupted);
  const passed = finished.filter((r) => r.score?.passed).length;
  const problems = finished.filter((r) => r.outcome === 'infra_error' || r.outcome === 'task_error').length;
  const behind = results.filter((r) => r.index_error).map((r) => `\nwarning: rollout ${r.rollout_id}: ${r.index_error}`);
  const infra = finished.filter((r) => r.outcome === 'infra_error').length;
  const hint = infra ? `\n${infra} rollout${infra === 1 ? '' : 's'} ended infra_error (not the agent's result): \`outlast resume\` continues ${infra === 1 ? 'it' : 'them'} from the log` : '';
  return { line: `${finished.length} rollouts finished: ${passed} passed, ${finished.length - passed} failed${problems ? ` (${problems} infra/task errors)` : ''}${behind.join('')}${hint}`, problems };
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run an experiment: every task × every harness × repeats, graded by each task\'s verifier')
    .argument('<paths...>', 'task directories (holding task.toml) or suite directories containing tasks')
    .option('-H, --harness <names>', `harness(es), comma-separated or repeated: ${harnessNames().join(', ')} (default: oracle)`, parseHarnesses)
    .option('-r, --repeats <n>', 'rollouts per task × harness', positiveInt('--repeats'), 1)
    .option('-c, --concurrency <n>', 'rollouts at once (default: number of cores)', positiveInt('--concurrency'))
    .option('--workers <n>', 'worker processes that run the rollouts (default: one per core from 8 concurrent rollouts up, else 1)', positiveInt('--workers'))
    .option('--sandbox <mode>', 'bwrap (default) or none (unsandboxed, for development; recorded as such)', sandboxMode, 'bwrap' as SandboxMode)
    .option('-m, --model <names>', 'model endpoint(s) for agent harnesses, comma-separated or repeated; each agent harness runs once per model', list)
    .option('--models <file>', 'models config (default: ./models.toml); see docs/gateway.md')
    .option('--wall-time <duration>', 'limit: wall time per rollout (e.g. 600, 45m, 35h); overrides the tasks\' [limits]', durationSec('--wall-time'))
    .option('--working-time <duration>', 'limit: working time per rollout (wall time minus upstream retry waits)', durationSec('--working-time'))
    .option('--max-turns <n>', 'limit: model turns per rollout', positiveInt('--max-turns'))
    .option('--max-tokens <n>', 'limit: tokens (input + output) per rollout', positiveInt('--max-tokens'))
    .option('--max-cost <usd>', 'limit: cost in US dollars per rollout', positiveNumber('--max-cost'))
    .option('--outage-patience <duration>', 'how long a provider outage is waited out before a rollout ends infra_error (default 30m; 0: no waiting); not counted as wall or working time', durationSec('--outage-patience', true))
    .option('-S, --set <key=value>', 'a setting of the agent harness, repeatable (outlast: idle_rounds, compact_threshold, context_window, keep_recent_turns, command_timeout_sec, output_bytes, temperature, max_tokens, model_retries, outage_backoff_ms, outage_backoff_max_ms; see docs/harness.md)', setting)
    .addHelpText(
      'after',
      '\nResults go to the home directory (--home, $OUTLAST_HOME, default ./.outlast): experiment.json,\none trajectory.jsonl per rollout, and the outlast.db index. See them again with `outlast show`.\n\nExit codes: 0 all rollouts finished (whatever their scores), 1 some ended in infra_error (`outlast resume`\ncontinues them) or task_error, 2 bad input, 3 internal error, 4 the disk is full (free space, then `outlast resume`),\n130 interrupted (continue with `outlast resume`).',
    )
    .action(async (paths: string[], opts: LimitOptions & { harness?: string[]; repeats: number; concurrency?: number; workers?: number; sandbox: SandboxMode; model?: string[]; models?: string; set?: Record<string, unknown> }) => {
      const sandbox = await createSandbox(opts.sandbox);
      const { tasks, byName } = await loadTasksFromArgs(paths);
      await checkTasksReadable(tasks, sandbox);
      const { endpoints, config } = resolveModels(opts.model, opts.models);
      const layout = layoutFor(program.opts());
      const harnesses = [...new Set(opts.harness ?? ['oracle'])];
      const concurrency = opts.concurrency ?? defaultConcurrency();
      const code = await withStore(layout, async (store) => {
        const record = await createExperiment(layout, store, {
          tasks,
          harnesses,
          repeats: opts.repeats,
          concurrency,
          sandbox: opts.sandbox,
          argv: process.argv.slice(2),
          models: endpoints,
          modelsConfig: config,
          limits: limitOverrides(opts),
          harnessSettings: opts.set,
        });
        const { results, interrupted, halted } = await executeExperiment({ layout, store, record, tasks: byName, sandbox, concurrency, workers: opts.workers });
        process.stdout.write(`\nexperiment ${record.id}\n\n${rolloutTable(await store.listRollouts(record.id))}\n\n`);
        const s = summarize(results);
        process.stdout.write(s.line + '\n');
        if (halted) {
          process.stderr.write(`outlast: ${halted}\n`);
          return EXIT.storage;
        }
        if (interrupted) return EXIT.interrupted;
        return s.problems ? EXIT.failures : EXIT.ok;
      });
      process.exitCode = code;
    });
}
