// The same-protocol fast path (src/gateway/passthrough.ts): a request that extends the rollout's
// previous one is read from where that one ends, yet what goes upstream and what is refused are
// exactly what the exact path (the whole body parsed) gives: the same members in the same order,
// `model` replaced, include_usage asked for, extra_params and a lowered output limit spliced in;
// malformed new elements get the exact path's 400 (with their real index); duplicate or escaped
// keys cannot smuggle a second `model` or `stream` past the gateway.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanBody } from '../../src/core/json-prefix.js';
import type { ModelEndpoint, Protocol } from '../../src/core/types.js';
import { BodyPool, PooledSink } from '../../src/gateway/body-pool.js';
import { PrefixCache } from '../../src/gateway/prefix-cache.js';
import { CODECS } from '../../src/gateway/protocols/index.js';
import { RolloutState } from '../../src/gateway/rollouts.js';
import { buildUpstream } from '../../src/gateway/stages/build.js';
import { Endpoints, parseCall } from '../../src/gateway/stages/parse.js';
import { TrajectoryWriter } from '../../src/store/trajectory.js';
import { PROTOCOLS, type Setup, modelName, setup } from './helpers.js';

const listKey = (p: Protocol) => (p === 'openai-responses' ? 'input' : 'messages');

/** Turn i of a conversation in protocol p (an assistant tool call and its result). */
function turn(p: Protocol, i: number): unknown[] {
  const text = `result ${i}: "quoted" \\ é ✓ ${'x'.repeat(i % 7)}`;
  if (p === 'openai-chat')
    return [
      { role: 'assistant', content: null, tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'bash', arguments: `{"command":"echo ${i}"}` } }] },
      { role: 'tool', tool_call_id: `c${i}`, content: text },
    ];
  if (p === 'openai-responses')
    return [
      { type: 'function_call', call_id: `c${i}`, name: 'bash', arguments: `{"command":"echo ${i}"}` },
      { type: 'function_call_output', call_id: `c${i}`, output: text },
    ];
  return [
    { role: 'assistant', content: [{ type: 'tool_use', id: `c${i}`, name: 'bash', input: { command: `echo ${i}` } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: `c${i}`, content: text }] },
  ];
}

function conversation(p: Protocol, turns: number, extra: Record<string, unknown> = {}): Record<string, any> {
  const items: unknown[] = [{ role: 'user', content: 'do the task' }];
  for (let i = 0; i < turns; i++) items.push(...turn(p, i));
  const tools = p === 'openai-chat' ? [{ type: 'function', function: { name: 'bash', parameters: { type: 'object' } } }] : p === 'openai-responses' ? [{ type: 'function', name: 'bash', parameters: { type: 'object' } }] : [{ name: 'bash', input_schema: { type: 'object' } }];
  return { model: modelName(p), ...(p === 'anthropic' ? { max_tokens: 1000, system: 'be brief' } : {}), [listKey(p)]: items, tools, ...extra };
}

/** What the exact path sends upstream for a passthrough: the client's members, `model` replaced, Chat streams asking for usage. */
function expected(p: Protocol, body: Record<string, any>, upstream: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, any> = { ...body, model: upstream };
  if (p === 'openai-chat' && body.stream === true) out.stream_options = { ...(body.stream_options ?? {}), include_usage: true };
  return Object.assign(out, extra);
}

describe('passthrough fast path (stages)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-pt-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const eps: ModelEndpoint[] = PROTOCOLS.map((p) => ({ name: modelName(p), protocol: p, base_url: 'http://127.0.0.1:9/v1', upstream_model: 'real-model', extra_params: { top_k: 5 } }));
  const endpoints = new Endpoints({ models: eps } as any);
  const ro = new RolloutState('r', 't', new TrajectoryWriter(path.join(dir, 'log.jsonl'), { fsync: false }), {});

  for (const p of PROTOCOLS) {
    it(`${p}: reads only what is new, and builds what the exact path builds`, () => {
      const cache = new PrefixCache();
      for (let n = 1; n <= 30; n++) {
        const body = conversation(p, n, { stream: n % 2 === 0, ...(n % 3 === 0 ? { stream_options: { include_usage: false } } : {}) });
        const raw = Buffer.from(JSON.stringify(body));
        const call = parseCall(raw, CODECS[p], endpoints, cache, () => {});
        const exact = parseCall(raw, CODECS[p], endpoints, null, () => {});
        expect(call.scan).toBeDefined();
        expect(exact.scan).toBeUndefined();
        if (n > 1) {
          expect(call.scan!.fresh).toBe(2 * n - 1); // everything but the newest turn was read before
          expect(call.scan!.reused).toBeGreaterThan(raw.length - 400);
        }
        expect(call.counts).toEqual({ messages: 2 * n + 1, tools: 1 });
        expect(call.counts).toEqual(exact.counts);
        expect([call.ir.stream, call.ir.include_usage, call.ir.max_tokens]).toEqual([exact.ir.stream, exact.ir.include_usage, exact.ir.max_tokens]);
        for (const limit of [undefined, 77]) {
          const up = buildUpstream(call, ro, p, {}, {}, limit);
          const upExact = buildUpstream(exact, ro, p, {}, {}, limit);
          expect(Array.isArray(up.body)).toBe(true);
          const bytes = Buffer.concat(up.body as Buffer[]);
          expect(up.bytes).toBe(bytes.length);
          expect(up.headers['content-length']).toBe(String(bytes.length));
          const got = JSON.parse(bytes.toString());
          const want = JSON.parse(upExact.body as string);
          expect(got).toEqual(want);
          expect(Object.keys(got)).toEqual(Object.keys(want));
          const limitKey = p === 'openai-responses' ? 'max_output_tokens' : 'max_tokens';
          expect(want).toEqual(expected(p, body, 'real-model', { top_k: 5, ...(limit ? { [limitKey]: limit } : {}) }));
          expect(scanBody(bytes, [listKey(p)])).not.toBeNull(); // one object, no duplicate keys
        }
      }
    });
  }

  it('a duplicate or escaped key takes the exact path: one `model`, the last `stream`', () => {
    const cache = new PrefixCache();
    const base = JSON.stringify(conversation('openai-chat', 5));
    parseCall(Buffer.from(base), CODECS['openai-chat'], endpoints, cache, () => {});
    const dup = Buffer.from(base.slice(0, -1) + ',"mod\\u0065l":"up-anthropic","str\\u0065am":true}');
    const call = parseCall(dup, CODECS['openai-chat'], endpoints, cache, () => {});
    expect(call.scan).toBeUndefined(); // the duplicate model: the exact path, which keeps the last one
    expect(call.ep.protocol).toBe('anthropic');
    const esc = Buffer.from(base.slice(0, -1) + ',"str\\u0065am":true}');
    const c2 = parseCall(esc, CODECS['openai-chat'], endpoints, cache, () => {});
    expect(c2.scan).toBeDefined();
    expect(c2.ir.stream).toBe(true);
    const up = JSON.parse(Buffer.concat(buildUpstream(c2, ro, 'openai-chat', {}, {}).body as Buffer[]).toString());
    expect(up.stream).toBe(true);
    expect(up.stream_options).toEqual({ include_usage: true });
    // A conversation hidden under `__proto__` (no list of its own) is refused as the exact path refuses it.
    const proto = Buffer.from(`{"model":"${modelName('openai-chat')}","__proto__":{"messages":[{"role":"user","content":"hi"}]}}`);
    expect(() => parseCall(proto, CODECS['openai-chat'], endpoints, cache, () => {})).toThrow(/messages must be an array/);
  });
});

describe('body pool', () => {
  it('hands out only buffers nobody holds, and reuses them', () => {
    const pool = new BodyPool();
    const fill = (text: string) => {
      const sink = new PooledSink(pool);
      for (let i = 0; i < text.length; i += 1000) sink.push(Buffer.from(text.slice(i, i + 1000)));
      return { raw: sink.end(), sink };
    };
    const a = fill('a'.repeat(100_000));
    const b = fill('b'.repeat(100_000));
    expect(a.raw.buffer).not.toBe(b.raw.buffer); // a is still held by its call
    pool.hold(a.raw); // ...and by a cache
    a.sink.done(a.raw);
    b.sink.done(b.raw);
    const c = fill('c'.repeat(100_000));
    expect(c.raw.buffer).toBe(b.raw.buffer); // b was free: reused
    expect(a.raw.toString()).toBe('a'.repeat(100_000)); // a, held, untouched
    pool.release(a.raw);
    const d = fill('d'.repeat(300_000)); // bigger than any: grown into a new one
    expect(d.raw.toString()).toBe('d'.repeat(300_000));
    expect(pool.held(c.raw)).toBe(true);
    c.sink.done(c.raw);
    expect(pool.held(c.raw)).toBe(false);
  });
});

describe('passthrough fast path (over HTTP)', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup({ script: [{ text: 'ok' }] });
  });
  afterAll(async () => s?.close());

  const PATH: Record<Protocol, string> = { 'openai-chat': '/v1/chat/completions', 'openai-responses': '/v1/responses', anthropic: '/v1/messages' };
  const post = (p: Protocol, token: string, body: string) =>
    fetch(`${s.gw.url}${PATH[p]}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(p === 'anthropic' ? { 'anthropic-version': '2023-06-01' } : {}) }, body });

  for (const p of PROTOCOLS) {
    it(`${p}: a long conversation goes upstream as sent; a malformed new element is the exact 400; the rollout goes on`, async () => {
      const r = s.newRollout(`r-${p}`);
      for (let n = 1; n <= 12; n++) {
        const body = conversation(p, n, { stream: n % 2 === 1 });
        const before = s.sm.requests.length;
        const res = await post(p, r.token, JSON.stringify(body));
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain(n % 2 === 1 ? 'text/event-stream' : 'application/json');
        await res.text();
        expect(s.sm.requests.length).toBe(before + 1);
        expect(s.sm.requests.at(-1)!.body).toEqual(expected(p, body, 'qwen3.7-max'));
      }
      // A new element that breaks the codec's rules, after 12 turns of valid history.
      const bad = conversation(p, 12);
      bad[listKey(p)].push(p === 'openai-responses' ? { type: 'message', role: 'wizard', content: 'hi' } : { role: 'wizard', content: 'hi' });
      const sent = s.sm.requests.length;
      const res = await post(p, r.token, JSON.stringify(bad));
      expect(res.status).toBe(400);
      const msg = (await res.json()).error.message as string;
      const fresh = s.newRollout(`r-${p}-fresh`);
      const resFresh = await post(p, fresh.token, JSON.stringify(bad));
      expect((await resFresh.json()).error.message).toBe(msg);
      expect(msg).toMatch(p === 'anthropic' ? /messages\.25\.role/ : p === 'openai-chat' ? /messages\[25\]\.role/ : /input\[25\]\.role/);
      // Bytes that are not JSON after the valid prefix.
      const valid = JSON.stringify(conversation(p, 13));
      const broken = await post(p, r.token, valid.replace('],"tools"', ']],"tools"'));
      expect(broken.status).toBe(400);
      expect(s.sm.requests.length).toBe(sent);
      // ...and the conversation carries on.
      const ok = await post(p, r.token, valid);
      expect(ok.status).toBe(200);
      await ok.text();
    });
  }

  it('calls in flight together and interleaved conversations each go upstream as sent (reused buffers)', async () => {
    const slow = await setup({ script: [{ text: 'ok', ttft_ms: 150 }], scripted: { loop: true } });
    try {
      const r = slow.newRollout('r-concurrent');
      const send = (body: unknown) => fetch(`${slow.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${r.token}` }, body: JSON.stringify(body) }).then((x) => x.text());
      const bodies: Record<string, any>[] = [];
      for (let n = 1; n <= 6; n++) {
        // a long conversation, a side one, and the long one again, all in flight at once
        const batch = [conversation('openai-chat', 40 * n, { pad: 'p'.repeat(5000 * n) }), conversation('openai-chat', n, { side: true }), conversation('openai-chat', 40 * n + 1)];
        bodies.push(...batch);
        await Promise.all(batch.map(send));
      }
      const got = slow.sm.requests.map((q) => JSON.stringify(q.body));
      expect(got.sort()).toEqual(bodies.map((b) => JSON.stringify(expected('openai-chat', b, 'qwen3.7-max'))).sort());
    } finally {
      await slow.close();
    }
  });
});
