// Responses `custom` (free-form) tools, e.g. Codex's apply_patch, used with a Chat or Anthropic
// upstream: offered as a function tool with one string parameter, answered as custom_tool_call items.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScriptedTurn } from '../../src/models/scripted/index.js';
import { type Setup, modelName, setup } from './helpers.js';
import { openai } from './clients.js';

const PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+hello "world"\n*** End Patch\n';
let s: Setup;
beforeAll(async () => {
  s = await setup({
    script: (req): ScriptedTurn => {
      const done = req.messages.some((m) => m.role === 'tool');
      return done ? { text: 'patched' } : { text: 'Applying.', tool_calls: [{ name: 'apply_patch', arguments: { input: PATCH } }] };
    },
  });
});
afterAll(async () => s?.close());

describe.each(['openai-chat', 'anthropic'] as const)('responses client, custom tool → %s upstream', (upstream) => {
  it.each([false, true])('stream=%s', async (stream) => {
    const c = openai(s.gw.url, s.token);
    const tools = [{ type: 'custom' as const, name: 'apply_patch', description: 'Apply a patch', format: { type: 'grammar' as const, syntax: 'lark' as const, definition: 'start: "*** Begin Patch" /(.|\\n)*/' } }];
    const input: any[] = [{ role: 'user', content: 'make hello.txt' }];
    const call = async () => (stream ? c.responses.stream({ model: modelName(upstream), input, tools }).finalResponse() : c.responses.create({ model: modelName(upstream), input, tools }));
    const r1 = await call();
    const item = r1.output.find((o) => o.type === 'custom_tool_call') as any;
    expect(item).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: PATCH });
    // The upstream saw a function tool with one string parameter, the grammar in its description.
    const sent = s.sm.requests[s.sm.requests.length - 1]!.body as any;
    const tool = upstream === 'anthropic' ? sent.tools[0] : sent.tools[0].function;
    const schema = upstream === 'anthropic' ? tool.input_schema : tool.parameters;
    expect(tool.name).toBe('apply_patch');
    expect(schema).toMatchObject({ type: 'object', required: ['input'], properties: { input: { type: 'string' } } });
    expect(schema.properties.input.description).toContain('*** Begin Patch');
    input.push(...r1.output, { type: 'custom_tool_call_output', call_id: item.call_id, output: 'Done!' });
    const r2 = await call();
    expect(r2.output_text).toBe('patched');
    const conv = s.sm.requests[s.sm.requests.length - 1]!.body as any;
    const flat = JSON.stringify(conv);
    expect(flat).toContain('Done!');
    // The call went back upstream as a function call / tool_use with the patch as its `input`.
    const back = upstream === 'anthropic'
      ? conv.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : [])).find((b: any) => b.type === 'tool_use').input
      : JSON.parse(conv.messages.find((m: any) => m.tool_calls).tool_calls[0].function.arguments);
    expect(back).toEqual({ input: PATCH });
  });
});
