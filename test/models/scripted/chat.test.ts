// OpenAI Chat Completions through the official `openai` client.
import { describe, expect, it } from 'vitest';
import { openai, serve, sse } from './helpers.js';

describe('scripted model: OpenAI Chat Completions', () => {
  it('answers text and reasoning, non-streaming, with usage', async () => {
    const m = await serve({ script: [{ text: 'Hello there, world!', reasoning: 'think first' }] });
    const r = await openai(m).chat.completions.create({ model: 'qwen-test', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }] });
    expect(r.object).toBe('chat.completion');
    expect(r.model).toBe('qwen-test');
    const choice = r.choices[0]!;
    expect(choice.finish_reason).toBe('stop');
    expect(choice.message.content).toBe('Hello there, world!');
    expect((choice.message as any).reasoning_content).toBe('think first');
    // prompt "system: Be brief.\nuser: Say hello" = 34 chars = 9 tokens; reply 19 + 11 chars = 5 + 3 tokens
    expect(r.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 });
    expect(r.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
    expect(r.usage!.completion_tokens_details!.reasoning_tokens).toBe(3);
    expect(m.turnsServed).toBe(1);
    expect(m.requests[0]).toMatchObject({ protocol: 'openai-chat', path: '/v1/chat/completions' });
    expect(m.requests[0]!.headers.authorization).toBe('Bearer test-key');
  });

  it('streams text and reasoning deltas, usage only with include_usage', async () => {
    const m = await serve({ script: [{ text: 'Streaming is fun to watch.', reasoning: 'plan it' }], loop: true });
    const client = openai(m);
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let reasoning = '';
    let finish: string | null = null;
    let usage: any;
    let contentChunks = 0;
    for await (const c of stream) {
      if (c.usage) usage = c.usage;
      const ch = c.choices[0];
      if (!ch) continue;
      if (ch.delta.content) {
        text += ch.delta.content;
        contentChunks++;
      }
      reasoning += (ch.delta as any).reasoning_content ?? '';
      finish = ch.finish_reason ?? finish;
    }
    expect(text).toBe('Streaming is fun to watch.');
    expect(contentChunks).toBeGreaterThan(1);
    expect(reasoning).toBe('plan it');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ completion_tokens: 9, completion_tokens_details: { reasoning_tokens: 2 } });

    const raw = await sse(`${m.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'go' }], stream: true });
    expect(raw.at(-1)!.data).toBe('[DONE]');
    expect(raw.some((e) => typeof e.data === 'object' && e.data.usage)).toBe(false);
    expect(raw[0]!.data.choices[0].delta.role).toBe('assistant');
  });

  it('returns parallel tool calls, streaming and not, with generated and given ids', async () => {
    const turn = { text: 'Running both.', tool_calls: [{ name: 'bash', arguments: { cmd: 'ls -la /workspace' } }, { name: 'read_file', arguments: { path: 'notes.txt' }, id: 'my_id' }] };
    const m = await serve({ script: [turn, turn] });
    const client = openai(m);
    const tools = [{ type: 'function' as const, function: { name: 'bash', parameters: { type: 'object', properties: { cmd: { type: 'string' } } } } }];
    const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'do it' }], tools });
    expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    expect(r.choices[0]!.message.content).toBe('Running both.');
    expect(r.choices[0]!.message.tool_calls).toEqual([
      { id: 'call_0_0', type: 'function', function: { name: 'bash', arguments: '{"cmd":"ls -la /workspace"}' } },
      { id: 'my_id', type: 'function', function: { name: 'read_file', arguments: '{"path":"notes.txt"}' } },
    ]);

    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'do it' }], tools, stream: true });
    const calls: { id?: string; name: string; args: string; pieces: number }[] = [];
    let finish: string | null = null;
    for await (const c of stream) {
      const ch = c.choices[0]!;
      for (const d of ch.delta.tool_calls ?? []) {
        const slot = (calls[d.index] ??= { name: '', args: '', pieces: 0 });
        if (d.id) slot.id = d.id;
        if (d.function?.name) slot.name += d.function.name;
        if (d.function?.arguments) {
          slot.args += d.function.arguments;
          slot.pieces++;
        }
      }
      finish = ch.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(calls.map((c) => [c.id, c.name, JSON.parse(c.args)])).toEqual([
      ['call_1_0', 'bash', { cmd: 'ls -la /workspace' }],
      ['my_id', 'read_file', { path: 'notes.txt' }],
    ]);
    expect(calls[0]!.pieces).toBeGreaterThan(1); // arguments arrive in pieces
  });

  it('reports the longest previously seen prompt prefix as cached, unless cache is off', async () => {
    const long = 'x'.repeat(400);
    const m = await serve({ script: [{ text: 'a' }, { text: 'b' }] });
    const client = openai(m);
    const first = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: long }] });
    const second = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: long }, { role: 'assistant', content: 'a' }, { role: 'user', content: 'more' }],
    });
    expect(first.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
    const cached = second.usage!.prompt_tokens_details!.cached_tokens!;
    expect(cached).toBeGreaterThan(90);
    expect(cached).toBeLessThanOrEqual(second.usage!.prompt_tokens);
    expect(cached % 16).toBe(0);

    const off = await serve({ script: [{ text: 'a' }, { text: 'b' }], cache: false });
    const c2 = openai(off);
    await c2.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: long }] });
    const again = await c2.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: long }] });
    expect(again.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
  });

  it('lets a turn override the usage it reports', async () => {
    const m = await serve({ script: [{ text: 'hi', usage: { input: 1000, cached: 800, output: 50, reasoning: 20 } }] });
    const r = await openai(m).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(r.usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050, prompt_tokens_details: { cached_tokens: 800 }, completion_tokens_details: { reasoning_tokens: 20 } });
  });
});
