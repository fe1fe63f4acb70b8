// Metered TTFT and output tokens/s match what the scripted server was configured to produce, for
// every client × upstream pair (streaming), and usage equals what the upstream reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOLS, type Setup, modelName, setup, until } from './helpers.js';
import { anthropicClient, openai } from './clients.js';
import type { Protocol } from '../../src/core/types.js';
import type { ModelResponseEvent } from '../../src/core/events.js';
import { readTrajectory } from '../../src/store/trajectory.js';

const TTFT_MS = 200;
const TPS = 100;
const TEXT = 'abcd'.repeat(60); // 60 tokens at the scripted server's 4 characters per token
/** Tolerances: timers on a loaded 2-core machine fire late, never early. */
const TTFT_TOL_MS = 150;
const TPS_TOL = 0.2;

let s: Setup;
beforeAll(async () => {
  s = await setup({ script: [{ text: TEXT, usage: { input: 33, cached: 0 } }], scripted: { ttft_ms: TTFT_MS, tokens_per_sec: TPS } });
});
afterAll(async () => s?.close());

/** Streams one call; returns the text and the TTFT the client itself observed (request sent → first text delta). */
async function streamOnce(client: Protocol, upstream: Protocol, token: string): Promise<{ text: string; clientTtft: number }> {
  const model = modelName(upstream);
  let text = '';
  let first: number | null = null;
  const t0 = performance.now();
  const got = (d: string) => {
    if (d && first === null) first = performance.now();
    text += d;
  };
  if (client === 'openai-chat') {
    const st = await openai(s.gw.url, token).chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: `${client}->${upstream}` }] });
    for await (const ch of st) got(ch.choices[0]?.delta?.content ?? '');
  } else if (client === 'openai-responses') {
    const st = await openai(s.gw.url, token).responses.create({ model, stream: true, input: `${client}->${upstream}` });
    for await (const ev of st) if (ev.type === 'response.output_text.delta') got(ev.delta);
  } else {
    const st = await anthropicClient(s.gw.url, token).messages.create({ model, max_tokens: 1000, stream: true, messages: [{ role: 'user', content: `${client}->${upstream}` }] });
    for await (const ev of st) if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') got(ev.delta.text);
  }
  return { text, clientTtft: (first ?? performance.now()) - t0 };
}

describe('metering', () => {
  // One retry: a load spike from other processes can delay the scripted server's own timers.
  it(`TTFT within +${TTFT_TOL_MS} ms of ${TTFT_MS} ms and output tokens/s within ±${TPS_TOL * 100}% of ${TPS}, for all 9 pairs`, { retry: 1 }, async () => {
    const pairs = PROTOCOLS.flatMap((c) => PROTOCOLS.map((u) => [c, u] as const));
    // A rollout of its own per attempt; three pairs at a time, to keep the test's own load low.
    const ro = s.newRollout(`r-meter-${Date.now()}`);
    const responses = () => readTrajectory(ro.file).events.filter((e): e is ModelResponseEvent => e.type === 'model.response');
    const results: { text: string; clientTtft: number }[] = [];
    for (let i = 0; i < pairs.length; i += 3) {
      const before = responses().length;
      results.push(...(await Promise.all(pairs.slice(i, i + 3).map(([c, u]) => streamOnce(c, u, ro.token)))));
      await until(() => responses().length >= before + 3);
    }
    expect(results.every((r) => r.text === TEXT)).toBe(true);
    const evs = responses();
    expect(evs).toHaveLength(9);
    const maxClient = Math.max(...results.map((r) => r.clientTtft));
    console.log('metered (ttft_ms, output_tps):', evs.map((e) => `${e.ttft_ms?.toFixed(1)}/${e.output_tps?.toFixed(1)}`).join(' '));
    for (const e of evs) {
      expect(e.status).toBe(200);
      expect(e.usage_estimated).toBe(false);
      expect(e.usage.output).toBe(60);
      expect(e.usage.input).toBe(33);
      // Never early; late by at most the tolerance (timers on a loaded machine fire late).
      expect(e.ttft_ms!).toBeGreaterThanOrEqual(TTFT_MS - 2);
      expect(e.ttft_ms!).toBeLessThanOrEqual(TTFT_MS + TTFT_TOL_MS);
      expect(e.output_tps!).toBeGreaterThanOrEqual(TPS * (1 - TPS_TOL));
      expect(e.output_tps!).toBeLessThanOrEqual(TPS * (1 + TPS_TOL));
      expect(e.duration_ms).toBeGreaterThanOrEqual(TTFT_MS + 590);
    }
    // Streamed, not buffered: every client had its first delta long before any stream ended (each
    // stream runs 600 ms after its first token).
    expect(maxClient).toBeLessThan(Math.min(...evs.map((e) => e.duration_ms)) - 200);
    // The gateway sees the first delta before its client does.
    expect(Math.max(...evs.map((e) => e.ttft_ms!))).toBeLessThanOrEqual(maxClient + 5);
  });

  it('an upstream that reports no usage: the gateway estimates it and says so', async () => {
    // A raw SSE upstream with no usage at all, behind an openai-chat endpoint.
    const http = await import('node:http');
    const srv = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { role: 'assistant', content: 'twelve chars' } }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ id: 'x', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as import('node:net').AddressInfo).port;
    const { startGateway } = await import('../../src/gateway/index.js');
    const { DEFAULT_GATEWAY_SETTINGS } = await import('../../src/models/config.js');
    const gw = await startGateway({ models: { models: [{ name: 'nousage', protocol: 'openai-chat', base_url: `http://127.0.0.1:${port}/v1`, upstream_model: 'unknown-model' }], gateway: DEFAULT_GATEWAY_SETTINGS } });
    const r = s.newRollout('r-nousage');
    const tok = gw.registerRollout({ rolloutId: 'x', log: r.log });
    try {
      const st = await anthropicClient(gw.url, tok).messages.create({ model: 'nousage', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] });
      for await (const _ of st) void _;
    } finally {
      await gw.close();
      srv.close();
    }
    const { readTrajectory } = await import('../../src/store/trajectory.js');
    const ev = readTrajectory(r.file).events.find((e) => e.type === 'model.response') as any;
    expect(ev.usage_estimated).toBe(true);
    expect(ev.usage.output).toBe(3);
    expect(ev.usage.input).toBeGreaterThan(0);
    expect(ev.price_table).toMatch(/:unpriced$/);
    expect(ev.cost_usd).toBe(0);
  });
});
