// Shared helpers for the scripted model server tests: real SDK clients over real HTTP.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach } from 'vitest';
import { startScriptedModel, type ScriptedModel, type ScriptedModelOptions } from '../../../src/models/scripted/index.js';

const started: ScriptedModel[] = [];

/** Start a server that is closed after the current test. */
export async function serve(opts: ScriptedModelOptions): Promise<ScriptedModel> {
  const m = await startScriptedModel(opts);
  started.push(m);
  return m;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.close()));
});

export function openai(m: ScriptedModel, extra: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI {
  return new OpenAI({ baseURL: `${m.url}/v1`, apiKey: 'test-key', maxRetries: 0, ...extra });
}

export function anthropic(m: ScriptedModel, extra: Partial<ConstructorParameters<typeof Anthropic>[0]> = {}): Anthropic {
  return new Anthropic({ baseURL: m.url, apiKey: 'test-key', maxRetries: 0, ...extra });
}

/** POST JSON with fetch; returns status, headers and the parsed (or raw) body. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json };
}

/** Raw SSE events of a streaming response, as `{event, data}` with data parsed. */
export async function sse(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      return { event, data: data === '[DONE]' ? data : JSON.parse(data) };
    });
}
