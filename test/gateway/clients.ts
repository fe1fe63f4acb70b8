// Real SDK clients (the official `openai` and `@anthropic-ai/sdk` packages) driving a two-turn
// tool-use conversation through the gateway: turn 1 asks, the model calls two tools in parallel;
// turn 2 sends both results back, the model answers.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { Protocol } from '../../src/core/types.js';

export interface ToolCallSeen {
  id: string;
  name: string;
  args: unknown;
}

export interface TwoTurns {
  text1: string;
  reasoning1: string;
  calls: ToolCallSeen[];
  text2: string;
  finish1: string | null;
  finish2: string | null;
}

export const SYSTEM = 'You are a careful agent.';
export const QUESTION = 'What is in a.txt?';
export const TOOL_RESULT = (name: string) => `result of ${name}`;

const schema = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] };

export async function twoTurns(client: Protocol, baseUrl: string, token: string, model: string, stream: boolean): Promise<TwoTurns> {
  if (client === 'openai-chat') return chat(baseUrl, token, model, stream);
  if (client === 'openai-responses') return responses(baseUrl, token, model, stream);
  return anthropic(baseUrl, token, model, stream);
}

export function openai(baseUrl: string, token: string): OpenAI {
  return new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: token, maxRetries: 0, timeout: 20_000 });
}

export function anthropicClient(baseUrl: string, token: string): Anthropic {
  return new Anthropic({ baseURL: baseUrl, apiKey: token, maxRetries: 0, timeout: 20_000 });
}

async function chat(baseUrl: string, token: string, model: string, stream: boolean): Promise<TwoTurns> {
  const c = openai(baseUrl, token);
  const tools = [
    { type: 'function' as const, function: { name: 'read_file', description: 'Read a file', parameters: schema } },
    { type: 'function' as const, function: { name: 'list_dir', description: 'List a directory', parameters: schema } },
  ];
  const messages: any[] = [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: QUESTION },
  ];
  const call = async () => {
    if (!stream) return c.chat.completions.create({ model, messages, tools });
    const s = c.chat.completions.stream({ model, messages, tools, stream_options: { include_usage: true } });
    let reasoning = '';
    s.on('chunk', (ch: any) => {
      const r = ch.choices?.[0]?.delta?.reasoning_content;
      if (typeof r === 'string') reasoning += r;
    });
    const done = await s.finalChatCompletion();
    (done.choices[0]!.message as any).reasoning_content = reasoning || undefined; // the SDK keeps only the last delta of unknown fields
    return done;
  };
  const r1 = await call();
  const m1 = r1.choices[0]!.message as any;
  const calls = (m1.tool_calls ?? []).map((tc: any) => ({ id: tc.id, name: tc.function.name, args: JSON.parse(tc.function.arguments) }));
  messages.push({ role: 'assistant', content: m1.content, reasoning_content: m1.reasoning_content, tool_calls: m1.tool_calls?.map((tc: any) => ({ id: tc.id, type: 'function', function: tc.function })) });
  for (const tc of calls) messages.push({ role: 'tool', tool_call_id: tc.id, content: TOOL_RESULT(tc.name) });
  const r2 = await call();
  return { text1: m1.content ?? '', reasoning1: m1.reasoning_content ?? '', calls, text2: r2.choices[0]!.message.content ?? '', finish1: r1.choices[0]!.finish_reason, finish2: r2.choices[0]!.finish_reason };
}

async function responses(baseUrl: string, token: string, model: string, stream: boolean): Promise<TwoTurns> {
  const c = openai(baseUrl, token);
  const tools = [
    { type: 'function' as const, name: 'read_file', description: 'Read a file', parameters: schema, strict: false },
    { type: 'function' as const, name: 'list_dir', description: 'List a directory', parameters: schema, strict: false },
  ];
  const input: any[] = [{ role: 'user', content: QUESTION }];
  const call = async () => {
    if (!stream) return c.responses.create({ model, instructions: SYSTEM, input, tools });
    return c.responses.stream({ model, instructions: SYSTEM, input, tools }).finalResponse();
  };
  const r1 = await call();
  const calls: ToolCallSeen[] = [];
  let reasoning = '';
  for (const it of r1.output as any[]) {
    if (it.type === 'function_call') calls.push({ id: it.call_id, name: it.name, args: JSON.parse(it.arguments) });
    if (it.type === 'reasoning') reasoning += (it.content ?? []).map((p: any) => p.text).join('');
    input.push(it);
  }
  for (const tc of calls) input.push({ type: 'function_call_output', call_id: tc.id, output: TOOL_RESULT(tc.name) });
  const r2 = await call();
  return { text1: r1.output_text, reasoning1: reasoning, calls, text2: r2.output_text, finish1: r1.status ?? null, finish2: r2.status ?? null };
}

async function anthropic(baseUrl: string, token: string, model: string, stream: boolean): Promise<TwoTurns> {
  const c = anthropicClient(baseUrl, token);
  const tools = [
    { name: 'read_file', description: 'Read a file', input_schema: schema as any },
    { name: 'list_dir', description: 'List a directory', input_schema: schema as any },
  ];
  const messages: any[] = [{ role: 'user', content: QUESTION }];
  const call = async () => {
    const params = { model, max_tokens: 4096, system: SYSTEM, messages, tools };
    if (!stream) return c.messages.create(params);
    return c.messages.stream(params).finalMessage();
  };
  const r1 = await call();
  const calls: ToolCallSeen[] = [];
  let text1 = '';
  let reasoning = '';
  for (const b of r1.content as any[]) {
    if (b.type === 'tool_use') calls.push({ id: b.id, name: b.name, args: b.input });
    if (b.type === 'text') text1 += b.text;
    if (b.type === 'thinking') reasoning += b.thinking;
  }
  messages.push({ role: 'assistant', content: r1.content });
  messages.push({ role: 'user', content: calls.map((tc) => ({ type: 'tool_result', tool_use_id: tc.id, content: TOOL_RESULT(tc.name) })) });
  const r2 = await call();
  const text2 = (r2.content as any[]).filter((b) => b.type === 'text').map((b) => b.text).join('');
  return { text1, reasoning1: reasoning, calls, text2, finish1: r1.stop_reason, finish2: r2.stop_reason };
}
