// Stop rules of the outlast harness, each a distinct outcome: submit → completed, idle replies →
// gave_up after exactly `idle_rounds`, and every limit (wall, working, turns, tokens, cost) →
// budget_exhausted with a clean wind-down and the workspace still graded by the runner.
import { afterAll, describe, expect, it } from 'vitest';
import type { ScriptedTurn } from '../../src/models/scripted/index.js';
import { NUDGE } from '../../src/harnesses/outlast/index.js';
// @ts-expect-error: plain JS fixture
import { makeStepPolicy } from './fixtures/step-policy.mjs';
import { cleanup, ofType, runDirect, runViaRunner, startEnv, stepTask } from './helpers.js';

afterAll(cleanup);

const write = (k: number): ScriptedTurn => ({ tool_calls: [{ name: 'write_file', arguments: { path: `steps/step-${String(k).padStart(4, '0')}.txt`, content: `step ${k}\n` } }] });
const idle = (i: number): ScriptedTurn => ({ text: `Thinking about it (${i}).` });
const submit: ScriptedTurn = { tool_calls: [{ name: 'submit', arguments: { summary: 'done' } }] };

/** Nudges in the conversation of the scripted model's last request (any protocol). */
function nudgesSeen(body: any): number {
  return JSON.stringify(body).split(NUDGE.slice(0, 30)).length - 1;
}

describe('idle replies', () => {
  it('gives up after exactly idle_rounds consecutive replies without a tool call', async () => {
    const env = await startEnv({ script: [write(0), idle(1), write(1), idle(1), idle(2), idle(3), idle(4), idle(5), write(2)] });
    const task = await stepTask();
    const r = await runDirect(env, task, { settings: { idle_rounds: 5 } });
    await env.close();
    expect(r.result.outcome).toBe('gave_up');
    expect(r.result.reason).toMatch(/5 consecutive replies without a tool call/);
    // 8 replies: the 5th idle one in a row ends it; the 3rd write is never asked for
    expect(env.sm.turnsServed).toBe(8);
    expect(r.result).toMatchObject({ turns: 8, tool_calls: 2 });
    // the model saw a nudge after each idle reply but the last: 1 (the lone idle) + 4
    expect(nudgesSeen(env.sm.requests.at(-1)!.body)).toBe(5);
    const note = ofType(r.events, 'note').at(-1)!;
    expect(note.message).toMatch(/gave_up .*5 consecutive/);
  });

  it('a script that resumes tool use after 4 idle rounds continues', async () => {
    const env = await startEnv({ script: [idle(1), idle(2), idle(3), idle(4), write(0), idle(5), write(1), submit] });
    const task = await stepTask();
    const r = await runDirect(env, task, { settings: { idle_rounds: 5 } });
    await env.close();
    expect(r.result).toMatchObject({ outcome: 'completed', turns: 8, tool_calls: 3 });
    expect(nudgesSeen(env.sm.requests.at(-1)!.body)).toBe(5);
  });

  it('idle_rounds is a setting', async () => {
    const env = await startEnv({ script: [idle(1), idle(2), write(0)] });
    const r = await runDirect(env, await stepTask(), { settings: { idle_rounds: 2 } });
    await env.close();
    expect(r.result.outcome).toBe('gave_up');
    expect(env.sm.turnsServed).toBe(2);
  });
});

describe('limits end the rollout as budget_exhausted, and the runner still grades the workspace', () => {
  const cases: { name: string; limits: Record<string, number>; reason: RegExp; scripted?: Record<string, unknown> }[] = [
    { name: 'turns', limits: { turns: 5 }, reason: /turn limit reached \(5 of 5/ },
    { name: 'tokens', limits: { tokens: 4000 }, reason: /token/ },
    { name: 'cost', limits: { cost_usd: 3 }, reason: /cost/ },
    { name: 'wall time', limits: { wall_time_sec: 1.2 }, reason: /wall time/, scripted: { ttft_ms: 150 } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const env = await startEnv({ script: makeStepPolicy({ steps: 200, bashEvery: 0 }), scripted: c.scripted });
      const task = await stepTask({ steps: 200 });
      const { result, events } = await runViaRunner(env, task, { limits: c.limits });
      await env.close();
      expect(result.outcome).toBe('budget_exhausted');
      expect(result.reason).toMatch(c.reason);
      const notes = ofType(events, 'note').map((n) => n.message);
      expect(notes.some((m) => /budget exhausted: .*Time is up/.test(m))).toBe(true);
      // partial work graded: some but not all step files
      const v = ofType(events, 'verifier.result');
      expect(v).toHaveLength(1);
      expect(result.score!.value).toBeGreaterThan(0);
      expect(result.score!.value).toBeLessThan(1);
      const fin = ofType(events, 'rollout.finished')[0]!;
      expect(fin.outcome).toBe('budget_exhausted');
      if (c.name === 'turns') expect(fin.totals).toMatchObject({ turns: 5, tool_calls: 5 });
      // The gateway holds token and cost limits as caps: the last calls are shortened or refused, never overspent.
      if (c.name === 'tokens') expect(fin.totals.usage.input + fin.totals.usage.output).toBeLessThanOrEqual(4000);
      if (c.name === 'tokens') expect(fin.totals.usage.input + fin.totals.usage.output).toBeGreaterThan(2000);
      if (c.name === 'cost') expect(fin.totals.cost_usd).toBeLessThanOrEqual(3);
      if (c.name === 'cost') expect(fin.totals.cost_usd).toBeGreaterThan(1.5);
      if (c.name === 'wall time') expect(fin.totals.harness_ms).toBeLessThan(4000);
    });
  }

  it('working time excludes waits on upstream retries', async () => {
    // Turn 0 is rate-limited once with Retry-After 1 s; every turn takes ~120 ms.
    const script: ScriptedTurn[] = Array.from({ length: 60 }, (_, k) => ({ ...write(k), ttft_ms: 120, ...(k === 0 ? { fault: { kind: 'rate_limit' as const, retry_after_sec: 1, times: 1 } } : {}) }));
    const env = await startEnv({ script });
    const task = await stepTask({ steps: 60 });
    const { result, events } = await runViaRunner(env, task, { limits: { working_time_sec: 0.8, wall_time_sec: 60 } });
    await env.close();
    expect(result.outcome).toBe('budget_exhausted');
    expect(result.reason).toMatch(/working time limit reached/);
    const waits = ofType(events, "model.response").reduce((n, e) => n + e.retry_wait_ms, 0);
    expect(waits).toBeGreaterThanOrEqual(900);
    const fin = ofType(events, 'rollout.finished')[0]!;
    expect(fin.totals.wall_ms - fin.totals.working_ms).toBeGreaterThanOrEqual(900);
    // more than 0.8 s of wall time went by in the harness: the retry wait was not charged
    expect(fin.totals.harness_ms).toBeGreaterThan(1500);
    expect(result.score!.value).toBeGreaterThan(0);
  });

  it("the gateway's over-budget refusal ends the run as budget_exhausted, not infra_error", async () => {
    const env = await startEnv({ script: makeStepPolicy({ steps: 200, bashEvery: 0 }) });
    const task = await stepTask({ steps: 200 });
    // The harness is told of no token limit; only the gateway enforces one.
    const r = await runDirect(env, task, { gatewayBudget: { tokens: 3000 } });
    await env.close();
    expect(r.result.outcome).toBe('budget_exhausted');
    expect(r.result.reason).toMatch(/token budget exhausted/);
    // The refusal is in the log: the refused call's model.request, with why.
    expect(ofType(r.events, 'model.request').some((e) => e.refused?.kind === 'budget' && /token budget exhausted/.test(e.refused.message))).toBe(true);
  });
});

describe('model calls that break', () => {
  const cut = (k: number): ScriptedTurn => ({ ...write(k), fault: { kind: 'cut', after_chunks: 2 } });

  it('a stream cut after the first byte is tried again', async () => {
    const env = await startEnv({ script: [cut(0), write(0), submit] });
    const r = await runDirect(env, await stepTask());
    await env.close();
    expect(r.result).toMatchObject({ outcome: 'completed', turns: 2, tool_calls: 2 });
    const [wait] = ofType(r.events, 'outage.wait');
    expect(wait).toMatchObject({ attempt: 1, reason: expect.stringMatching(/stream/) });
    expect(ofType(r.events, 'outage.end')).toEqual([expect.objectContaining({ since: wait!.since, attempts: 1, recovered: true })]);
  });

  it('with no outage patience, ends as infra_error when the quick retries are spent', async () => {
    const env = await startEnv({ script: [cut(0), cut(0), cut(0), write(0), submit] });
    const r = await runDirect(env, await stepTask(), { limits: { outage_patience_sec: 0 }, settings: { outage_backoff_ms: 20 } });
    await env.close();
    expect(r.result.outcome).toBe('infra_error');
    expect(r.result.reason).toMatch(/provider outage: .*outage patience of 0s .*stream.*outlast resume/);
    expect(env.sm.turnsServed).toBe(3);
    expect(ofType(r.events, 'outage.wait').map((w) => w.attempt)).toEqual([1, 2]);
    expect(ofType(r.events, 'outage.end')).toEqual([expect.objectContaining({ attempts: 2, recovered: false })]);
  });

  it('a misconfigured endpoint (the upstream refuses the key) ends infra_error at once, without waiting out an outage', async () => {
    const env = await startEnv({ script: [write(0), submit], scripted: { api_key: 'the-key-the-endpoint-does-not-send' } });
    const t0 = Date.now();
    const r = await runDirect(env, await stepTask());
    await env.close();
    expect(r.result.outcome).toBe('infra_error');
    expect(r.result.reason).toMatch(/misconfigured .*api_key_env/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.events.some((e) => e.type === 'outage.wait')).toBe(false);
    expect(ofType(r.events, 'model.response').every((e) => e.error?.kind === 'misconfigured' && e.error.infra)).toBe(true);
  });

  it('an upstream that stalls (keep-alive comments, no content) is cut by the gateway: waited out as an outage, or infra_error past the patience; never budget_exhausted or timeout', async () => {
    const stall = { text: 'never finished', fault: { kind: 'stall' as const, after_chunks: 1 } };
    // Within the patience: the stalled calls are retried and the rollout completes.
    const env = await startEnv({ script: [stall, stall, write(0), submit], gateway: { progress_timeout_ms: 300 } });
    const r = await runViaRunner(env, await stepTask(), { limits: { wall_time_sec: 30 }, settings: { outage_backoff_ms: 20, outage_backoff_max_ms: 50 } });
    await env.close();
    expect(r.result.outcome).toBe('completed');
    const failed = ofType(r.events, 'model.response').filter((e) => e.error);
    expect(failed.length).toBe(2);
    expect(failed.every((e) => e.error!.kind === 'deadline' && e.error!.infra && /no content for 300 ms/.test(e.error!.message))).toBe(true);
    expect(r.events.some((e) => e.type === 'outage.end')).toBe(true);
    // With no patience: the quick retries run out and the rollout ends infra_error (resumable), fast.
    const env2 = await startEnv({ script: [stall, stall, stall, write(0), submit], gateway: { progress_timeout_ms: 300 } });
    const t0 = Date.now();
    const r2 = await runViaRunner(env2, await stepTask(), { limits: { wall_time_sec: 30, outage_patience_sec: 0 } });
    await env2.close();
    expect(r2.result.outcome).toBe('infra_error');
    expect(r2.result.reason).toMatch(/no content for 300 ms/);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});
