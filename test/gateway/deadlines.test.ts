// Hard deadlines on upstream calls: an upstream that stalls with keep-alive comments, drips content
// forever, never finishes a non-streamed body, or asks to be retried later than the call may last,
// is cut off by the gateway's deadlines, told to the client in its protocol, and recorded as an
// infrastructure failure of kind `deadline`, never left hanging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Protocol } from '../../src/core/types.js';
import { PROTOCOLS } from './helpers.js';
import { type FakeSetup, type FakeUpstream, fakeUpstream, gatewayFor, post, protocolOfPath, requestBody, sseAnswer } from './fake-upstream.js';

let up: FakeUpstream;
let s: FakeSetup;
const timers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  up = await fakeUpstream((req, res, body) => {
    const mode = /"(stall|drip|hang-json|retry-later|flood-json|flood-sse)"/.exec(body)?.[1];
    if (mode === 'flood-json' || mode === 'flood-sse') {
      // An answer that never ends and never completes a line: 1 MiB writes as fast as the socket takes them.
      res.writeHead(200, { 'content-type': mode === 'flood-sse' ? 'text/event-stream' : 'application/json' });
      res.write(mode === 'flood-sse' ? 'data: "' : '{"text": "');
      const chunk = 'x'.repeat(1 << 20);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return;
    }
    const p = protocolOfPath(req.url);
    if (mode === 'retry-later') {
      res.writeHead(503, { 'retry-after': '30', 'content-type': 'application/json' });
      return res.end('{"error":{"message":"overloaded"}}');
    }
    if (mode === 'hang-json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id": "x", ');
      const t = setInterval(() => res.write(' '), 50);
      timers.add(t);
      res.on('close', () => clearInterval(t));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const events = sseAnswer(p, Array.from({ length: 10_000 }, (_, i) => `w${i} `));
    if (mode === 'stall') res.write(events[0]!); // the start event, then only comments
    let i = 1;
    const t = setInterval(() => {
      if (mode === 'stall') res.write(': keep-alive\n\n');
      else res.write(events[i++]!);
    }, 40);
    timers.add(t);
    res.on('close', () => clearInterval(t));
  });
  s = await gatewayFor(up.url, { call_timeout_ms: 1500, progress_timeout_ms: 400, idle_timeout_ms: 5000, max_retries: 3, max_retry_after_ms: 60_000 });
});
afterAll(async () => {
  for (const t of timers) clearInterval(t);
  await s?.close();
  await up?.close();
});

const cross = (p: Protocol): Protocol => (p === 'anthropic' ? 'openai-chat' : 'anthropic');

describe('size bounds', () => {
  it('a non-streamed answer that never ends is cut at 64 MiB: 502, infra', async () => {
    const r = s.rollout('flood-json');
    const res = await post(s.gw, r.token, 'openai-chat', requestBody('openai-chat', 'openai-chat', {}, 'flood-json'));
    expect(res.status).toBe(502);
    expect(r.responses()[0]).toMatchObject({ status: 502, error: { infra: true, message: expect.stringMatching(/exceeds 67108864 bytes/) } });
  });

  it('a stream line that never ends is cut at 16 MiB: an error event, infra', async () => {
    const r = s.rollout('flood-sse');
    const res = await post(s.gw, r.token, 'anthropic', requestBody('anthropic', 'anthropic', { stream: true }, 'flood-sse'));
    expect(res.text).toMatch(/without completing an event/);
    expect(r.responses()[0]).toMatchObject({ status: 502, error: { infra: true } });
  });
});

describe('deadlines', () => {
  it.each(PROTOCOLS)('%s: keep-alive comments forever do not count as progress: cut at progress_timeout_ms', async (client) => {
    for (const upstream of [client, cross(client)]) {
      const r = s.rollout(`stall-${client}-${upstream}`);
      const t0 = Date.now();
      const res = await post(s.gw, r.token, client, requestBody(client, upstream, { stream: true }, 'stall'));
      const took = Date.now() - t0;
      expect(res.status).toBe(200); // the stream had started
      expect(res.text).toMatch(/no content for 400 ms/);
      expect(took).toBeLessThan(1400);
      const [resp] = r.responses();
      expect(resp).toMatchObject({ status: 504, error: { infra: true, kind: 'deadline' } });
    }
  });

  it.each(PROTOCOLS)('%s: content dripped forever is cut at the total deadline', async (client) => {
    const r = s.rollout(`drip-${client}`);
    const t0 = Date.now();
    const res = await post(s.gw, r.token, client, requestBody(client, client, { stream: true }, 'drip'));
    const took = Date.now() - t0;
    expect(res.text).toContain('w3 ');
    expect(res.text).toMatch(/1500 ms deadline/);
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(4000);
    expect(r.responses()[0]).toMatchObject({ status: 504, error: { infra: true, kind: 'deadline' } });
  });

  it('a non-streamed body that never ends is cut at the total deadline (504 in the client protocol)', async () => {
    const r = s.rollout('hang-json');
    const res = await post(s.gw, r.token, 'openai-chat', requestBody('openai-chat', 'openai-chat', {}, 'hang-json'));
    expect(res.status).toBe(504);
    expect(res.headers.get('x-outlast-failure')).toBe('deadline');
    expect(JSON.parse(res.text).error.message).toMatch(/deadline/);
    expect(r.responses()[0]).toMatchObject({ status: 504, error: { kind: 'deadline', infra: true } });
  });

  it('a Retry-After longer than the call may last does not hold the call past its deadline', async () => {
    const r = s.rollout('retry-later');
    const t0 = Date.now();
    const res = await post(s.gw, r.token, 'anthropic', requestBody('anthropic', 'openai-chat', {}, 'retry-later'));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(res.status).toBe(504);
    expect(r.responses()[0]).toMatchObject({ status: 504, retries: 0, error: { kind: 'deadline', infra: true } });
  });
});
