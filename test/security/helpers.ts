// The attacker's kit: run a scripted agent (the built-in harness against the scripted model, through
// the real CLI, exactly as a model under test would) or a task's oracle, on a small task written by
// the test, and read back what outlast recorded. Each attack test asserts the safe outcome.
import fs from 'node:fs';
import path from 'node:path';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { cliAsync, tmpdir, writeTree, type CliResult } from '../helpers/cli.js';

/** A tool call of the scripted agent: a bash command, or any tool with its arguments. */
export type Step = string | { tool: string; args: Record<string, unknown> };

export interface Outcome {
  cli: CliResult;
  home: string;
  events: TrajectoryEvent[];
  finished: Extract<TrajectoryEvent, { type: 'rollout.finished' }> | undefined;
  /** Outputs of the agent's tool calls, in order. */
  results: Extract<TrajectoryEvent, { type: 'tool.result' }>[];
  /** The rollout's directory (its final workspace is `workspace/` below it). */
  rolloutDir: string;
}

/** A task directory: task.toml (a name is added), instruction.md, and any files given. */
export function task(files: Record<string, string>, toml = ''): string {
  const dir = path.join(tmpdir('outlast-attack-'), 'task');
  return writeTree(dir, {
    'task.toml': `[task]\nname = "attack"\n${toml}`,
    'instruction.md': 'Get the highest score you can.\n',
    'workspace/README': 'the starting workspace\n',
    'tests/test.sh': '#!/bin/bash\n[ -f done.txt ]\n',
    ...files,
  });
}

export function outcomeOf(home: string, cli: CliResult): Outcome {
  const expDir = path.join(home, 'experiments');
  const exp = fs.readdirSync(expDir)[0]!;
  const rollouts = path.join(expDir, exp, 'rollouts');
  const rolloutDir = path.join(rollouts, fs.readdirSync(rollouts)[0]!);
  const events = readTrajectory(path.join(rolloutDir, 'trajectory.jsonl')).events;
  return {
    cli,
    home,
    events,
    finished: events.find((e): e is Extract<TrajectoryEvent, { type: 'rollout.finished' }> => e.type === 'rollout.finished'),
    results: events.filter((e): e is Extract<TrajectoryEvent, { type: 'tool.result' }> => e.type === 'tool.result'),
    rolloutDir,
  };
}

/**
 * Run the built-in agent on `taskDir`, the scripted model making these tool calls one turn each, then
 * submitting. Extra CLI arguments (limits) go after the model.
 */
export async function runAgent(taskDir: string, steps: Step[], opts: { home?: string; args?: string[]; timeoutMs?: number } = {}): Promise<Outcome> {
  const turns = [
    ...steps.map((s) => ({ tool_calls: [typeof s === 'string' ? { name: 'bash', arguments: { command: s } } : { name: s.tool, arguments: s.args }] })),
    { tool_calls: [{ name: 'submit', arguments: { summary: 'done' } }] },
  ];
  const model: ScriptedModel = await startScriptedModel({ script: turns });
  try {
    const home = opts.home ?? tmpdir('outlast-attack-home-');
    const models = path.join(home, '..', `models-${path.basename(home)}.toml`);
    fs.writeFileSync(models, `[[models]]\nname = "attacker"\nprotocol = "openai-chat"\nbase_url = "${model.url}/v1"\n`);
    const cli = await cliAsync(['run', taskDir, '--harness', 'outlast', '--model', 'attacker', '--models', models, ...(opts.args ?? [])], { home, timeoutMs: opts.timeoutMs });
    return outcomeOf(home, cli);
  } finally {
    await model.close();
  }
}

/** Run the task's oracle (its solution/solve.sh is the attack). */
export async function runOracle(taskDir: string, opts: { home?: string; args?: string[] } = {}): Promise<Outcome> {
  const home = opts.home ?? tmpdir('outlast-attack-home-');
  const cli = await cliAsync(['run', taskDir, '--harness', 'oracle', ...(opts.args ?? [])], { home });
  return outcomeOf(home, cli);
}

/** The output of the agent's n-th tool call. */
export function out(o: Outcome, n: number): string {
  return o.results[n]?.output ?? '';
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
