// The upstream key never reaches the client, whatever a hostile or careless upstream does with it:
// echoed in an in-stream error event, in a 2xx body (JSON or streamed), in a header (Retry-After or
// any other), JSON-escaped (`\/`, `\uXXXX`), URL-encoded or base64. Every client × upstream pair,
// every shape; the response's status line, headers and body are checked, and the log too.
import fs from 'node:fs';
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Protocol } from '../../src/core/types.js';
import { Scrubber } from '../../src/gateway/secrets.js';
import { PROTOCOLS } from './helpers.js';
import { type FakeSetup, type FakeUpstream, CALL_PATH, fakeUpstream, gatewayFor, jsonAnswer, protocolOfPath, requestBody, sseAnswer } from './fake-upstream.js';

const KEY = 'sk-outlast/FAKE+KEY/7f3a9c1e5b2d4068';
const scrubber = new Scrubber([KEY]);
const ev = (d: unknown, name?: string) => (name ? `event: ${name}\n` : '') + `data: ${JSON.stringify(d)}\n\n`;

/** The key as the upstream saw it, in one of several shapes. */
function shapes(key: string): Record<string, string> {
  return {
    raw: key,
    slashes: key.replace(/\//g, '\\/'),
    unicode: key
      .split('')
      .map((c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
      .join(''),
    url: encodeURIComponent(key),
    base64: Buffer.from(`Bearer ${key}`).toString('base64'),
  };
}

function streamError(p: Protocol, message: string): string {
  if (p === 'anthropic') return ev({ type: 'error', error: { type: 'overloaded_error', message } }, 'error');
  if (p === 'openai-responses') return ev({ type: 'error', code: 'server_error', message, param: null, sequence_number: 3 }, 'error');
  return ev({ error: { message, type: 'server_error' } });
}

function hostile(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const p = protocolOfPath(req.url);
  const key = String(req.headers['x-api-key'] ?? String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
  const mode = /leak-(\w+)-(\w+)/.exec(body);
  const shape = shapes(key)[mode?.[2] ?? 'raw']!;
  const inJson = (s: string) => (mode?.[2] === 'slashes' || mode?.[2] === 'unicode' ? s : JSON.stringify(s).slice(1, -1));
  switch (mode?.[1]) {
    case 'streamerror': {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const events = sseAnswer(p, ['partial ']);
      // the start and the first content event, then an error that echoes the key
      res.write(events.slice(0, p === 'openai-chat' ? 1 : 3).join(''));
      const err = streamError(p, 'PLACEHOLDER');
      return void res.end(err.replace('PLACEHOLDER', inJson(`invalid key ${shape}`)));
    }
    case 'sse': {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-echo': key });
      return void res.end(sseAnswer(p, ['key: ', 'PLACEHOLDER', ' end']).join('').replace('PLACEHOLDER', inJson(shape)));
    }
    case 'json': {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': key });
      return void res.end(JSON.stringify(jsonAnswer(p, 'PLACEHOLDER')).replace('PLACEHOLDER', inJson(`your key is ${shape}`)));
    }
    case 'header': {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': key, 'x-echo': key, 'www-authenticate': `Bearer ${key}` });
      return void res.end(JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error' } }));
    }
    default:
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `bad request from ${shape}` } }));
  }
}

let up: FakeUpstream;
let s: FakeSetup;
beforeAll(async () => {
  up = await fakeUpstream(hostile);
  s = await gatewayFor(up.url, { max_retries: 0 }, { key: KEY });
});
afterAll(async () => {
  await s?.close();
  await up?.close();
});

async function call(token: string, client: Protocol, upstream: Protocol, text: string, stream: boolean): Promise<string> {
  const res = await fetch(s.gw.url + CALL_PATH[client], { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: requestBody(client, upstream, { stream }, text) });
  const head = [`${res.status}`, ...[...res.headers.entries()].map(([k, v]) => `${k}: ${v}`)].join('\n');
  return head + '\n\n' + (await res.text());
}

describe('no shape of the key reaches the client', () => {
  const modes = [
    { mode: 'streamerror', stream: true },
    { mode: 'sse', stream: true },
    { mode: 'json', stream: false },
    { mode: 'header', stream: false },
    { mode: 'plain', stream: false },
  ];
  it.each(PROTOCOLS)('%s client, every upstream protocol, every leak and shape', async (client) => {
    const r = s.rollout(`leaks-${client}`);
    let checked = 0;
    for (const upstream of PROTOCOLS)
      for (const { mode, stream } of modes)
        for (const shape of Object.keys(shapes(KEY))) {
          const whole = await call(r.token, client, upstream, `leak-${mode}-${shape}`, stream);
          expect(whole.includes(KEY), `${client}→${upstream} ${mode} ${shape}:\n${whole}`).toBe(false);
          expect(scrubber.leaks(whole), `${client}→${upstream} ${mode} ${shape}:\n${whole}`).toBe(false);
          checked++;
        }
    expect(checked).toBe(3 * modes.length * 5);
    const log = fs.readFileSync(r.file, 'utf8');
    expect(log.includes(KEY)).toBe(false);
    expect(scrubber.leaks(log)).toBe(false);
    // The calls were real: a 429 is relayed with a Retry-After only when it is a valid one.
    expect(r.responses().filter((e) => e.status === 429)).toHaveLength(3 * 5);
  });
});
