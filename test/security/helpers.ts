// The attacker's kit: run a scripted agent (the built-in harness against the scripted model, through
// the real CLI, exactly as a model under test would) or a task's oracle, on a small task written by
// the test, and read back what outlast recorded. Each attack test asserts the safe outcome. The
// batch forms (runOracles, runAttacks) play many attacks in one experiment, one rollout each.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { RolloutFinishedEvent, TrajectoryEvent, VerifierResultEvent } from '../../src/core/events.js';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import type { PolicyRequest, ScriptedToolCall, ScriptedTurn } from '../../src/models/scripted/types.js';
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

export interface Graded {
  rollout: string;
  events: TrajectoryEvent[];
  finished: RolloutFinishedEvent;
  verdict: VerifierResultEvent | undefined;
}

/** Every rollout of the one experiment under `home`, by rollout id. */
export function rollouts(home: string): Map<string, Graded> {
  const [exp] = fs.readdirSync(path.join(home, 'experiments'));
  const dir = path.join(home, 'experiments', exp!, 'rollouts');
  const out = new Map<string, Graded>();
  for (const r of fs.readdirSync(dir)) {
    const events = readTrajectory(path.join(dir, r, 'trajectory.jsonl')).events;
    const finished = events.find((e): e is RolloutFinishedEvent => e.type === 'rollout.finished');
    if (!finished) throw new Error(`rollout ${r} did not finish`);
    out.set(r, { rollout: r, events, finished, verdict: events.find((e): e is VerifierResultEvent => e.type === 'verifier.result') });
  }
  return out;
}

/** The safe outcome every attack must end in: graded (never infra_error), with a score. */
export function expectGraded(g: Graded): asserts g is Graded & { finished: { score: NonNullable<RolloutFinishedEvent['score']> } } {
  expect(g.finished.outcome, `${g.rollout}: ${g.finished.reason}`).not.toBe('infra_error');
  expect(g.finished.outcome, `${g.rollout}: ${g.finished.reason}`).not.toBe('task_error');
  expect(g.finished.score, g.rollout).not.toBeNull();
  // never a hang: the grading ended long before any verifier timeout of these tasks (120 s)
  expect(g.finished.totals.verify_ms, g.rollout).toBeLessThan(60_000);
}

/** Write small tasks (name → files) into one suite directory; returns it. */
export function writeSuite(tasks: Record<string, Record<string, string>>): string {
  const suite = tmpdir('outlast-attacks-');
  for (const [name, files] of Object.entries(tasks)) writeTree(path.join(suite, name), { 'instruction.md': `${name}\n`, ...files, 'task.toml': `[task]\nname = "${name}"\n${files['task.toml'] ?? ''}` });
  return suite;
}

/** `outlast run <paths> --harness oracle` for many small tasks at once; the rollouts, keyed by task name. */
export async function runOracles(paths: string[]): Promise<Map<string, Graded>> {
  const home = tmpdir();
  const r = await cliAsync(['run', ...paths, '--harness', 'oracle', '-c', '2'], { home, timeoutMs: 300_000 });
  expect(r.stderr).not.toMatch(/internal error|Error:/);
  expect(r.code, r.stdout + r.stderr).not.toBe(3);
  const byTask = new Map<string, Graded>();
  for (const g of rollouts(home).values()) byTask.set(g.rollout.replace(/--oracle--r1$/, ''), g);
  return byTask;
}

/** One attack played by the scripted model: the tool calls of each turn, then a submit. */
export type Attack = ScriptedToolCall[][];

/**
 * Run `task` with the built-in harness, one rollout per attack, against a scripted model whose
 * policy tells the rollouts apart by a first `echo attack=<name>` call; the rollouts by attack name.
 */
export async function runAttacks(task: string, attacks: Record<string, Attack>): Promise<Map<string, Graded>> {
  const names = Object.keys(attacks);
  let next = 0;
  const policy = ({ messages }: PolicyRequest): ScriptedTurn => {
    const tools = messages.filter((m) => m.role === 'tool');
    const turns = messages.filter((m) => m.role === 'assistant').length;
    if (turns === 0) return { tool_calls: [{ name: 'bash', arguments: { command: `echo attack=${names[next++ % names.length]}` } }] };
    const name = /attack=(\S+)/.exec(tools[0]?.text ?? '')?.[1] ?? '';
    const step = attacks[name]?.[turns - 1];
    return step ? { tool_calls: step } : { tool_calls: [{ name: 'submit', arguments: { summary: 'done' } }] };
  };
  let model: ScriptedModel | undefined;
  try {
    model = await startScriptedModel({ script: policy });
    const home = tmpdir();
    const models = path.join(home, 'models.toml');
    fs.writeFileSync(models, `[[models]]\nname = "attacker"\nprotocol = "openai-chat"\nbase_url = "${model.url}/v1"\n`);
    const r = await cliAsync(['run', task, '--harness', 'outlast', '--model', 'attacker', '--models', models, '--repeats', String(names.length), '-c', '2', '--max-turns', '12'], {
      home,
      timeoutMs: 300_000,
    });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stdout + r.stderr).not.toBe(3);
    const byAttack = new Map<string, Graded>();
    for (const g of rollouts(home).values()) {
      const first = g.events.find((e) => e.type === 'tool.result');
      const name = first?.type === 'tool.result' ? /attack=(\S+)/.exec(first.output)?.[1] : undefined;
      if (!name) throw new Error(`${g.rollout}: no attack name in its first tool result`);
      byAttack.set(name, g);
    }
    expect([...byAttack.keys()].sort()).toEqual([...names].sort());
    return byAttack;
  } finally {
    await model?.close();
  }
}

/** A bash tool call. */
export const bash = (command: string): ScriptedToolCall => ({ name: 'bash', arguments: { command } });
/** A write_file tool call. */
export const write = (p: string, content: string): ScriptedToolCall => ({ name: 'write_file', arguments: { path: p, content } });
