// Malformed and unacceptable requests: each kind gets the right 4xx in the protocol's error shape,
// nothing is forwarded, and the gateway keeps serving.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Protocol } from '../../src/core/types.js';
import { PROTOCOLS, type Setup, modelName, setup } from './helpers.js';

let s: Setup;
beforeAll(async () => {
  s = await setup({ script: [{ text: 'fine' }], settings: { max_body_bytes: 64 * 1024 } });
});
afterAll(async () => s?.close());

const PATH: Record<Protocol, string> = { 'openai-chat': '/v1/chat/completions', 'openai-responses': '/v1/responses', anthropic: '/v1/messages' };

/** A valid request for each client protocol, to be broken in one way at a time. */
function valid(p: Protocol, upstream: Protocol = p): Record<string, any> {
  const model = modelName(upstream);
  if (p === 'openai-chat') return { model, messages: [{ role: 'user', content: 'hi' }] };
  if (p === 'openai-responses') return { model, input: [{ role: 'user', content: 'hi' }] };
  return { model, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
}

const cross = (p: Protocol): Protocol => (p === 'anthropic' ? 'openai-chat' : 'anthropic');

interface Case {
  name: string;
  status: number;
  body?: (p: Protocol) => string | Buffer;
  init?: (p: Protocol) => RequestInit;
  match?: RegExp;
}

const J = (v: unknown) => JSON.stringify(v);
const messagesKey = (p: Protocol) => (p === 'openai-responses' ? 'input' : 'messages');

const CASES: Case[] = [
  { name: 'invalid JSON', status: 400, body: () => '{"model": "x", ', match: /not valid JSON/ },
  { name: 'empty body', status: 400, body: () => '', match: /not valid JSON/ },
  { name: 'JSON that is not an object', status: 400, body: () => '[1,2,3]', match: /JSON object/ },
  { name: 'missing model', status: 400, body: (p) => J({ ...valid(p), model: undefined }), match: /model/ },
  { name: 'model of the wrong type', status: 400, body: (p) => J({ ...valid(p), model: 42 }), match: /model/ },
  { name: 'unknown model', status: 404, body: (p) => J({ ...valid(p), model: 'no-such-model' }), match: /not configured/ },
  { name: 'missing messages/input', status: 400, body: (p) => J({ ...valid(p), [messagesKey(p)]: undefined }) },
  { name: 'messages/input of the wrong type', status: 400, body: (p) => J({ ...valid(p), [messagesKey(p)]: 17 }) },
  { name: 'a message with an unknown role', status: 400, body: (p) => J({ ...valid(p), [messagesKey(p)]: [{ role: 'wizard', content: 'hi' }] }), match: /role/ },
  { name: 'a message that is not an object', status: 400, body: (p) => J({ ...valid(p), [messagesKey(p)]: ['hi'] }) },
  { name: 'tools not an array', status: 400, body: (p) => J({ ...valid(p), tools: { name: 'x' } }), match: /tools/ },
  { name: 'a tool without a name', status: 400, body: (p) => J({ ...valid(p), tools: [p === 'openai-chat' ? { type: 'function', function: {} } : p === 'openai-responses' ? { type: 'function' } : { input_schema: {} }] }), match: /name/ },
  { name: 'stream not a boolean', status: 400, body: (p) => J({ ...valid(p), stream: 'yes' }), match: /stream/ },
  { name: 'temperature not a number', status: 400, body: (p) => J({ ...valid(p, cross(p)), temperature: 'hot' }), match: /temperature/ },
  { name: 'body over the size limit', status: 413, body: (p) => J({ ...valid(p), pad: 'x'.repeat(70 * 1024) }), match: /limit/ },
  {
    name: 'untranslatable feature for a cross-protocol upstream',
    status: 400,
    body: (p) =>
      J(
        p === 'openai-chat'
          ? { ...valid(p, 'anthropic'), n: 3 }
          : p === 'openai-responses'
            ? { ...valid(p, 'anthropic'), previous_response_id: 'resp_123' }
            : { ...valid(p, 'openai-chat'), tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
      ),
    match: /cannot translate/,
  },
  { name: 'wrong method', status: 405, init: () => ({ method: 'GET' }) },
  { name: 'no token', status: 401, init: (p) => ({ method: 'POST', body: J(valid(p)) }) },
];

function expectShape(p: Protocol, body: any, status: number): void {
  if (p === 'anthropic') {
    expect(body).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.any(String) } });
    const t = { 400: 'invalid_request_error', 401: 'authentication_error', 404: 'not_found_error', 405: 'invalid_request_error', 413: 'request_too_large' }[status];
    expect(body.error.type).toBe(t);
  } else {
    expect(body).toMatchObject({ error: { message: expect.any(String), type: expect.any(String) } });
    const t = { 400: 'invalid_request_error', 401: 'authentication_error', 404: 'not_found_error', 405: 'invalid_request_error', 413: 'invalid_request_error' }[status];
    expect(body.error.type).toBe(t);
  }
}

describe.each(PROTOCOLS)('%s', (p) => {
  it.each(CASES)('$name → $status', async (c) => {
    const before = s.sm.requests.length;
    const init: RequestInit = c.init ? c.init(p) : { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: c.body!(p) as string };
    const res = await fetch(s.gw.url + PATH[p], init);
    expect(res.status).toBe(c.status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = await res.json();
    expectShape(p, body, c.status);
    if (c.match) expect(p === 'anthropic' ? body.error.message : body.error.message).toMatch(c.match);
    expect(s.sm.requests.length).toBe(before);
  });
});

describe('robustness', () => {
  it('anthropic without max_tokens → 400; count_tokens works without it', async () => {
    const h = { authorization: `Bearer ${s.token}` };
    const r = await fetch(s.gw.url + '/v1/messages', { method: 'POST', headers: h, body: J({ model: modelName('anthropic'), messages: [{ role: 'user', content: 'hi' }] }) });
    expect(r.status).toBe(400);
    expect((await r.json()).error.message).toMatch(/max_tokens/);
    const c = await fetch(s.gw.url + '/v1/messages/count_tokens', { method: 'POST', headers: h, body: J({ model: modelName('openai-chat'), messages: [{ role: 'user', content: 'hello there, how are you?' }] }) });
    expect(c.status).toBe(200);
    expect((await c.json()).input_tokens).toBeGreaterThan(0);
  });

  it('unknown paths → 404 in the shape the client speaks', async () => {
    const a = await fetch(s.gw.url + '/v1/nope', { headers: { 'anthropic-version': '2023-06-01' } });
    expect(a.status).toBe(404);
    expect((await a.json()).type).toBe('error');
    const o = await fetch(s.gw.url + '/v2/chat');
    expect(o.status).toBe(404);
    expect((await o.json()).error.type).toBe('not_found_error');
  });

  it('garbage on the socket and aborted uploads do not crash the gateway', async () => {
    await new Promise<void>((resolve) => {
      const sock = net.connect(s.gw.port, '127.0.0.1', () => sock.end('\x00\x01 NOT HTTP AT ALL\r\n\r\n'));
      sock.on('close', () => resolve());
      sock.on('error', () => resolve());
      sock.resume();
    });
    await new Promise<void>((resolve) => {
      const sock = net.connect(s.gw.port, '127.0.0.1', () => {
        sock.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${s.token}\r\ncontent-length: 1000\r\n\r\n{"model":`);
        setTimeout(() => sock.destroy(), 20);
      });
      sock.on('close', () => resolve());
      sock.on('error', () => resolve());
    });
    const ok = await fetch(s.gw.url + '/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${s.token}` }, body: J(valid('openai-chat')) });
    expect(ok.status).toBe(200);
    expect((await ok.json()).choices[0].message.content).toBe('fine');
  });
});
