// Anthropic Messages through the official `@anthropic-ai/sdk` client.
import { describe, expect, it } from 'vitest';
import { anthropic, serve, sse } from './helpers.js';

describe('scripted model: Anthropic Messages', () => {
  it('answers text and thinking, non-streaming, with usage', async () => {
    const m = await serve({ script: [{ text: 'Hello from Claude-ish.', reasoning: 'let me think' }] });
    const r = await anthropic(m).messages.create({ model: 'claude-test', max_tokens: 1000, system: 'Be brief.', messages: [{ role: 'user', content: 'Say hello' }] });
    expect(r.type).toBe('message');
    expect(r.model).toBe('claude-test');
    expect(r.stop_reason).toBe('end_turn');
    expect(r.content[0]).toMatchObject({ type: 'thinking', thinking: 'let me think' });
    expect((r.content[0] as any).signature).toMatch(/^scripted-sig-/);
    expect(r.content[1]).toEqual({ type: 'text', text: 'Hello from Claude-ish.' });
    expect(r.usage).toEqual({ input_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 9 });
    const h = m.requests[0]!.headers;
    expect(h['x-api-key'] ?? h.authorization).toMatch(/test-key$/); // this SDK version sends `Authorization: Bearer`
    expect(h['anthropic-version']).toBeTruthy();
  });

  it('streams thinking, signature, text and the usage events', async () => {
    const m = await serve({ script: [{ text: 'Streamed answer text.', reasoning: 'deliberate' }] });
    const stream = anthropic(m).messages.stream({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'go' }] });
    const types: string[] = [];
    const deltas: string[] = [];
    stream.on('streamEvent', (e) => {
      types.push(e.type);
      if (e.type === 'content_block_delta') deltas.push(e.delta.type);
    });
    const msg = await stream.finalMessage();
    expect(msg.content).toEqual([
      { type: 'thinking', thinking: 'deliberate', signature: expect.stringMatching(/^scripted-sig-/) },
      { type: 'text', text: 'Streamed answer text.', citations: null },
    ].map((b) => (b.type === 'text' ? expect.objectContaining({ type: 'text', text: b.text }) : b)));
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(deltas).toContain('thinking_delta');
    expect(deltas).toContain('signature_delta');
    expect(deltas).toContain('text_delta');
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage.output_tokens).toBe(9);
  });

  it('returns parallel tool_use blocks, streaming and not', async () => {
    const turn = { text: 'Checking.', tool_calls: [{ name: 'bash', arguments: { cmd: 'pytest -q' } }, { name: 'grep', arguments: { pattern: 'TODO', paths: ['src', 'test'] } }] };
    const m = await serve({ script: [turn, turn] });
    const client = anthropic(m);
    const tools = [{ name: 'bash', input_schema: { type: 'object' as const, properties: { cmd: { type: 'string' } } } }];
    const r = await client.messages.create({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'run' }], tools });
    expect(r.stop_reason).toBe('tool_use');
    expect(r.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_0_0', name: 'bash', input: { cmd: 'pytest -q' } },
      { type: 'tool_use', id: 'toolu_0_1', name: 'grep', input: { pattern: 'TODO', paths: ['src', 'test'] } },
    ]);
    const stream = client.messages.stream({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'run' }], tools });
    let jsonDeltas = 0;
    stream.on('streamEvent', (e) => {
      if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta') jsonDeltas++;
    });
    const msg = await stream.finalMessage();
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content.filter((b) => b.type === 'tool_use').map((b: any) => [b.id, b.name, b.input])).toEqual([
      ['toolu_1_0', 'bash', { cmd: 'pytest -q' }],
      ['toolu_1_1', 'grep', { pattern: 'TODO', paths: ['src', 'test'] }],
    ]);
    expect(jsonDeltas).toBeGreaterThan(4);
  });

  it('reports cache reads and, with cache_control, cache writes', async () => {
    const system = [{ type: 'text' as const, text: 'You are careful. '.repeat(30), cache_control: { type: 'ephemeral' as const } }];
    const m = await serve({ script: [{ text: 'one' }, { text: 'two' }] });
    const client = anthropic(m);
    const a = await client.messages.create({ model: 'm', max_tokens: 10, system, messages: [{ role: 'user', content: 'q1' }] });
    const b = await client.messages.create({
      model: 'm',
      max_tokens: 10,
      system,
      messages: [{ role: 'user', content: 'q1' }, { role: 'assistant', content: 'one' }, { role: 'user', content: 'q2' }],
    });
    expect(a.usage.cache_read_input_tokens).toBe(0);
    expect(a.usage.cache_creation_input_tokens).toBeGreaterThan(100);
    expect(a.usage.input_tokens).toBe(0);
    expect(b.usage.cache_read_input_tokens).toBeGreaterThan(100);
    const total = b.usage.input_tokens + b.usage.cache_read_input_tokens! + b.usage.cache_creation_input_tokens!;
    const counted = await client.messages.countTokens({
      model: 'm',
      system,
      messages: [{ role: 'user', content: 'q1' }, { role: 'assistant', content: 'one' }, { role: 'user', content: 'q2' }],
    });
    expect(counted.input_tokens).toBe(total);
  });

  it('streams message_start before any content and ends with message_stop', async () => {
    const m = await serve({ script: [{ text: 'x' }] });
    const events = await sse(`${m.url}/v1/messages`, { model: 'm', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'hi' }] }, { 'anthropic-version': '2023-06-01' });
    expect(events.map((e) => e.event)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(events.every((e) => e.event === e.data.type)).toBe(true);
  });
});
