// Silent losses found in a review of the codecs, each fixed and kept here: a Chat stream's refusal
// text, an image's `detail`, DeepSeek's cache-hit count, Responses reasoning-summary parts, Chat
// `tool_choice` forms the IR cannot hold (passed through, refused across protocols), a Responses
// tool_choice naming a custom tool, Anthropic image
// sources only Anthropic reads (passed through), and Anthropic `mcp_servers` (refused across).
// Real gateway over HTTP, official SDK clients, the scripted upstream or a node:http fake one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_ENV, type Setup, modelName, setup, until } from './helpers.js';
import { anthropicClient, openai } from './clients.js';

const chunk = (delta: object, finish: string | null = null, usage?: object) => `data: ${JSON.stringify({ id: 'c1', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;
const rev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/** Fake upstreams, chosen by the upstream model name. */
function fakeUpstream(model: string, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  if (model === 'refuses')
    res.end(chunk({ role: 'assistant', content: null, refusal: "I can't " }) + chunk({ refusal: 'help with that.' }) + chunk({}, 'stop') + chunk({}, null, { prompt_tokens: 5, completion_tokens: 4 }) + 'data: [DONE]\n\n');
  else if (model === 'deepseek')
    res.end(chunk({ role: 'assistant', content: 'ok' }) + chunk({}, 'stop') + chunk({}, null, { prompt_tokens: 100, completion_tokens: 1, prompt_cache_hit_tokens: 64, prompt_cache_miss_tokens: 36 }) + 'data: [DONE]\n\n');
  else {
    // A Responses upstream whose reasoning summary comes in two parts.
    const resp = { id: 'resp_1', object: 'response', status: 'in_progress', model: 'm', output: [] };
    res.end(
      rev('response.created', { response: resp }) +
        rev('response.output_item.added', { output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } }) +
        rev('response.reasoning_summary_text.delta', { item_id: 'rs_1', output_index: 0, summary_index: 0, delta: '**Plan**' }) +
        rev('response.reasoning_summary_text.delta', { item_id: 'rs_1', output_index: 0, summary_index: 1, delta: '**Check**' }) +
        rev('response.output_item.added', { output_index: 1, item: { type: 'message', id: 'm_1', role: 'assistant', content: [] } }) +
        rev('response.output_text.delta', { item_id: 'm_1', output_index: 1, content_index: 0, delta: 'done' }) +
        rev('response.completed', { response: { ...resp, status: 'completed', usage: { input_tokens: 3, output_tokens: 2 } } }),
    );
  }
}

let s: Setup;
let fake: http.Server;
beforeAll(async () => {
  fake = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => fakeUpstream(String(JSON.parse(raw).model), res));
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1`;
  const ep = (name: string, protocol: 'openai-chat' | 'openai-responses') => ({ name, protocol, base_url: url, upstream_model: name, api_key_env: KEY_ENV });
  s = await setup({ script: () => ({ text: 'ok', usage: { input: 10, output: 1 } }), extra: [ep('refuses', 'openai-chat'), ep('deepseek', 'openai-chat'), ep('summary', 'openai-responses')] });
});
afterAll(async () => {
  await s?.close();
  await new Promise((r) => fake?.close(r));
});

const lastBody = () => s.sm.requests[s.sm.requests.length - 1]!.body as any;
const PNG = 'data:image/png;base64,iVBORw0KGgo=';

describe('answers', () => {
  it("a Chat stream's refusal deltas reach an Anthropic and a Responses client as text", async () => {
    const m = await anthropicClient(s.gw.url, s.token).messages.stream({ model: 'refuses', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
    expect(m.content).toMatchObject([{ type: 'text', text: "I can't help with that." }]);
    const r = await openai(s.gw.url, s.token).responses.stream({ model: 'refuses', input: 'x' }).finalResponse();
    expect(r.output_text).toBe("I can't help with that.");
  });

  it("DeepSeek's prompt_cache_hit_tokens count as cached input (metered and shown to the client)", async () => {
    const n = s.responses().length;
    const m = await anthropicClient(s.gw.url, s.token).messages.stream({ model: 'deepseek', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
    expect(m.usage).toMatchObject({ input_tokens: 36, cache_read_input_tokens: 64, output_tokens: 1 });
    await until(() => s.responses().length > n);
    expect(s.responses()[n]!.usage).toMatchObject({ input: 100, cached: 64, output: 1 });
  });

  it('reasoning summary parts stay apart ("\\n" between them) for a Chat client', async () => {
    const stream = await openai(s.gw.url, s.token).chat.completions.create({ model: 'summary', messages: [{ role: 'user', content: 'x' }], stream: true });
    let reasoning = '';
    for await (const ch of stream) reasoning += (ch.choices[0]?.delta as any)?.reasoning_content ?? '';
    expect(reasoning).toBe('**Plan**\n**Check**');
  });
});

describe('requests', () => {
  it("an image's detail is carried between Chat and Responses", async () => {
    await openai(s.gw.url, s.token).chat.completions.create({ model: modelName('openai-responses'), messages: [{ role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: PNG, detail: 'low' } }] }] });
    expect(lastBody().input[0].content[1]).toEqual({ type: 'input_image', image_url: PNG, detail: 'low' });
    await openai(s.gw.url, s.token).responses.create({ model: modelName('openai-chat'), input: [{ role: 'user', content: [{ type: 'input_text', text: 'see' }, { type: 'input_image', image_url: PNG, detail: 'high' }] }] });
    expect(lastBody().messages[0].content[1]).toEqual({ type: 'image_url', image_url: { url: PNG, detail: 'high' } });
  });

  it('a Chat tool_choice the IR cannot hold passes through to Chat and is refused, named, across protocols', async () => {
    const c = openai(s.gw.url, s.token);
    const tool_choice = { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'f' } }] } } as any;
    const req = (model: string) => c.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], tool_choice });
    await req(modelName('openai-chat'));
    expect(lastBody().tool_choice).toEqual(tool_choice);
    await expect(req(modelName('anthropic'))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('tool_choice of type "allowed_tools"') });
  });

  it('a Responses tool_choice forcing a custom tool forces its function tool upstream', async () => {
    const tools = [{ type: 'custom' as const, name: 'apply_patch', description: 'Apply a patch' }];
    await openai(s.gw.url, s.token).responses.create({ model: modelName('openai-chat'), input: 'patch it', tools, tool_choice: { type: 'custom', name: 'apply_patch' } });
    expect(lastBody().tool_choice).toEqual({ type: 'function', function: { name: 'apply_patch' } });
    await openai(s.gw.url, s.token).responses.create({ model: modelName('anthropic'), input: 'patch it', tools, tool_choice: { type: 'custom', name: 'apply_patch' } });
    expect(lastBody().tool_choice).toEqual({ type: 'tool', name: 'apply_patch' });
  });

  it('an Anthropic image source other than base64/url passes through to Anthropic and is refused across', async () => {
    const c = anthropicClient(s.gw.url, s.token);
    const messages = [{ role: 'user' as const, content: [{ type: 'image' as const, source: { type: 'file', file_id: 'file_1' } as any }, { type: 'text' as const, text: 'see' }] }];
    await c.messages.create({ model: modelName('anthropic'), max_tokens: 10, messages });
    expect(lastBody().messages[0].content[0]).toEqual({ type: 'image', source: { type: 'file', file_id: 'file_1' } });
    await expect(c.messages.create({ model: modelName('openai-chat'), max_tokens: 10, messages })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/image source of type \\?"file/) });
  });

  it('Anthropic mcp_servers (tools the upstream runs) are refused across protocols, not dropped', async () => {
    const c = anthropicClient(s.gw.url, s.token);
    const body = { max_tokens: 10, messages: [{ role: 'user' as const, content: 'x' }], mcp_servers: [{ type: 'url', url: 'https://example.invalid/mcp', name: 'm' }] } as any;
    await expect(c.messages.create({ model: modelName('openai-responses'), ...body })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('mcp_servers') });
  });
});
