// API keys, bad requests and unknown endpoints, in each protocol's own error shape.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startScriptedModel } from '../../../src/models/scripted/index.js';
import { anthropic, openai, post, serve } from './helpers.js';

describe('scripted model: errors', () => {
  it('api_key: 401 in the protocol shape unless Bearer or x-api-key matches', async () => {
    const m = await serve({ script: [{ text: 'ok' }], api_key: 'sekret', loop: true });
    const e1 = await openai(m, { apiKey: 'wrong' }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(e1).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(e1.error).toEqual({ message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
    const e2 = await openai(m, { apiKey: 'wrong' }).responses.create({ model: 'm', input: 'x' }).catch((e) => e);
    expect(e2.status).toBe(401);
    const e3 = await anthropic(m, { apiKey: 'wrong' }).messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(e3).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(e3.error).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    const e4 = await openai(m, { apiKey: 'wrong' }).models.list().catch((e) => e);
    expect(e4.status).toBe(401);
    expect(m.turnsServed).toBe(0);

    expect((await openai(m, { apiKey: 'sekret' }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).choices[0]!.message.content).toBe('ok');
    const raw = await post(`${m.url}/v1/messages`, { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, { 'x-api-key': 'sekret' });
    expect(raw.status).toBe(200);
    expect(m.turnsServed).toBe(2);
  });

  it('bad requests: 400 in the protocol shape, and no turn is used', async () => {
    const m = await serve({ script: [{ text: 'ok' }] });
    const chat = `${m.url}/v1/chat/completions`;
    const resp = `${m.url}/v1/responses`;
    const msgs = `${m.url}/v1/messages`;
    const openaiCases: [string, unknown][] = [
      [chat, '{not json'],
      [chat, { messages: [{ role: 'user', content: 'x' }] }],
      [chat, { model: 'm' }],
      [chat, { model: 'm', messages: [] }],
      [chat, { model: 'm', messages: [{ content: 'no role' }] }],
      [chat, [1, 2]],
      [resp, { model: 'm' }],
      [resp, { input: 'x' }],
    ];
    for (const [url, body] of openaiCases) {
      const r = await post(url, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: null } });
    }
    const anthropicCases: unknown[] = [
      '{"model":',
      { messages: [], max_tokens: 5 },
      { model: 'm', max_tokens: 5 },
      { model: 'm', messages: [{ role: 'user', content: 'x' }] },
      { model: 'm', max_tokens: 5, messages: [{ role: 'tool', content: 'x' }] },
      { model: 'm', max_tokens: 'lots', messages: [] },
    ];
    for (const body of anthropicCases) {
      const r = await post(msgs, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.any(String) } });
    }
    const viaSdk = await anthropic(m).messages.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] } as any).catch((e) => e);
    expect(viaSdk).toBeInstanceOf(Anthropic.BadRequestError);
    expect(viaSdk.error.error.message).toBe('max_tokens: Field required');
    expect(m.turnsServed).toBe(0);
  });

  it('unknown endpoints and methods: 404/405 in a matching shape; GET /v1/models serves both SDKs', async () => {
    const m = await serve({ script: [{ text: 'ok' }] });
    const r1 = await post(`${m.url}/v1/embeddings`, { model: 'm', input: 'x' });
    expect(r1.status).toBe(404);
    expect(r1.body.error.type).toBe('invalid_request_error');
    const r2 = await post(`${m.url}/v1/complete`, {}, { 'anthropic-version': '2023-06-01' });
    expect(r2.status).toBe(404);
    expect(r2.body).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    const r3 = await fetch(`${m.url}/v1/chat/completions`);
    expect(r3.status).toBe(405);
    const list = await openai(m).models.list();
    expect(list.data.map((x) => x.id)).toEqual(['scripted-model']);
    const alist = await anthropic(m).models.list();
    expect(alist.data[0]).toMatchObject({ id: 'scripted-model', type: 'model' });
    const one = await openai(m).models.retrieve('qwen3.7-max');
    expect(one.id).toBe('qwen3.7-max');
  });

  it('a client that goes away mid-stream does not disturb the server', async () => {
    const m = await serve({ script: [{ text: 'x'.repeat(400) }, { text: 'still here' }], tokens_per_sec: 200 });
    const ac = new AbortController();
    const stream = await openai(m).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true }, { signal: ac.signal });
    let n = 0;
    await (async () => {
      for await (const _ of stream) if (++n === 3) ac.abort();
    })().catch(() => undefined); // the SDK ends the iteration (or throws) on abort
    expect(n).toBeLessThan(10); // of 100 content chunks
    const r = await openai(m).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(r.choices[0]!.message.content).toBe('still here');
  });

  it('a port in use is a one-line UserError', async () => {
    const m = await serve({ script: [{ text: 'x' }] });
    await expect(startScriptedModel({ script: [{ text: 'x' }], port: m.port })).rejects.toThrow(`cannot listen on 127.0.0.1:${m.port}: EADDRINUSE`);
  });
});
