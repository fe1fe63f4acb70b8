// Numbers across attempts, through the real CLI: `outlast run --harness outlast` against a slow
// scripted model, SIGKILLed while a model call is in flight, paused, then resumed. The rollout's
// wall time is the sum of its attempts (not the last one's, and not the pause), its attempts are
// counted, and the call the kill caught is recorded on resume as `model.unmetered` with an estimate,
// counted apart in `show` and `report`.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRequestEvent, ModelUnmeteredEvent, RolloutFinishedEvent, TrajectoryEvent } from '../../src/core/events.js';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import { readTrajectory } from '../../src/store/trajectory.js';
// @ts-expect-error: plain JS fixture shared with the harness tests
import { makeStepPolicy } from '../harnesses/fixtures/step-policy.mjs';
import { cliAsync, cliSpawn, tmpdir, writeTree, firstTrajectory } from '../helpers/cli.js';

const STEPS = 4;


/** A model.request after at least two responses, still without its response. */
function inFlight(events: TrajectoryEvent[]): ModelRequestEvent | null {
  const answered = new Set(events.flatMap((e) => (e.type === 'model.response' ? [e.call_id] : [])));
  if (answered.size < 2) return null;
  const last = events.filter((e): e is ModelRequestEvent => e.type === 'model.request').at(-1);
  return last && !answered.has(last.call_id) ? last : null;
}

describe('a rollout killed with a model call in flight, then resumed', () => {
  let model: ScriptedModel;
  let models: string;
  let task: string;

  beforeAll(async () => {
    model = await startScriptedModel({ script: makeStepPolicy({ steps: STEPS, bashEvery: 2 }), ttft_ms: 1200 });
    const root = tmpdir();
    models = path.join(root, 'models.toml');
    fs.writeFileSync(
      models,
      `[[models]]\nname = "slow"\nprotocol = "openai-chat"\nbase_url = "${model.url}/v1"\ncontext_window = 100000\npricing = { input = 2.0, cached_input = 0.5, cache_write = 2.0, output = 8.0 }\n`,
    );
    const checks = Array.from({ length: STEPS }, (_, k) => `grep -qx 'step ${k}' steps/step-${String(k).padStart(4, '0')}.txt || ok=0`).join('\n');
    task = writeTree(path.join(root, 'steps-task'), {
      'task.toml': '[task]\nname = "steps"\n[limits]\nwall_time_sec = 300\n',
      'instruction.md': 'Write the step files, then submit.\n',
      'workspace/.keep': '',
      'tests/test.sh': `#!/bin/bash\nok=1\n${checks}\necho $ok > /logs/verifier/reward.txt\n`,
    });
  });
  afterAll(async () => {
    await model?.close();
  });

  it('sums its attempts, counts them, and records the lost call as unmetered', { timeout: 120_000 }, async () => {
    const home = tmpdir();
    const args = ['run', task, '--harness', 'outlast', '--model', 'slow', '--models', models];
    const child = cliSpawn(args, { home });
    const exited = new Promise((r) => child.once('exit', r));
    let lost: ModelRequestEvent | null = null;
    const until = Date.now() + 60_000;
    while (!lost) {
      if (Date.now() > until) throw new Error('no model call was ever in flight');
      await new Promise((r) => setTimeout(r, 50));
      const log = firstTrajectory(home);
      if (log) lost = inFlight(readTrajectory(log).events);
    }
    await new Promise((r) => setTimeout(r, 300)); // well inside the call's 1.2 s to first token
    child.kill('SIGKILL');
    await exited;
    const pause = 1500;
    await new Promise((r) => setTimeout(r, pause));

    const r = await cliAsync(['resume'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const { events, bad } = readTrajectory(firstTrajectory(home)!);
    expect(bad).toEqual([]);
    const fin = events.find((e): e is RolloutFinishedEvent => e.type === 'rollout.finished')!;
    expect(fin.outcome).toBe('completed');
    expect(fin.score?.value).toBe(1);

    // the call the kill caught: recorded once, with an estimate from its request's size (the gateway records request_bytes)
    const unmetered = events.filter((e): e is ModelUnmeteredEvent => e.type === 'model.unmetered');
    expect(unmetered).toHaveLength(1);
    const u = unmetered[0]!;
    expect(u).toMatchObject({ call_id: lost!.call_id, request_seq: lost!.seq, basis: 'request_bytes', price_table: 'models.toml' });
    expect(lost!.request_bytes).toBeGreaterThan(0);
    expect(u.usage.input).toBe(Math.ceil(lost!.request_bytes! / 4));
    expect(u.cost_usd).toBeGreaterThan(0);
    expect(fin.totals.unmetered).toEqual({ calls: 1, usage: u.usage, cost_usd: u.cost_usd });
    // metered figures stay metered: the estimate is not in them
    const metered = events.reduce((n, e) => n + (e.type === 'model.response' ? e.cost_usd : 0), 0);
    expect(fin.totals.cost_usd).toBeCloseTo(metered, 10);

    // wall time: both attempts, without the pause between them
    const starts = events.filter((e) => e.type === 'rollout.started');
    expect(starts).toHaveLength(2);
    expect(fin.totals.attempts).toBe(2);
    const ms = (e: TrajectoryEvent) => Date.parse(e.t);
    const second = starts[1]!;
    const lastOfFirst = events[events.indexOf(second) - 1]!;
    const first = ms(lastOfFirst) - ms(starts[0]!);
    const secondSpan = ms(fin) - ms(second);
    expect(Math.abs(fin.totals.wall_ms - (first + secondSpan))).toBeLessThanOrEqual(50);
    expect(fin.totals.wall_ms).toBeGreaterThan(secondSpan + 500); // more than the last attempt alone
    expect(fin.totals.wall_ms).toBeLessThan(ms(fin) - ms(starts[0]!) - pause + 200); // the pause is nobody's

    const show = await cliAsync(['show'], { home });
    expect(show.stdout).toMatch(/\(2 attempts\)/);
    const rows = JSON.parse((await cliAsync(['show', '--json'], { home })).stdout).rollouts;
    expect(rows[0]).toMatchObject({ attempts: 2, wall_ms: fin.totals.wall_ms });
    const rep = await cliAsync(['report'], { home });
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.stdout).toMatch(/slow × outlast: 1 call unmetered \(crash\), ~\$[\d.]+ estimated/);
    expect(rep.stdout).toMatch(/1 of 1 resumed \(max 2\)/);
    const json = JSON.parse((await cliAsync(['report', '--format', 'json'], { home })).stdout);
    expect(json.groups[0].cost).toMatchObject({ unmetered_calls: 1 });
    expect(json.groups[0].cost.unmetered_usd_estimate).toBeCloseTo(u.cost_usd, 10);
    expect(json.groups[0].endurance.wall_ms.p50).toBe(fin.totals.wall_ms);
    expect(json.rollouts[0]).toMatchObject({ attempts: 2, unmetered_calls: 1 });
  });
});
