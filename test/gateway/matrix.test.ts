// Every client protocol × upstream protocol × (streaming, non-streaming), with the official SDKs as
// real clients, through the gateway, against the scripted model server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalizedMessage, ScriptedTurn } from '../../src/models/scripted/index.js';
import { thinkingSignature } from '../../src/models/scripted/anthropic.js';
import { costUsd } from '../../src/core/usage.js';
import { PRICE_TABLE, PRICE_TABLE_VERSION } from '../../src/models/pricing.js';
import type { ModelRequestEvent } from '../../src/core/events.js';
import { PROTOCOLS, type Setup, modelName, setup } from './helpers.js';
import { QUESTION, SYSTEM, TOOL_RESULT, twoTurns } from './clients.js';

const REASONING = 'The user wants a file. I should read it and list the directory.';
const TURN1: ScriptedTurn = {
  reasoning: REASONING,
  text: 'I will look.',
  tool_calls: [
    { name: 'read_file', arguments: { path: 'a.txt' } },
    { name: 'list_dir', arguments: { path: '.' } },
  ],
  usage: { input: 120, cached: 40, output: 30, reasoning: 16 },
};
const TURN2: ScriptedTurn = { text: 'All done.', usage: { input: 200, cached: 100, output: 5 } };

let s: Setup;
const seen: NormalizedMessage[][] = [];

beforeAll(async () => {
  s = await setup({
    script: (req) => {
      seen.push(req.messages);
      return req.messages.some((m) => m.role === 'tool') ? TURN2 : TURN1;
    },
  });
});
afterAll(async () => s?.close());

describe.each(PROTOCOLS)('client %s', (client) => {
  describe.each(PROTOCOLS)('→ upstream %s', (upstream) => {
    it.each([false, true])('stream=%s: tool use round trip', async (stream) => {
      const before = s.responses().length;
      const seenBefore = seen.length;
      const r = await twoTurns(client, s.gw.url, s.token, modelName(upstream), stream);
      expect(r.text1).toBe('I will look.');
      expect(r.calls.map((c) => c.name)).toEqual(['read_file', 'list_dir']);
      expect(r.calls.map((c) => c.args)).toEqual([{ path: 'a.txt' }, { path: '.' }]);
      expect(new Set(r.calls.map((c) => c.id)).size).toBe(2);
      expect(r.text2).toBe('All done.');
      expect(r.reasoning1).toBe(REASONING);
      if (client === 'anthropic') expect([r.finish1, r.finish2]).toEqual(['tool_use', 'end_turn']);
      if (client === 'openai-chat') expect([r.finish1, r.finish2]).toEqual(['tool_calls', 'stop']);
      if (client === 'openai-responses') expect([r.finish1, r.finish2]).toEqual(['completed', 'completed']);

      // What the upstream saw on turn 2: system prompt, question, the assistant's calls, both results.
      expect(seen.length).toBe(seenBefore + 2);
      const conv = seen[seen.length - 1]!;
      expect(conv.find((m) => m.role === 'system')?.text).toBe(SYSTEM);
      expect(conv.find((m) => m.role === 'user')?.text).toBe(QUESTION);
      const asst = conv.find((m) => m.role === 'assistant')!;
      expect(asst.tool_calls?.map((c) => c.name)).toEqual(['read_file', 'list_dir']);
      // Reasoning goes back upstream: as reasoning_content (chat, e.g. Qwen's preserve_thinking), as a
      // signed thinking block (Anthropic); a Responses upstream only takes its own reasoning items back.
      if (upstream !== 'openai-responses' || client === 'openai-responses') expect(asst.reasoning).toBe(REASONING);
      else expect(asst.reasoning ?? '').toBe('');
      const results = conv.filter((m) => m.role === 'tool');
      expect(results.map((m) => m.text)).toEqual([TOOL_RESULT('read_file'), TOOL_RESULT('list_dir')]);
      expect(results.map((m) => m.tool_call_id)).toEqual(r.calls.map((c) => c.id));
      if (upstream === 'anthropic') {
        // Thinking went back upstream with its signature (kept by the gateway for non-Anthropic clients).
        const last = s.sm.requests[s.sm.requests.length - 1]!.body as any;
        const thinking = last.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : [])).find((b: any) => b.type === 'thinking');
        expect(thinking).toEqual({ type: 'thinking', thinking: REASONING, signature: thinkingSignature(REASONING) });
      }

      // Metering: two calls recorded, usage and cost as the upstream reported them.
      const ev = s.responses().slice(before);
      expect(ev).toHaveLength(2);
      const price = PRICE_TABLE['qwen3.7-max']!.pricing;
      const u1 = { input: 120, cached: 40, cache_write: 0, output: 30, reasoning: upstream === 'anthropic' ? 0 : 16 };
      const u2 = { input: 200, cached: 100, cache_write: 0, output: 5, reasoning: 0 };
      expect(ev.map((e) => e.usage)).toEqual([u1, u2]);
      expect(ev.map((e) => e.usage_estimated)).toEqual([false, false]);
      expect(ev[0]!.cost_usd).toBeCloseTo(costUsd(u1, price), 12);
      expect(ev[1]!.cost_usd).toBeCloseTo(costUsd(u2, price), 12);
      expect(ev[0]!.cost_usd).toBeCloseTo((80 * 2.5 + 40 * 0.25 + 30 * 7.5) / 1e6, 12);
      for (const e of ev) {
        expect(e.status).toBe(200);
        expect(e.protocol).toBe(upstream);
        expect(e.model).toBe(modelName(upstream));
        expect(e.price_table).toBe(`${PRICE_TABLE_VERSION}:qwen3.7-max`);
        expect(e.retries).toBe(0);
        expect(e.error).toBeUndefined();
        if (stream) expect(e.ttft_ms).not.toBeNull();
        else expect(e.ttft_ms).toBeNull();
      }
      const reqs = s.events().filter((e): e is ModelRequestEvent => e.type === 'model.request').slice(-2);
      expect(reqs.map((e) => [e.client_protocol, e.protocol, e.stream, e.tools])).toEqual([
        [client, upstream, stream, 2],
        [client, upstream, stream, 2],
      ]);
    });
  });
});
