// A long conversation costs the scripted model what is new in each request (src/models/scripted/
// body.ts and the normalisers' memo): what it records, what its policy sees and the usage it reports
// are what a server without memory reports for the same bodies, interleaved conversations and a
// changed history included; and busyMs counts its own time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedModel, type NormalizedMessage, type ScriptedModel } from '../../../src/models/scripted/index.js';

type P = 'chat' | 'anthropic';
const PATH: Record<P, string> = { chat: '/v1/chat/completions', anthropic: '/v1/messages' };

function convo(p: P, turns: number, tag: string): Record<string, unknown> {
  const messages: unknown[] = [{ role: 'user', content: `task ${tag}` }];
  for (let i = 0; i < turns; i++) {
    if (p === 'chat') messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'bash', arguments: `{"n":${i}}` } }] }, { role: 'tool', tool_call_id: `c${i}`, content: `out ${i} é ✓` });
    else messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: `c${i}`, name: 'bash', input: { n: i } }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: `c${i}`, content: `out ${i} é ✓` }] });
  }
  // Anthropic clients mark the newest block as a cache breakpoint: the last message changes every time.
  if (p === 'anthropic') (messages.at(-1) as any).content = [{ ...(messages.at(-1) as any).content.at(-1), cache_control: { type: 'ephemeral' } }];
  return { model: 'm', max_tokens: 100, messages, tools: [{ name: 'bash', input_schema: {} }] };
}

describe('scripted model: long conversations', () => {
  let warm: ScriptedModel;
  const seen: Record<string, NormalizedMessage[][]> = { warm: [], cold: [] };
  beforeAll(async () => {
    warm = await startScriptedModel({ script: ({ messages }) => (seen.warm!.push(messages), { text: 'ok' }), cache: false, keep_bodies: 1000 });
  });
  afterAll(async () => {
    await warm?.close();
  });

  const post = async (s: ScriptedModel, p: P, body: unknown) => {
    const res = await fetch(`${s.url}${PATH[p]}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return res.json() as Promise<any>;
  };

  it('records, shows and bills each request as a server without memory does', async () => {
    const bodies: [P, unknown][] = [];
    for (let n = 1; n <= 25; n++) bodies.push(['chat', convo('chat', n, 'a')], ['anthropic', convo('anthropic', n, 'b')], ['chat', convo('chat', Math.ceil(n / 2), 'c')]);
    const changed = convo('chat', 25, 'a');
    (changed.messages as any[])[3] = { role: 'tool', tool_call_id: 'c1', content: 'rewritten' };
    bodies.push(['chat', changed], ['chat', convo('chat', 26, 'a')]);
    const busy0 = warm.busyMs;
    for (const [p, b] of bodies) {
      const a = await post(warm, p, b);
      // A fresh server per request: nothing to remember.
      const fresh = await startScriptedModel({ script: ({ messages }) => (seen.cold!.push(messages), { text: 'ok' }), cache: false });
      const c = await post(fresh, p, b);
      await fresh.close();
      expect(a.usage).toEqual(c.usage);
      expect(p === 'chat' ? a.usage.prompt_tokens : a.usage.input_tokens + a.usage.cache_creation_input_tokens).toBeGreaterThan(5);
    }
    expect(warm.requests.map((r) => r.body)).toEqual(bodies.map(([, b]) => b));
    expect(seen.warm).toEqual(seen.cold);
    expect(warm.busyMs).toBeGreaterThan(busy0);
  });

  it('still refuses a malformed element appended to a conversation it has seen', async () => {
    const ok = convo('chat', 30, 'd');
    await post(warm, 'chat', ok);
    const bad = { ...ok, messages: [...(ok.messages as unknown[]), { content: 'no role' }] };
    const res = await fetch(`${warm.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(bad) });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain('messages[61]');
  });
});
