// Crash safety of the whole stack: `outlast run --harness outlast` against a scripted model (real
// HTTP, through the in-process gateway, tools in real sandboxes), killed with SIGKILL at a random
// moment and continued with `outlast resume`, ends exactly like an uninterrupted run: same final
// workspace, same tool calls, same score; no event lost or duplicated except the marked in-flight step.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import { rng } from '../../src/report/stats.js';
import { readTrajectory } from '../../src/store/trajectory.js';
// @ts-expect-error: plain JS fixture shared with the harness tests
import { makeStepPolicy } from '../harnesses/fixtures/step-policy.mjs';
import { cliAsync, cliSpawn, tmpdir, writeTree, treeFiles } from '../helpers/cli.js';

const STEPS = 12;
const RUNS = 20;


interface Outcome {
  workspace: Record<string, string>;
  calls: unknown[];
  repeated: number;
  score: number | null;
  outcome: string;
  events: TrajectoryEvent[];
}

function rolloutDir(home: string): string {
  const expDir = path.join(home, 'experiments', fs.readdirSync(path.join(home, 'experiments'))[0]!, 'rollouts');
  return path.join(expDir, fs.readdirSync(expDir)[0]!);
}

/** The rollout's log, or null when the runner was killed before the rollout started. */
function logOf(home: string): string | null {
  const expDir = path.join(home, 'experiments', fs.readdirSync(path.join(home, 'experiments'))[0]!, 'rollouts');
  if (!fs.existsSync(expDir) || fs.readdirSync(expDir).length === 0) return null;
  const f = path.join(rolloutDir(home), 'trajectory.jsonl');
  return fs.existsSync(f) ? f : null;
}

function outcomeOf(home: string): Outcome {
  const dir = rolloutDir(home);
  const { events, bad, torn } = readTrajectory(path.join(dir, 'trajectory.jsonl'));
  expect(bad).toEqual([]);
  expect(torn).toBeNull();
  const finished = events.filter((e) => e.type === 'rollout.finished');
  expect(finished).toHaveLength(1);
  const f = finished[0]!;
  if (f.type !== 'rollout.finished') throw new Error('unreachable');
  const calls = events.flatMap((e) => (e.type === 'tool.call' && !e.repeated ? [[e.name, e.arguments]] : []));
  const repeated = events.filter((e) => e.type === 'tool.call' && e.repeated).length;
  return { workspace: treeFiles(path.join(dir, 'workspace')), calls, repeated, score: f.score?.value ?? null, outcome: f.outcome, events };
}

describe('SIGKILL at a random moment, then resume', () => {
  let model: ScriptedModel;
  let task: string;
  let models: string;
  let baseline: Outcome;
  let baselineMs = 0;

  beforeAll(async () => {
    model = await startScriptedModel({ script: makeStepPolicy({ steps: STEPS, bashEvery: 3 }), ttft_ms: 40 });
    const root = tmpdir();
    models = path.join(root, 'models.toml');
    fs.writeFileSync(models, `[[models]]\nname = "stepper"\nprotocol = "openai-chat"\nbase_url = "${model.url}/v1"\ncontext_window = 100000\n`);
    const checks = Array.from({ length: STEPS }, (_, k) => `grep -qx 'step ${k}' steps/step-${String(k).padStart(4, '0')}.txt || ok=0`).join('\n');
    task = writeTree(path.join(root, 'steps-task'), {
      'task.toml': '[task]\nname = "steps"\n[limits]\nwall_time_sec = 300\n',
      'instruction.md': `Write steps/step-0000.txt … step-${String(STEPS - 1).padStart(4, '0')}.txt, then submit.\n`,
      'workspace/.keep': '',
      'tests/test.sh': `#!/bin/bash\nok=1\n${checks}\necho $ok > /logs/verifier/reward.txt\n`,
    });
  });
  afterAll(async () => {
    await model?.close();
  });

  it('an uninterrupted run', async () => {
    const home = tmpdir();
    const t0 = Date.now();
    const r = await cliAsync(['run', task, '--harness', 'outlast', '--model', 'stepper', '--models', models], { home });
    baselineMs = Date.now() - t0;
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    baseline = outcomeOf(home);
    expect(baseline.outcome).toBe('completed');
    expect(baseline.score).toBe(1);
    expect(baseline.calls).toHaveLength(STEPS + 1);
    expect(baseline.repeated).toBe(0);
  });

  it(`${RUNS} runs killed at random moments end the same after resume`, { timeout: 300_000 }, async () => {
    const rand = rng(20261125);
    const kills: number[] = [];
    let interrupted = 0;
    for (let i = 0; i < RUNS; i++) {
      const home = tmpdir();
      const child = cliSpawn(['run', task, '--harness', 'outlast', '--model', 'stepper', '--models', models], { home });
      const exited = new Promise((r) => child.once('exit', r));
      const at = Math.round(100 + rand() * baselineMs * 0.9);
      kills.push(at);
      await new Promise((r) => setTimeout(r, at));
      child.kill('SIGKILL');
      await exited;
      const expRoot = path.join(home, 'experiments');
      const planned = fs.existsSync(expRoot) && fs.readdirSync(expRoot).some((d) => fs.existsSync(path.join(expRoot, d, 'experiment.json')));
      if (planned) {
        const log = logOf(home);
        if (!log || !fs.readFileSync(log, 'utf8').includes('"rollout.finished"')) interrupted++;
        const res = await cliAsync(['resume'], { home });
        expect(res.stderr, `run ${i} (killed at ${at} ms)`).not.toMatch(/internal error/);
        expect(res.code, `run ${i} (killed at ${at} ms): ${res.stdout}${res.stderr}`).toBe(0);
      } else {
        // Killed before the experiment's plan was written: there is nothing to resume, so run it again.
        fs.rmSync(expRoot, { recursive: true, force: true });
        expect((await cliAsync(['run', task, '--harness', 'outlast', '--model', 'stepper', '--models', models], { home })).code).toBe(0);
      }
      const got = outcomeOf(home);
      const label = `run ${i}, killed at ${at} ms`;
      expect(got.workspace, label).toEqual(baseline.workspace);
      expect(got.calls, label).toEqual(baseline.calls);
      expect(got.score, label).toBe(baseline.score);
      expect(got.outcome, label).toBe('completed');
      expect(got.repeated, label).toBeLessThanOrEqual(1); // at most the step in flight, and it is marked
      // Sequence numbers are contiguous: nothing lost, nothing written twice.
      expect(got.events.map((e) => e.seq), label).toEqual(got.events.map((_, j) => j));
    }
    // Most kills landed inside the rollout, at different moments of it.
    expect(interrupted, `kills at ${kills.join(', ')} ms; uninterrupted run ${baselineMs} ms`).toBeGreaterThanOrEqual(RUNS / 2);
    expect(new Set(kills.map((k) => Math.floor((k / baselineMs) * 4))).size).toBeGreaterThan(1);
  });
});
