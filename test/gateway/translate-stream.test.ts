// The shape of translated streams, as the official SDKs' stream helpers read them: a Responses
// client gets complete function-call events and items (name, call_id, arguments, status) from Chat
// and Anthropic upstreams; an Anthropic client gets the upstream's real token counts (input, cache,
// output, thinking) from Chat and Responses upstreams, in message_start where they are already known.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScriptedTurn } from '../../src/models/scripted/index.js';
import { KEY_ENV, type Setup, modelName, setup } from './helpers.js';
import { anthropicClient, openai } from './clients.js';

const TURN: ScriptedTurn = {
  reasoning: 'Two files to read.',
  text: 'Reading both.',
  tool_calls: [
    { name: 'read_file', arguments: { path: 'a.txt' } },
    { name: 'read_file', arguments: { path: 'b.txt' } },
  ],
  usage: { input: 120, cached: 40, output: 30, reasoning: 16 },
};

/** A Chat upstream that reports usage in every chunk (as vLLM does with continuous usage stats). */
function chatEveryChunk(res: http.ServerResponse): void {
  const usage = { prompt_tokens: 50, completion_tokens: 0, prompt_tokens_details: { cached_tokens: 20 } };
  const chunk = (delta: object, finish: string | null, n: number) => `data: ${JSON.stringify({ id: 'c1', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }], usage: { ...usage, completion_tokens: n } })}\n\n`;
  res.end(chunk({ role: 'assistant', content: 'Hel' }, null, 1) + chunk({ content: 'lo' }, null, 2) + chunk({}, 'stop', 2) + 'data: [DONE]\n\n');
}

/** An Anthropic upstream that reports thinking tokens (output_tokens_details) in message_delta. */
function anthropicThinking(res: http.ServerResponse): void {
  const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  res.end(
    ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [], usage: { input_tokens: 9, output_tokens: 1 } } }) +
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } }) +
      ev('content_block_stop', { index: 0 }) +
      ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 12, output_tokens_details: { thinking_tokens: 7 } } }) +
      ev('message_stop', {}),
  );
}

let s: Setup;
let fake: http.Server;
beforeAll(async () => {
  fake = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (req.url?.endsWith('/chat/completions')) chatEveryChunk(res);
    else anthropicThinking(res);
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1`;
  s = await setup({
    script: () => TURN,
    extra: [
      { name: 'chat-every-chunk', protocol: 'openai-chat', base_url: url, upstream_model: 'm', api_key_env: KEY_ENV },
      { name: 'anthropic-thinking', protocol: 'anthropic', base_url: url, upstream_model: 'm', api_key_env: KEY_ENV },
    ],
  });
});
afterAll(async () => {
  await s?.close();
  await new Promise((r) => fake?.close(r));
});

const schema = { type: 'object', properties: { path: { type: 'string' } } };

describe.each(['openai-chat', 'anthropic'] as const)('responses client, streamed from a %s upstream', (upstream) => {
  it('function-call events and items are complete (as the openai SDK types them)', async () => {
    const c = openai(s.gw.url, s.token);
    const stream = c.responses.stream({ model: modelName(upstream), input: 'read a and b', tools: [{ type: 'function', name: 'read_file', parameters: schema, strict: false }] });
    const events: any[] = [];
    stream.on('event', (e) => events.push(structuredClone(e)));
    const response = await stream.finalResponse();
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const completed = events.filter((e) => e.type === 'response.completed');
    expect(completed).toHaveLength(1);
    const wire: any[] = completed[0].response.output;
    const calls = wire.flatMap((o, i) => (o.type === 'function_call' ? [[i, o] as const] : []));
    expect(calls.map(([, o]) => JSON.parse(o.arguments))).toEqual([{ path: 'a.txt' }, { path: 'b.txt' }]);
    for (const [i, item] of calls) {
      expect(Object.keys(item).sort()).toEqual(['arguments', 'call_id', 'id', 'name', 'status', 'type']);
      expect(item).toMatchObject({ type: 'function_call', id: expect.any(String), call_id: expect.any(String), name: 'read_file', status: 'completed' });
      const added = events.find((e) => e.type === 'response.output_item.added' && e.output_index === i);
      expect(added.item).toEqual({ ...item, arguments: '', status: 'in_progress' });
      const done = events.filter((e) => e.type === 'response.function_call_arguments.done' && e.output_index === i);
      expect(done).toHaveLength(1);
      expect(done[0]).toMatchObject({ item_id: item.id, name: 'read_file', arguments: item.arguments });
    }
    // Every item's output_item.done is the item response.completed has at that index.
    const doneItems = events.filter((e) => e.type === 'response.output_item.done');
    expect(doneItems.map((e) => e.output_index)).toEqual(wire.map((_, i) => i));
    expect(doneItems.map((e) => e.item)).toEqual(wire);
    // And the SDK's accumulated response agrees.
    expect(response.output.map((o: any) => [o.type, o.id, o.call_id, o.arguments])).toEqual(wire.map((o) => [o.type, o.id, o.call_id, o.arguments]));
    expect(response.output_text).toBe('Reading both.');
  });
});

describe.each(['openai-chat', 'openai-responses'] as const)('anthropic client from a %s upstream', (upstream) => {
  const expected = { input_tokens: 80, cache_read_input_tokens: 40, cache_creation_input_tokens: 0, output_tokens: 30, output_tokens_details: { thinking_tokens: 16 } };
  it("finalMessage() reports the upstream's input, cache, output and thinking tokens", async () => {
    const stream = anthropicClient(s.gw.url, s.token).messages.stream({ model: modelName(upstream), max_tokens: 1000, messages: [{ role: 'user', content: 'read a and b' }] });
    const deltas: any[] = [];
    stream.on('streamEvent', (e) => e.type === 'message_delta' && deltas.push(e));
    const m = await stream.finalMessage();
    expect(m.usage).toMatchObject(expected);
    expect(deltas).toHaveLength(1);
    expect(deltas[0].usage).toMatchObject(expected);
  });
  it('a non-streamed answer carries the same usage', async () => {
    const m = await anthropicClient(s.gw.url, s.token).messages.create({ model: modelName(upstream), max_tokens: 1000, messages: [{ role: 'user', content: 'read a and b' }] });
    expect(m.usage).toMatchObject(expected);
  });
});

describe('usage known early or reported only by Anthropic', () => {
  it('message_start carries the input tokens a Chat upstream reported with its first chunk', async () => {
    const stream = anthropicClient(s.gw.url, s.token).messages.stream({ model: 'chat-every-chunk', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    let start: any;
    stream.on('streamEvent', (e) => {
      // A copy: the SDK's final message is this event's message object, updated in place.
      if (e.type === 'message_start') start = structuredClone(e.message.usage);
    });
    const m = await stream.finalMessage();
    expect(m.content).toMatchObject([{ type: 'text', text: 'Hello' }]);
    expect(start).toMatchObject({ input_tokens: 30, cache_read_input_tokens: 20 });
    expect(m.usage).toMatchObject({ input_tokens: 30, cache_read_input_tokens: 20, output_tokens: 2 });
  });
  it("an Anthropic upstream's thinking tokens reach an OpenAI client and the trajectory as reasoning tokens", async () => {
    const before = s.responses().length;
    const stream = await openai(s.gw.url, s.token).chat.completions.create({ model: 'anthropic-thinking', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    let usage: any;
    for await (const ch of stream) if (ch.usage) usage = ch.usage;
    expect(usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 12, completion_tokens_details: { reasoning_tokens: 7 } });
    await new Promise((r) => setTimeout(r, 50));
    expect(s.responses().slice(before).map((e) => e.usage)).toEqual([{ input: 9, cached: 0, cache_write: 0, output: 12, reasoning: 7 }]);
  });
});
