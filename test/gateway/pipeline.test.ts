// The pipeline's other promises: every request that gets past authentication is recorded (refused
// ones with their reason); an upstream that redirects or has no such path is a misconfiguration
// (infra, never the client's mistake); compressed upstream answers are decoded; a unix-socket
// listener serves an official SDK client; recorded bodies rebuild exactly what was sent.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecordedBody } from '../../src/gateway/bodies.js';
import type { Protocol } from '../../src/core/types.js';
import { PROTOCOLS, modelName, setup } from './helpers.js';
import { openai } from './clients.js';
import { type FakeSetup, type FakeUpstream, fakeUpstream, gatewayFor, jsonAnswer, post, protocolOfPath, requestBody, sseAnswer } from './fake-upstream.js';

let up: FakeUpstream;
let s: FakeSetup;
beforeAll(async () => {
  up = await fakeUpstream((req, res, body) => {
    const p = protocolOfPath(req.url);
    const mode = /"(redirect|notfound|gzip|br|deflate)"/.exec(body)?.[1];
    if (mode === 'redirect') {
      res.writeHead(301, { location: 'https://elsewhere.invalid/v1/chat/completions' });
      return res.end();
    }
    if (mode === 'notfound') {
      res.writeHead(404, { 'content-type': 'text/html' });
      return res.end('<html>Not Found</html>');
    }
    const stream = /"stream":\s*true/.test(body);
    const text = stream ? sseAnswer(p, ['compressed ', 'answer']).join('') : JSON.stringify(jsonAnswer(p, 'compressed answer'));
    const enc = mode ?? 'identity';
    const data = enc === 'gzip' ? zlib.gzipSync(text) : enc === 'br' ? zlib.brotliCompressSync(text) : enc === 'deflate' ? zlib.deflateSync(text) : Buffer.from(text);
    res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json', ...(enc === 'identity' ? {} : { 'content-encoding': enc }) });
    res.end(data);
  });
  s = await gatewayFor(up.url, { max_retries: 2 });
});
afterAll(async () => {
  await s?.close();
  await up?.close();
});

describe('every request is recorded', () => {
  it.each(PROTOCOLS)('%s: a request refused before forwarding leaves a model.request with its status and reason', async (client) => {
    const r = s.rollout(`refused-${client}`);
    expect((await post(s.gw, r.token, client, '{"model": ')).status).toBe(400);
    expect((await post(s.gw, r.token, client, requestBody(client, 'anthropic', {}).replace('fake-anthropic', 'no-such-model'))).status).toBe(404);
    const untranslatable = client === 'openai-chat' ? { n: 3 } : client === 'openai-responses' ? { previous_response_id: 'resp_1' } : { tools: [{ type: 'web_search_20250305', name: 'web_search' }] };
    expect((await post(s.gw, r.token, client, requestBody(client, client === 'anthropic' ? 'openai-chat' : 'anthropic', untranslatable))).status).toBe(400);
    const reqs = r.requests();
    expect(reqs.map((e) => e.refused?.status)).toEqual([400, 404, 400]);
    expect(reqs[0]!.refused!.message).toMatch(/not valid JSON/);
    expect(reqs[1]).toMatchObject({ model: 'no-such-model', refused: { kind: 'request', message: expect.stringMatching(/not configured/) } });
    expect(reqs[2]!.refused!.message).toMatch(/cannot translate/);
    expect(r.responses()).toHaveLength(0);
  });
});

describe('upstream statuses', () => {
  it.each(['redirect', 'notfound'])('an upstream %s is a misconfiguration: 502 to the client, recorded infra with a hint, not retried', async (mode) => {
    const r = s.rollout(`misconf-${mode}`);
    const res = await post(s.gw, r.token, 'openai-chat', requestBody('openai-chat', 'openai-chat', {}, mode));
    expect(res.status).toBe(502);
    expect(res.headers.get('x-outlast-failure')).toBe('misconfigured');
    expect(JSON.parse(res.text).error.message).toMatch(/check base_url/);
    const [e] = r.responses();
    expect(e).toMatchObject({ status: mode === 'redirect' ? 301 : 404, retries: 0, error: { infra: true, kind: 'misconfigured' } });
  });

  it.each(['gzip', 'br', 'deflate'])('%s-encoded answers are decoded, streamed and not', async (enc) => {
    for (const client of PROTOCOLS)
      for (const upstream of PROTOCOLS)
        for (const stream of [false, true]) {
          const r = s.rollout(`enc-${enc}-${client}-${upstream}-${stream}`);
          const res = await post(s.gw, r.token, client, requestBody(client, upstream, { stream }, enc));
          expect(res.status, `${client}→${upstream} stream=${stream}`).toBe(200);
          expect(res.text).toContain('compressed');
          expect(r.responses()[0]).toMatchObject({ status: 200, usage: { output: stream ? 2 : 3 } });
        }
  });
});

describe('unix socket listener', () => {
  it('an official SDK client reaches the gateway through a unix socket, metered like TCP', async () => {
    const sm = await setup({ script: [{ text: 'over the socket', usage: { input: 4, output: 3 } }] });
    const sock = path.join(sm.dir, 'gw.sock');
    const close = await sm.gw.listenUnix(sock);
    try {
      expect(fs.statSync(sock).isSocket()).toBe(true);
      const dispatcher = new Agent({ connect: { socketPath: sock } });
      const client = new OpenAI({ baseURL: 'http://gateway/v1', apiKey: sm.token, maxRetries: 0, fetch: ((u: string, init: object) => undiciFetch(u, { ...init, dispatcher })) as unknown as typeof fetch });
      const r = await client.chat.completions.create({ model: modelName('anthropic'), messages: [{ role: 'user', content: 'hi' }] });
      expect(r.choices[0]!.message.content).toBe('over the socket');
      expect(sm.responses().at(-1)).toMatchObject({ status: 200, usage: { input: 4, output: 3 } });
      await dispatcher.close();
    } finally {
      await close();
      await sm.close();
    }
    expect(fs.existsSync(sock)).toBe(false);
  });
});

describe('recorded bodies', () => {
  it('keep what each call sent and received, the repeated conversation prefix stored once', async () => {
    const sm = await setup({ script: [{ text: 'answer number one, with some words in it' }], settings: { record_bodies: true } });
    try {
      const client = openai(sm.gw.url, sm.token);
      const messages: { role: 'system' | 'user' | 'assistant'; content: string }[] = [{ role: 'system', content: 'S'.repeat(4000) }];
      const sent: unknown[] = [];
      for (let turn = 0; turn < 40; turn++) {
        messages.push({ role: 'user', content: `question ${turn} ` + 'q'.repeat(300) });
        const req = { model: modelName('openai-chat'), messages: [...messages] };
        sent.push(JSON.parse(JSON.stringify(req)));
        const r = await client.chat.completions.create(req);
        messages.push({ role: 'assistant', content: r.choices[0]!.message.content! });
      }
      const evs = sm.events();
      const reqRefs = evs.filter((e) => e.type === 'model.request').map((e) => (e as { body?: string }).body!);
      const resRefs = evs.filter((e) => e.type === 'model.response').map((e) => (e as { body?: string }).body!);
      expect(reqRefs).toHaveLength(40);
      const dir = path.join(path.dirname(sm.log.file), 'bodies');
      reqRefs.forEach((ref, i) => expect(readRecordedBody(dir, ref)).toEqual({ kind: 'request', body: sent[i] }));
      const res0 = readRecordedBody(dir, resRefs[0]!);
      expect(res0.kind === 'response' && JSON.parse(res0.text).choices[0].message.content).toBe('answer number one, with some words in it');
      const stored = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
      const naive = sent.reduce<number>((n, b) => n + JSON.stringify(b).length, 0);
      // 40 calls of a growing conversation: each message is stored once.
      expect(stored).toBeLessThan(naive / 5);
    } finally {
      await sm.close();
    }
  });
});
