// Scripts: JSONL validation, JS policies, turn selection.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import { loadScript, startScriptedModel, type NormalizedMessage, type PolicyRequest } from '../../../src/models/scripted/index.js';
import { anthropic, openai, serve } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outlast-scripted-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

async function loadError(p: string): Promise<UserError> {
  const e = await loadScript(p).catch((err: unknown) => err);
  expect(e).toBeInstanceOf(UserError);
  expect((e as Error).message).not.toContain('\n');
  return e as UserError;
}

describe('scripted model: scripts', () => {
  it('loads a JSONL script (blank and comment lines skipped)', async () => {
    const p = await file('ok.jsonl', '# a comment\n{"text":"hi"}\n\n{"tool_calls":[{"name":"bash","arguments":{"cmd":"ls"}}],"fault":{"kind":"rate_limit","times":2}}\n');
    expect(await loadScript(p)).toEqual([{ text: 'hi' }, { tool_calls: [{ name: 'bash', arguments: { cmd: 'ls' } }], fault: { kind: 'rate_limit', times: 2 } }]);
  });

  it('rejects bad JSONL with one line naming file:line and the field', async () => {
    const bad = await file('bad.jsonl', '{"text":"ok"}\n{"text":"ok"}\n{"tool_calls":[{"name":"bash","arguments":"ls"}]}\n');
    expect((await loadError(bad)).message).toMatch(new RegExp(`^${bad}:3: field tool_calls\\[0\\]\\.arguments: .*found "ls"`));
    const notJson = await file('nj.jsonl', '{"text":"ok"}\n{text: nope}\n');
    expect((await loadError(notJson)).message).toMatch(new RegExp(`^${notJson}:2: not valid JSON`));
    const unknown = await file('uk.jsonl', '{"txt":"typo"}\n');
    expect((await loadError(unknown)).message).toBe(`${unknown}:1: unknown field "txt"`);
    const fault = await file('fault.jsonl', '{"text":"x","fault":{"kind":"explode"}}\n');
    expect((await loadError(fault)).message).toMatch(new RegExp(`^${fault}:1: field fault\\.kind: `));
    const status = await file('status.jsonl', '{"fault":{"kind":"server_error","status":404}}\n');
    expect((await loadError(status)).message).toMatch(new RegExp(`^${status}:1: field fault\\.status: .*found number 404`));
    expect((await loadError(await file('empty.jsonl', '\n\n'))).message).toMatch(/the script has no turns/);
    expect((await loadError(join(dir, 'missing.jsonl'))).message).toMatch(/missing\.jsonl: cannot read the script: ENOENT/);
    expect((await loadError(await file('x.txt', ''))).message).toMatch(/must be a \.jsonl file/);
    expect((await loadError(await file('nodefault.mjs', 'export const x = 1;\n'))).message).toMatch(/default export must be a policy function/);
  });

  it('a JS policy module sees the normalized conversation of every protocol', async () => {
    const p = await file(
      'policy.mjs',
      `export default function policy(req) {
        globalThis.__scriptedSeen = [...(globalThis.__scriptedSeen ?? []), req];
        const last = req.messages[req.messages.length - 1];
        return last.role === 'tool' ? { text: 'tool said: ' + last.text } : { tool_calls: [{ name: 'bash', arguments: { cmd: 'echo ' + req.turnIndex } }] };
      }\n`,
    );
    const policy = await loadScript(p);
    expect(typeof policy).toBe('function');
    const m = await serve({ script: policy });
    const seen = () => (globalThis as any).__scriptedSeen as PolicyRequest[];

    // OpenAI Chat: system, user, assistant tool call, tool result
    const oa = openai(m);
    const tools = [{ type: 'function' as const, function: { name: 'bash', description: 'run', parameters: { type: 'object' } } }];
    const c1 = await oa.chat.completions.create({ model: 'm', tools, messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'go' }] });
    const call = c1.choices[0]!.message.tool_calls![0]! as any;
    const c2 = await oa.chat.completions.create({
      model: 'm',
      tools,
      messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'go' }, c1.choices[0]!.message as any, { role: 'tool', tool_call_id: call.id, content: 'out0' }],
    });
    expect(c2.choices[0]!.message.content).toBe('tool said: out0');
    const expected: NormalizedMessage[] = [
      { role: 'system', text: 'sys' },
      { role: 'user', text: 'go' },
      { role: 'assistant', text: '', tool_calls: [{ id: 'call_0_0', name: 'bash', arguments: { cmd: 'echo 0' } }] },
      { role: 'tool', text: 'out0', tool_call_id: 'call_0_0' },
    ];
    expect(seen()[1]!.messages).toEqual(expected);
    expect(seen()[1]).toMatchObject({ protocol: 'openai-chat', turnIndex: 1, model: 'm', tools: [{ name: 'bash', description: 'run', parameters: { type: 'object' } }] });

    // Anthropic: the same conversation as content blocks
    const an = anthropic(m);
    const a1 = await an.messages.create({ model: 'm', max_tokens: 50, system: 'sys', messages: [{ role: 'user', content: 'go' }] });
    const use = a1.content[0] as any;
    await an.messages.create({
      model: 'm',
      max_tokens: 50,
      system: 'sys',
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 's' }, use] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: [{ type: 'text', text: 'out2' }], is_error: true }] },
      ],
    });
    expect(seen()[3]!.messages).toEqual([
      { role: 'system', text: 'sys' },
      { role: 'user', text: 'go' },
      { role: 'assistant', text: '', reasoning: 'hmm', tool_calls: [{ id: 'toolu_2_0', name: 'bash', arguments: { cmd: 'echo 2' } }] },
      { role: 'tool', text: 'out2', tool_call_id: 'toolu_2_0', is_error: true },
    ]);

    // Responses: instructions, input items, reasoning, function_call, function_call_output
    await oa.responses.create({
      model: 'm',
      instructions: 'sys',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'go' }] },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'plan' }] },
        { type: 'function_call', call_id: 'c9', name: 'bash', arguments: '{"cmd":"ls"}' },
        { type: 'function_call_output', call_id: 'c9', output: 'out4' },
      ],
    });
    expect(seen()[4]!.messages).toEqual([
      { role: 'system', text: 'sys' },
      { role: 'user', text: 'go' },
      { role: 'assistant', text: '', reasoning: 'plan', tool_calls: [{ id: 'c9', name: 'bash', arguments: { cmd: 'ls' } }] },
      { role: 'tool', text: 'out4', tool_call_id: 'c9' },
    ]);
    expect(seen().map((r) => r.turnIndex)).toEqual([0, 1, 2, 3, 4]);
    expect(m.turnsServed).toBe(5);
  });

  it('a policy that throws or returns a bad turn gets a 500 in the protocol shape', async () => {
    let n = 0;
    const m = await serve({
      script: () => {
        n++;
        if (n === 1) throw new Error('boom');
        return { text: 5 } as any;
      },
    });
    const e1 = await openai(m).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(e1.status).toBe(500);
    expect(e1.error.message).toMatch(/scripted policy failed: boom/);
    const e2 = await anthropic(m).messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(e2.status).toBe(500);
    expect(e2.error.error.message).toMatch(/policy turn 0: field text/);
    expect(m.turnsServed).toBe(0);
  });

  it('turns advance across protocols; exhausted scripts say so, looping ones repeat', async () => {
    const m = await serve({ script: [{ text: 'one' }, { text: 'two' }] });
    expect((await openai(m).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).choices[0]!.message.content).toBe('one');
    expect((await anthropic(m).messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).content).toEqual([{ type: 'text', text: 'two' }]);
    expect((await openai(m).responses.create({ model: 'm', input: 'x' })).output_text).toBe('script exhausted');
    const l = await serve({ script: [{ text: 'one' }, { text: 'two' }], loop: true });
    const texts: string[] = [];
    for (let i = 0; i < 5; i++) texts.push((await openai(l).responses.create({ model: 'm', input: 'x' })).output_text);
    expect(texts).toEqual(['one', 'two', 'one', 'two', 'one']);
  });

  it('an in-process array script is validated up front', async () => {
    await expect(startScriptedModel({ script: [{ text: 'ok' }, { txt: 'typo' } as any] })).rejects.toThrow('script turn 1: unknown field "txt"');
  });

  it('concurrent requests get consecutive turns', async () => {
    const m = await serve({ script: Array.from({ length: 20 }, (_, i) => ({ text: `t${i}` })) });
    const client = openai(m);
    const got = await Promise.all(Array.from({ length: 20 }, () => client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })));
    expect(got.map((r) => r.choices[0]!.message.content).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `t${i}`).sort());
  });
});
