// Token and cost budgets are caps under concurrency: many calls at once against a small budget
// spend at most the budget (each call reserves its input estimate and output limit before it is
// forwarded), and the calls that do not fit are refused before they reach the upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RolloutState } from '../../src/gateway/rollouts.js';
import { type Setup, modelName, setup } from './helpers.js';
import { openai } from './clients.js';

let s: Setup;
beforeAll(async () => {
  // Every answer bills 10 input + 8 output tokens, and arrives after 100 ms: the calls overlap.
  s = await setup({ script: [{ text: 'a short answer', usage: { input: 10, output: 8 } }], scripted: { ttft_ms: 100 } });
});
afterAll(async () => s?.close());

const chat = (token: string, max: number) =>
  openai(s.gw.url, token)
    .chat.completions.create({ model: modelName('openai-chat'), max_tokens: max, messages: [{ role: 'user', content: 'hi' }] })
    .then(() => 'ok' as const)
    .catch((e) => (e.status === 403 ? ('refused' as const) : e));

describe('budgets are caps under concurrency', () => {
  it('20 parallel calls against a 100-token budget spend at most 100 tokens', async () => {
    const r = s.newRollout('tok-cap', { tokens: 100 });
    const before = s.sm.requests.length;
    const out = await Promise.all(Array.from({ length: 20 }, () => chat(r.token, 8)));
    expect(out.every((o) => o === 'ok' || o === 'refused')).toBe(true);
    const spent = s.gw.spent(r.token)!;
    expect(spent.tokens).toBeLessThanOrEqual(100);
    expect(out.filter((o) => o === 'ok').length).toBeGreaterThan(0);
    expect(spent.tokens).toBe(18 * out.filter((o) => o === 'ok').length);
    // Refused calls never reached the upstream.
    expect(s.sm.requests.length - before).toBe(out.filter((o) => o === 'ok').length);
  });

  it('10 parallel calls against a cost budget spend at most the budget', async () => {
    // qwen3.7-max: $2.50 / $7.50 per million: one call costs (10*2.5 + 8*7.5)/1e6 = $0.000085.
    const budget = 0.0003;
    const r = s.newRollout('cost-cap', { cost_usd: budget });
    const out = await Promise.all(Array.from({ length: 10 }, () => chat(r.token, 8)));
    expect(out.every((o) => o === 'ok' || o === 'refused')).toBe(true);
    const spent = s.gw.spent(r.token)!;
    expect(spent.cost_usd).toBeLessThanOrEqual(budget);
    expect(out.filter((o) => o === 'ok').length).toBeGreaterThan(0);
  });

  it('reservations: held until released, output lowered to what is left, tolerance widens the cap', () => {
    const r = s.newRollout('unit', { tokens: 100 });
    const ro = new RolloutState('unit', 'tok', r.log, { tokens: 100 });
    const need = { input: 30, output: 50, inputCost: 0, outputCostPerToken: 0 };
    const a = ro.reserve(need, 0, 16);
    expect(a).toEqual({ held: { tokens: 80, cost_usd: 0 }, output: 50 });
    // 20 left after the first: the second's 30 input does not fit with 16 of output.
    expect(ro.reserve(need, 0, 16)).toMatch(/token budget exhausted \(0 of 100 tokens used, 80 held/);
    // With 50% tolerance the cap is 150: 150 - 80 - 30 = 40 of output is left.
    const b = ro.reserve(need, 0.5, 16);
    expect(b).toEqual({ held: { tokens: 70, cost_usd: 0 }, output: 40 });
    ro.release((a as { held: { tokens: number; cost_usd: number } }).held);
    expect(ro.reserved.tokens).toBe(70);
    expect(ro.inflight).toBe(1);
  });
});
