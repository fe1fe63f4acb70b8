// OpenAI Responses through the official `openai` client.
import { describe, expect, it } from 'vitest';
import { openai, serve } from './helpers.js';

describe('scripted model: OpenAI Responses', () => {
  it('answers text and reasoning, non-streaming, with usage', async () => {
    const m = await serve({ script: [{ text: 'Hello from responses.', reasoning: 'consider' }] });
    const r = await openai(m).responses.create({ model: 'gpt-test', instructions: 'Be brief.', input: 'Say hello' });
    expect(r.object).toBe('response');
    expect(r.status).toBe('completed');
    expect(r.model).toBe('gpt-test');
    expect(r.output_text).toBe('Hello from responses.');
    expect(r.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    const rs = r.output[0] as any;
    expect(rs.content[0]).toEqual({ type: 'reasoning_text', text: 'consider' });
    // "system: Be brief.\nuser: Say hello" = 9 tokens; reply 6 + 2 tokens
    expect(r.usage).toEqual({ input_tokens: 9, input_tokens_details: { cached_tokens: 0 }, output_tokens: 8, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: 17 });
    expect(m.requests[0]!.protocol).toBe('openai-responses');
  });

  it('streams the documented event sequence', async () => {
    const m = await serve({ script: [{ text: 'Streaming responses works.', reasoning: 'hmm, ok' }] });
    const stream = await openai(m).responses.create({ model: 'm', input: [{ role: 'user', content: 'go' }], stream: true });
    const types: string[] = [];
    let text = '';
    let reasoning = '';
    let final: any;
    const seqs: number[] = [];
    for await (const e of stream) {
      types.push(e.type);
      seqs.push(e.sequence_number);
      if (e.type === 'response.output_text.delta') text += e.delta;
      if (e.type === 'response.reasoning_text.delta') reasoning += e.delta;
      if (e.type === 'response.completed') final = e.response;
    }
    expect(text).toBe('Streaming responses works.');
    expect(reasoning).toBe('hmm, ok');
    expect(types.slice(0, 3)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added']);
    expect(types).toContain('response.output_text.done');
    expect(types.filter((t) => t === 'response.output_item.done')).toHaveLength(2);
    expect(types.at(-1)).toBe('response.completed');
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(final.usage).toMatchObject({ output_tokens: 9, output_tokens_details: { reasoning_tokens: 2 } });
    expect(final.output.map((o: any) => o.type)).toEqual(['reasoning', 'message']);
  });

  it('returns parallel function calls, streaming (stream helper) and not', async () => {
    const turn = { tool_calls: [{ name: 'bash', arguments: { cmd: 'make test' } }, { name: 'bash', arguments: { cmd: 'git status' } }] };
    const m = await serve({ script: [turn, turn] });
    const client = openai(m);
    const tools = [{ type: 'function' as const, name: 'bash', parameters: { type: 'object', properties: { cmd: { type: 'string' } } }, strict: false }];
    const r = await client.responses.create({ model: 'm', input: 'run', tools });
    expect(r.output).toEqual([
      { id: 'fc_0_0', type: 'function_call', status: 'completed', call_id: 'call_0_0', name: 'bash', arguments: '{"cmd":"make test"}' },
      { id: 'fc_0_1', type: 'function_call', status: 'completed', call_id: 'call_0_1', name: 'bash', arguments: '{"cmd":"git status"}' },
    ]);
    const stream = client.responses.stream({ model: 'm', input: 'run', tools });
    let argDeltas = 0;
    stream.on('response.function_call_arguments.delta', () => argDeltas++);
    const final = await stream.finalResponse();
    expect(final.output.map((o: any) => [o.call_id, o.name, JSON.parse(o.arguments)])).toEqual([
      ['call_1_0', 'bash', { cmd: 'make test' }],
      ['call_1_1', 'bash', { cmd: 'git status' }],
    ]);
    expect(argDeltas).toBeGreaterThan(4);
  });

  it('continues a conversation from previous_response_id', async () => {
    const seen: string[][] = [];
    const m = await serve({
      script: ({ messages }) => {
        seen.push(messages.map((x) => `${x.role}:${x.text}${x.tool_calls ? `+${x.tool_calls.length}calls` : ''}`));
        return seen.length === 1 ? { tool_calls: [{ name: 'bash', arguments: { cmd: 'ls' } }] } : { text: 'done' };
      },
    });
    const client = openai(m);
    const first = await client.responses.create({ model: 'm', input: 'list files' });
    const call = first.output[0] as any;
    const second = await client.responses.create({
      model: 'm',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'a.txt b.txt' }],
    });
    expect(second.output_text).toBe('done');
    expect(seen[1]).toEqual(['user:list files', 'assistant:+1calls', 'tool:a.txt b.txt']);
    await expect(client.responses.create({ model: 'm', previous_response_id: 'resp_nope', input: 'x' })).rejects.toMatchObject({ status: 400 });
  });
});
