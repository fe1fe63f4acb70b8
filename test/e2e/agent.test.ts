// `outlast run --harness outlast` from the command line: models.toml, harness settings (--set),
// limits (--max-turns), all against a scripted model over real HTTP.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { cliAsync, tmpdir, writeTree } from '../helpers/cli.js';

describe('outlast run --harness outlast', () => {
  let idle: ScriptedModel;
  let busy: ScriptedModel;
  let models: string;
  let task: string;

  beforeAll(async () => {
    // One model that only talks, one that keeps calling a tool and never submits.
    idle = await startScriptedModel({ script: [{ text: 'I would rather not.' }], loop: true });
    busy = await startScriptedModel({ script: [{ tool_calls: [{ name: 'bash', arguments: { command: 'echo working >> log.txt' } }] }], loop: true });
    const root = tmpdir();
    models = path.join(root, 'models.toml');
    fs.writeFileSync(
      models,
      `[[models]]\nname = "idle"\nprotocol = "anthropic"\nbase_url = "${idle.url}/v1"\n\n[[models]]\nname = "busy"\nprotocol = "openai-responses"\nbase_url = "${busy.url}/v1"\n`,
    );
    task = writeTree(path.join(root, 'task'), {
      'task.toml': '[task]\nname = "log"\n',
      'instruction.md': 'Append "working" to log.txt three times, then submit.\n',
      'workspace/.keep': '',
      'tests/test.sh': '#!/bin/bash\n[ "$(grep -c working log.txt 2>/dev/null)" -ge 3 ]\n',
    });
  });
  afterAll(async () => {
    await idle?.close();
    await busy?.close();
  });

  function finishedEvents(home: string) {
    const exp = fs.readdirSync(path.join(home, 'experiments'))[0]!;
    const dir = path.join(home, 'experiments', exp, 'rollouts');
    const record = JSON.parse(fs.readFileSync(path.join(home, 'experiments', exp, 'experiment.json'), 'utf8'));
    const rollouts = fs.readdirSync(dir).map((r) => {
      const events = readTrajectory(path.join(dir, r, 'trajectory.jsonl')).events;
      return { id: r, events, finished: events.find((e) => e.type === 'rollout.finished') };
    });
    return { record, rollouts };
  }

  it('applies --set idle_rounds, records it, and gives up after that many idle replies', async () => {
    const home = tmpdir();
    const r = await cliAsync(['run', task, '--harness', 'outlast', '--model', 'idle', '--models', models, '--set', 'idle_rounds=2'], { home });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const { record, rollouts } = finishedEvents(home);
    expect(record.harness_settings).toEqual({ outlast: { idle_rounds: 2 } });
    const [only] = rollouts;
    const started = only!.events[0]!;
    if (started.type !== 'rollout.started') throw new Error('first event');
    expect(started.spec.harness.settings).toMatchObject({ idle_rounds: 2 });
    expect(started.spec.model).toMatchObject({ name: 'idle', protocol: 'anthropic' });
    expect(only!.finished).toMatchObject({ outcome: 'gave_up' });
    expect(only!.events.filter((e) => e.type === 'assistant')).toHaveLength(2);
    // Model calls went through the gateway and were metered into the rollout's log.
    expect(only!.events.filter((e) => e.type === 'model.response').length).toBeGreaterThanOrEqual(2);
  });

  it('ends a rollout that hits --max-turns as budget_exhausted and still grades its workspace', async () => {
    const home = tmpdir();
    const r = await cliAsync(['run', task, '--harness', 'outlast', '--model', 'busy', '--models', models, '--max-turns', '4'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const { rollouts } = finishedEvents(home);
    const f = rollouts[0]!.finished;
    if (f?.type !== 'rollout.finished') throw new Error('not finished');
    expect(f.outcome).toBe('budget_exhausted');
    expect(f.totals.turns).toBe(4);
    // Four turns appended "working" four times: the partial work is graded, and passes.
    expect(f.score).toMatchObject({ passed: true });
  });

  it('rejects settings a harness does not have, in one line', async () => {
    const home = tmpdir();
    for (const [args, msg] of [
      [['--harness', 'outlast', '--model', 'idle', '--models', models, '--set', 'patience=3'], /unknown setting "patience"/],
      [['--harness', 'outlast', '--model', 'idle', '--models', models, '--set', 'idle_rounds=0'], /idle_rounds must be an integer ≥ 1/],
      [['--harness', 'oracle', '--set', 'idle_rounds=3'], /none of the harnesses \(oracle\) takes settings/],
      [['--harness', 'outlast'], /talks to a model: name one with --model/],
      [['--harness', 'outlast', '--model', 'nobody', '--models', models], /no model named "nobody"/],
    ] as const) {
      const r = await cliAsync(['run', task, ...args], { home });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(msg);
    }
  });
});
