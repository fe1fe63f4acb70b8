// The signature workload end to end: an agent (a scripted model through the gateway, driving the
// outlast harness) evaluates the softmax kernel, rewrites it, evaluates again and submits. Each
// `evaluate` call becomes an `evaluation` event (the score-over-time curve), and the final grade is
// the speedup verifier's, on hidden workloads.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationEvent } from '../../src/core/events.js';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { ROOT, cliAsync, tmpdir } from '../helpers/cli.js';

describe('an agent optimising a kernel', () => {
  let model: ScriptedModel;
  let models: string;

  beforeAll(async () => {
    const faster = fs.readFileSync(path.join(ROOT, 'tasks/kernels/softmax/solution/kernel.c'), 'utf8');
    model = await startScriptedModel({
      script: [
        { text: 'First, where do we stand?', tool_calls: [{ name: 'evaluate', arguments: {} }] },
        { text: 'A one-pass version with online max and sum, over both cores.', tool_calls: [{ name: 'write_file', arguments: { path: 'kernel.c', content: faster } }] },
        { tool_calls: [{ name: 'evaluate', arguments: {} }] },
        { text: 'Faster and still correct.', tool_calls: [{ name: 'submit', arguments: { summary: 'rewrote softmax' } }] },
      ],
    });
    models = path.join(tmpdir(), 'models.toml');
    fs.writeFileSync(models, `[[models]]\nname = "agent"\nprotocol = "openai-chat"\nbase_url = "${model.url}/v1"\n`);
  });
  afterAll(async () => {
    await model?.close();
  });

  it('records each evaluation and grades the final kernel on hidden workloads', { timeout: 180_000 }, async () => {
    const home = tmpdir();
    const r = await cliAsync(['run', 'tasks/kernels/softmax', '--harness', 'outlast', '--model', 'agent', '--models', models], { home, timeoutMs: 170_000 });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const exp = fs.readdirSync(path.join(home, 'experiments'))[0]!;
    const dir = path.join(home, 'experiments', exp, 'rollouts');
    const { events } = readTrajectory(path.join(dir, fs.readdirSync(dir)[0]!, 'trajectory.jsonl'));

    const evals = events.filter((e): e is EvaluationEvent => e.type === 'evaluation');
    expect(evals.map((e) => e.tool_calls)).toEqual([1, 3]);
    expect(evals[0]!.score).toBeGreaterThan(0.8); // the reference against itself: about 1
    expect(evals[0]!.score).toBeLessThan(1.25);
    expect(evals[1]!.score).toBeGreaterThan(1.3); // the rewrite is faster
    expect(evals.every((e) => e.passed === true)).toBe(true); // both correct

    const finished = events.at(-1)!;
    if (finished.type !== 'rollout.finished') throw new Error('last event');
    expect(finished.outcome).toBe('completed');
    expect(finished.score?.grader.verifier).toBe('speedup');
    expect(finished.score?.value).toBeGreaterThan(1.3);
    expect(finished.score?.passed).toBe(true);
  });
});
