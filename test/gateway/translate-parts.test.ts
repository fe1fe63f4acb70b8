// Faithful translation of message content, through the real gateway with the official SDK clients,
// checked on the request body the scripted upstream received: separate text parts stay separate
// (or are joined with "\n" where the target takes only a string), a tool result's error flag is
// carried ("[tool error] " prefix where the target has no field) and read back, and images in tool
// results reach every upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Protocol } from '../../src/core/types.js';
import { type Setup, modelName, setup } from './helpers.js';
import { anthropicClient, openai } from './clients.js';

let s: Setup;
beforeAll(async () => {
  s = await setup({ script: () => ({ text: 'ok', usage: { input: 10, output: 1 } }) });
});
afterAll(async () => s?.close());

const IMAGE = 'iVBORw0KGgo=';
const tools = { anthropic: [{ name: 'f', input_schema: { type: 'object' as const } }], chat: [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object' } } }], responses: [{ type: 'function' as const, name: 'f', parameters: { type: 'object' }, strict: false }] };

/** One call from `client` with a conversation built by `conv`; returns the body the upstream received. */
async function send(client: Protocol, upstream: Protocol, conv: (client: Protocol) => any): Promise<any> {
  const before = s.sm.requests.length;
  const body = { model: modelName(upstream), ...conv(client) };
  if (client === 'anthropic') await anthropicClient(s.gw.url, s.token).messages.create({ max_tokens: 100, tools: tools.anthropic, ...body });
  else if (client === 'openai-chat') await openai(s.gw.url, s.token).chat.completions.create({ tools: tools.chat, ...body });
  else await openai(s.gw.url, s.token).responses.create({ tools: tools.responses, ...body });
  expect(s.sm.requests.length).toBe(before + 1);
  return s.sm.requests[before]!.body;
}

/** A conversation whose system prompt, user turn, assistant turn and tool result each have two text parts. */
function twoParts(client: Protocol): any {
  if (client === 'anthropic')
    return {
      system: [{ type: 'text', text: 'Sys A' }, { type: 'text', text: 'Sys B' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Line A' }, { type: 'text', text: 'Line B' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Said A' }, { type: 'text', text: 'Said B' }, { type: 'tool_use', id: 'call_1', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: 'Out A' }, { type: 'text', text: 'Out B' }] }, { type: 'text', text: 'Next' }] },
      ],
    };
  if (client === 'openai-chat')
    return {
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Sys A' }, { type: 'text', text: 'Sys B' }] },
        { role: 'user', content: [{ type: 'text', text: 'Line A' }, { type: 'text', text: 'Line B' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Said A' }, { type: 'text', text: 'Said B' }], tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'Out A' }, { type: 'text', text: 'Out B' }] },
        { role: 'user', content: 'Next' },
      ],
    };
  return {
    input: [
      { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'Sys A' }, { type: 'input_text', text: 'Sys B' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Line A' }, { type: 'input_text', text: 'Line B' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Said A', annotations: [] }, { type: 'output_text', text: 'Said B', annotations: [] }] },
      { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'Out A' }, { type: 'input_text', text: 'Out B' }] },
      { type: 'message', role: 'user', content: 'Next' },
    ],
  };
}

/** What each upstream must receive for `twoParts`: parts kept where the target takes parts, else "\n". */
function expectTwoParts(upstream: Protocol, b: any): void {
  if (upstream === 'openai-chat') {
    expect(b.messages).toEqual([
      { role: 'system', content: 'Sys A\nSys B' },
      { role: 'user', content: [{ type: 'text', text: 'Line A' }, { type: 'text', text: 'Line B' }] },
      { role: 'assistant', content: 'Said A\nSaid B', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'Out A\nOut B' },
      { role: 'user', content: 'Next' },
    ]);
  } else if (upstream === 'openai-responses') {
    expect(b.instructions).toBe('Sys A\nSys B');
    expect(b.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Line A' }, { type: 'input_text', text: 'Line B' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Said A' }, { type: 'output_text', text: 'Said B' }] },
      { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'Out A\nOut B' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Next' }] },
    ]);
  } else {
    expect(b.system).toEqual([{ type: 'text', text: 'Sys A' }, { type: 'text', text: 'Sys B' }]);
    expect(b.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Line A' }, { type: 'text', text: 'Line B' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Said A' }, { type: 'text', text: 'Said B' }, { type: 'tool_use', id: 'call_1', name: 'f', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: 'Out A' }, { type: 'text', text: 'Out B' }] }, { type: 'text', text: 'Next' }] },
    ]);
  }
}

const PROTOCOLS: Protocol[] = ['anthropic', 'openai-chat', 'openai-responses'];
const PAIRS = PROTOCOLS.flatMap((c) => PROTOCOLS.filter((u) => u !== c).map((u) => [c, u] as const));

describe.each(PAIRS)('client %s → upstream %s', (client, upstream) => {
  it('separate text parts are never glued together (system, user, assistant, tool result)', async () => {
    expectTwoParts(upstream, await send(client, upstream, twoParts));
  });

  it("a tool result's error flag is carried: is_error, or the \"[tool error] \" prefix", async () => {
    const conv = (c: Protocol): any => {
      if (c === 'anthropic')
        return {
          messages: [
            { role: 'user', content: 'go' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 'call_e', name: 'f', input: {} }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_e', content: 'no such file', is_error: true }] },
          ],
        };
      if (c === 'openai-chat')
        return {
          messages: [
            { role: 'user', content: 'go' },
            { role: 'assistant', content: null, tool_calls: [{ id: 'call_e', type: 'function', function: { name: 'f', arguments: '{}' } }] },
            { role: 'tool', tool_call_id: 'call_e', content: '[tool error] no such file' },
          ],
        };
      return { input: [{ role: 'user', content: 'go' }, { type: 'function_call', call_id: 'call_e', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'call_e', output: '[tool error] no such file' }] };
    };
    const b = await send(client, upstream, conv);
    if (upstream === 'anthropic') expect(b.messages[2].content).toEqual([{ type: 'tool_result', tool_use_id: 'call_e', content: 'no such file', is_error: true }]);
    else if (upstream === 'openai-chat') expect(b.messages[2]).toEqual({ role: 'tool', tool_call_id: 'call_e', content: '[tool error] no such file' });
    else expect(b.input.find((i: any) => i.type === 'function_call_output')).toEqual({ type: 'function_call_output', call_id: 'call_e', output: '[tool error] no such file' });
  });
});

describe('images inside tool results', () => {
  const withImage = (c: Protocol): any => {
    if (c === 'anthropic')
      return {
        messages: [
          { role: 'user', content: 'look' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'call_i', name: 'f', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_i', content: [{ type: 'text', text: 'the screenshot' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: IMAGE } }] }] },
        ],
      };
    return {
      input: [
        { role: 'user', content: 'look' },
        { type: 'function_call', call_id: 'call_i', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_i', output: [{ type: 'input_text', text: 'the screenshot' }, { type: 'input_image', image_url: `data:image/png;base64,${IMAGE}` }] },
      ],
    };
  };

  it('anthropic → responses: kept in function_call_output as input_text + input_image', async () => {
    const b = await send('anthropic', 'openai-responses', withImage);
    expect(b.input.find((i: any) => i.type === 'function_call_output').output).toEqual([
      { type: 'input_text', text: 'the screenshot' },
      { type: 'input_image', image_url: `data:image/png;base64,${IMAGE}`, detail: 'auto' },
    ]);
  });

  it('responses → anthropic: kept in tool_result as text + image blocks', async () => {
    const b = await send('openai-responses', 'anthropic', withImage);
    expect(b.messages[2].content).toEqual([
      { type: 'tool_result', tool_use_id: 'call_i', content: [{ type: 'text', text: 'the screenshot' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: IMAGE } }] },
    ]);
  });

  it.each(['anthropic', 'openai-responses'] as const)('%s → chat: the text stays in the tool message, the image follows in a user message', async (client) => {
    const b = await send(client, 'openai-chat', withImage);
    expect(b.messages.slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'call_i', content: 'the screenshot' },
      { role: 'user', content: [{ type: 'text', text: '[images from the result of tool call call_i]' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${IMAGE}` } }] },
    ]);
  });
});
