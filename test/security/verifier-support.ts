// Support for the verifier attack suites (test/security/verifier-*.test.ts): run an experiment through
// the real CLI (the oracle over small task directories the test writes, or the built-in harness driven
// by a scripted model that plays one attack per rollout) and read back each rollout's grade.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { RolloutFinishedEvent, TrajectoryEvent, VerifierResultEvent } from '../../src/core/events.js';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import type { PolicyRequest, ScriptedToolCall, ScriptedTurn } from '../../src/models/scripted/types.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { cliAsync, tmpdir, writeTree } from '../helpers/cli.js';

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

/** `outlast run <paths> --harness oracle`; the rollouts, keyed by task name. */
export async function runOracle(paths: string[]): Promise<Map<string, Graded>> {
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
