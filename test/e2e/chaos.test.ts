// Chaos: what a long run meets, each case against the whole CLI (`outlast run --harness outlast`,
// the scripted model behind a provider that can go down, the in-process gateway, real sandboxes).
// Every case must end either exactly like an uninterrupted run (same score, same tool calls, same
// workspace, a log with no lost, duplicated or torn event) or as a resumable rollout with its
// reason, which `outlast resume` then brings to that same end.
//
// Cases (seeded, bounded: the whole file runs in about two minutes on 2 cores):
//   - 20 SIGKILLs of the runner, each aimed 0-20 ms after a seeded event of the run (a tool call,
//     a tool result, a model request or response, a reply, the start of verification), then resume;
//   - the provider down (503) for longer than every quick retry, back within the outage patience;
//   - the provider down (connection refused) past the patience: infra_error with the reason, then
//     `outlast resume` with the provider back.
// To add a case, add a Case to CASES: `drive` runs it from a fresh home (ctx) and returns how it
// must end (see Expect); the kill cases are made from the uninterrupted run (killCases).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import { rng } from '../../src/report/stats.js';
import { readTrajectory } from '../../src/store/trajectory.js';
// @ts-expect-error: plain JS fixture shared with the harness tests
import { makeStepPolicy } from '../harnesses/fixtures/step-policy.mjs';
import { killAfterEvent, nth, trajectoryFile, waitForEvent } from '../helpers/chaos.js';
import { cliAsync, cliSpawn, tmpdir, writeTree, type CliResult, treeFiles } from '../helpers/cli.js';
import { startFlakyUpstream, type FlakyUpstream } from '../helpers/flaky-upstream.js';

const STEPS = 8;
const KILLS = 20;

/** What a case's run looks like at the end. */
interface Ended {
  workspace: Record<string, string>;
  calls: unknown[];
  repeated: number;
  score: number | null;
  outcome: string;
  reason: string;
  events: TrajectoryEvent[];
}

/** How a case must end: like the uninterrupted run, after `resumes` runs of `outlast resume`. */
interface Expect {
  resumes: number;
  /** Checks of the case's own (its log's outage events, the reason it stopped with...). */
  check?: (end: Ended) => void;
}

interface Ctx {
  home: string;
  upstream: FlakyUpstream;
  /** `outlast run` with the case's arguments (and `extra` ones after them), started (for kills) or awaited. */
  spawnRun(...extra: string[]): ReturnType<typeof cliSpawn>;
  run(): Promise<CliResult>;
  resume(...extra: string[]): Promise<CliResult>;
  /** The run's rollout as it is now. */
  ended(): Ended;
}

interface Case {
  name: string;
  drive(ctx: Ctx): Promise<Expect>;
}


function endedAt(home: string): Ended {
  const file = trajectoryFile(home);
  if (!file) throw new Error(`no rollout under ${home}`);
  const { events, bad, torn } = readTrajectory(file);
  expect(bad).toEqual([]);
  expect(torn).toBeNull();
  const f = events.findLast((e) => e.type === 'rollout.finished');
  const calls = events.flatMap((e) => (e.type === 'tool.call' && !e.repeated ? [[e.name, e.arguments]] : []));
  const repeated = events.filter((e) => e.type === 'tool.call' && e.repeated).length;
  return {
    workspace: treeFiles(path.join(path.dirname(file), 'workspace')),
    calls,
    repeated,
    score: f?.type === 'rollout.finished' ? (f.score?.value ?? null) : null,
    outcome: f?.type === 'rollout.finished' ? f.outcome : 'unfinished',
    reason: f?.type === 'rollout.finished' ? f.reason : '',
    events,
  };
}

/** Seeded kill cases: each aims at the nth event of a kind (counted in the uninterrupted run), plus 0-20 ms. */
const TARGETS: { label: string; match: (e: TrajectoryEvent) => boolean }[] = [
  { label: 'tool.call', match: (e) => e.type === 'tool.call' },
  { label: 'tool.result', match: (e) => e.type === 'tool.result' },
  { label: 'model.request', match: (e) => e.type === 'model.request' },
  { label: 'model.response', match: (e) => e.type === 'model.response' },
  { label: 'assistant', match: (e) => e.type === 'assistant' },
  { label: 'verify', match: (e) => e.type === 'phase' && e.phase === 'verify' && e.status === 'started' },
];

function killCases(baseline: Ended): Case[] {
  const rand = rng(20261203);
  return Array.from({ length: KILLS }, (_, i) => {
    const target = TARGETS[Math.floor(rand() * TARGETS.length)]!;
    const count = baseline.events.filter(target.match).length;
    const n = 1 + Math.floor(rand() * count);
    const delay = Math.floor(rand() * 21);
    return {
      name: `kill ${i + 1}: SIGKILL ${delay} ms after ${target.label} #${n} of ${count}`,
      async drive(ctx) {
        const child = ctx.spawnRun();
        const exited = new Promise((r) => child.once('exit', r));
        const kill = await killAfterEvent(child, ctx.home, nth(n, target.match), delay);
        await exited;
        expect(kill, 'the runner was still running at its aim').not.toBeNull();
        const now = ctx.ended();
        // Killed before it finished: resumable (unfinished); after: already like the uninterrupted run.
        return { resumes: now.outcome === 'unfinished' ? 1 : 0, check: (end) => expect(end.repeated).toBeLessThanOrEqual(1) };
      },
    };
  });
}

const outageWithin: Case = {
  name: 'the provider down (503) longer than every quick retry, back within the patience',
  async drive(ctx) {
    const child = ctx.spawnRun('--outage-patience', '30');
    const done = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const at = await waitForEvent(ctx.home, nth(3, (e) => e.type === 'tool.result'), child);
    expect(at).not.toBeNull();
    ctx.upstream.down('503', 3000);
    expect(await done).toBe(0);
    return {
      resumes: 0,
      check(end) {
        const waits = end.events.filter((e) => e.type === 'outage.wait');
        expect(waits.length).toBeGreaterThan(3); // past the quick retries
        expect(end.events.filter((e) => e.type === 'outage.end')).toEqual([expect.objectContaining({ recovered: true })]);
      },
    };
  },
};

const outagePast: Case = {
  name: 'the provider down (connection refused) past the patience: infra_error, then resumed once it is back',
  async drive(ctx) {
    const child = ctx.spawnRun();
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(await waitForEvent(ctx.home, nth(5, (e) => e.type === 'tool.result'), child)).not.toBeNull();
    ctx.upstream.down('refuse');
    expect(await done, out).toBe(1); // some rollouts ended infra_error
    expect(out).toMatch(/infra_error/);
    const stopped = ctx.ended();
    expect(stopped.outcome).toBe('infra_error');
    expect(stopped.reason).toMatch(/provider outage: .*past the outage patience of 2s.*outlast resume/);
    expect(out).toMatch(/1 rollout ended infra_error .*`outlast resume` continues it/);
    // The provider comes back. Told to leave infra errors alone, resume does; by default it continues the rollout from its log.
    await ctx.upstream.up();
    const left = await ctx.resume('--no-retry-infra');
    expect(left.code, left.stdout + left.stderr).toBe(0);
    expect(left.stdout).toMatch(/nothing to resume/);
    expect(ctx.ended().outcome).toBe('infra_error');
    return { resumes: 1, check: (end) => expect(end.events.filter((e) => e.type === 'rollout.finished').map((e) => (e as { outcome: string }).outcome)).toEqual(['infra_error', 'completed']) };
  },
};

/** The cases besides the seeded kills. */
const CASES: Case[] = [outageWithin, outagePast];

describe('chaos: every case ends like an uninterrupted run, or resumable with its reason and then so', () => {
  let model: ScriptedModel;
  let upstream: FlakyUpstream;
  let root: string;
  let task: string;
  let models: string;
  let baseline: Ended;
  const args = (): string[] => ['run', task, '--harness', 'outlast', '--model', 'stepper', '--models', models, '--outage-patience', '2', '--set', 'outage_backoff_ms=100', '--set', 'outage_backoff_max_ms=300'];

  const ctxFor = (home: string, argv: string[]): Ctx => ({
    home,
    upstream,
    spawnRun: (...extra) => cliSpawn([...argv, ...extra], { home }),
    run: () => cliAsync(argv, { home }),
    resume: (...extra) => cliAsync(['resume', ...extra], { home }),
    ended: () => endedAt(home),
  });

  beforeAll(async () => {
    model = await startScriptedModel({ script: makeStepPolicy({ steps: STEPS, bashEvery: 2 }), ttft_ms: 20 });
    upstream = await startFlakyUpstream(model.url);
    root = tmpdir('outlast-chaos-');
    models = path.join(root, 'models.toml');
    // The gateway's own retries fast (so an outage outlasts them in milliseconds), its timeouts short.
    fs.writeFileSync(
      models,
      `[gateway]\nmax_retries = 2\nbackoff_base_ms = 5\nbackoff_max_ms = 20\nconnect_timeout_ms = 2000\nfirst_byte_timeout_ms = 10000\n\n[[models]]\nname = "stepper"\nprotocol = "openai-chat"\nbase_url = "${upstream.url}/v1"\ncontext_window = 100000\n`,
    );
    const checks = Array.from({ length: STEPS }, (_, k) => `grep -qx 'step ${k}' steps/step-${String(k).padStart(4, '0')}.txt || ok=0`).join('\n');
    task = writeTree(path.join(root, 'chaos-task'), {
      'task.toml': '[task]\nname = "chaos"\n[limits]\nwall_time_sec = 300\n',
      'instruction.md': `Write steps/step-0000.txt … step-${String(STEPS - 1).padStart(4, '0')}.txt, then submit.\n`,
      'workspace/.keep': '',
      'tests/test.sh': `#!/bin/bash\nok=1\n${checks}\necho $ok > /logs/verifier/reward.txt\n`,
    });
    const home = path.join(root, 'baseline');
    const r = await ctxFor(home, args()).run();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    baseline = endedAt(home);
    expect(baseline).toMatchObject({ outcome: 'completed', score: 1, repeated: 0 });
    expect(baseline.calls).toHaveLength(STEPS + 1);
  }, 60_000);
  afterAll(async () => {
    await upstream?.close();
    await model?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('every case', { timeout: 240_000 }, async () => {
    const cases = [...killCases(baseline), ...CASES];
    const t0 = Date.now();
    const log: string[] = [];
    for (const [i, c] of cases.entries()) {
      const home = path.join(root, `case-${i}`);
      const ctx = ctxFor(home, args());
      const want = await c.drive(ctx);
      for (let k = 0; k < want.resumes; k++) {
        const r = await ctx.resume();
        expect(r.stderr, c.name).not.toMatch(/internal error/);
        expect(r.code, `${c.name}: ${r.stdout}${r.stderr}`).toBe(0);
      }
      const end = ctx.ended();
      expect(end.outcome, `${c.name}: ${end.reason}`).toBe('completed');
      expect(end.score, c.name).toBe(baseline.score);
      expect(end.calls, c.name).toEqual(baseline.calls);
      expect(end.workspace, c.name).toEqual(baseline.workspace);
      expect(end.events.map((e) => e.seq), `${c.name}: seqs contiguous`).toEqual(end.events.map((_, j) => j));
      want.check?.(end);
      log.push(`${c.name}: ${want.resumes ? `resumed ${want.resumes}×` : 'ended without a resume'}${end.repeated ? ', in-flight call repeated' : ''}`);
      fs.rmSync(home, { recursive: true, force: true });
    }
    process.stdout.write(`[chaos] ${cases.length} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s\n${log.map((l) => `  ${l}`).join('\n')}\n`);
  });
});
