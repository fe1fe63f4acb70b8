// Connection hygiene under a hostile client: sockets that never send a byte are reaped; past the
// connection cap the longest-idle socket makes room and, when every connection is busy, the newcomer
// gets a clear 503; a body dribbled in slowly is cut off; buffered request bytes are bounded across
// requests; malformed input is a 400. Throughout, a canary loop of real calls keeps succeeding.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Setup, modelName, setup, until } from './helpers.js';

let s: Setup;
const LIMITS = { idle_connection_ms: 600, header_timeout_ms: 500, body_timeout_ms: 700, max_connections: 40, max_buffered_bytes: 2 * 1024 * 1024, max_body_bytes: 1024 * 1024 };
beforeAll(async () => {
  s = await setup({ script: [{ text: 'canary ok', usage: { input: 3, output: 2 } }], settings: LIMITS });
});
afterAll(async () => s?.close());

const body = JSON.stringify({ model: modelName('openai-chat'), messages: [{ role: 'user', content: 'hi' }] });

async function canaryCall(): Promise<number> {
  const res = await fetch(`${s.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${s.token}`, connection: 'close' }, body });
  await res.text();
  return res.status;
}

function openIdle(n: number): Promise<net.Socket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Socket>((resolve) => {
          const c = net.connect(s.gw.port, '127.0.0.1', () => resolve(c));
          c.on('error', () => {});
          c.resume();
        }),
    ),
  );
}

const closed = (c: net.Socket) => c.destroyed || c.readyState === 'closed' || !c.readable;

describe('connections', () => {
  it('sockets that never send a byte are closed after idle_connection_ms', async () => {
    const socks = await openIdle(10);
    await until(() => s.gw.connections().open === 10);
    await new Promise((r) => setTimeout(r, 1500));
    // Closed by the header timeout or the idle sweep, whichever came first.
    expect(socks.every((c) => closed(c))).toBe(true);
    expect(s.gw.connections().open).toBe(0);
  });

  it('a canary keeps succeeding while a hostile client hoards sockets, dribbles bodies and sends garbage', async () => {
    let stop = false;
    const statuses: number[] = [];
    const canary = (async () => {
      while (!stop) statuses.push(await canaryCall().catch(() => -1));
    })();
    // 1. more idle sockets than the cap, repeatedly
    const hoard: net.Socket[] = [];
    for (let i = 0; i < 3; i++) hoard.push(...(await openIdle(LIMITS.max_connections)));
    // 2. bodies dribbled a byte at a time
    const dribblers = Array.from({ length: 5 }, () => {
      const c = net.connect(s.gw.port, '127.0.0.1', () => c.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${s.token}\r\ncontent-length: 100000\r\n\r\n{`));
      c.on('error', () => {});
      const t = setInterval(() => c.writable && c.write(' '), 100);
      c.on('close', () => clearInterval(t));
      return { c, t, got: new Promise<string>((r) => { let d = ''; c.on('data', (x) => (d += x)); c.on('close', () => r(d)); }) };
    });
    // 3. malformed input
    const bad = await Promise.all([
      fetch(`${s.gw.url}/v1/models/%E0%A4%A`, { headers: { authorization: `Bearer ${s.token}` } }),
      fetch(`${s.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` }, body: '['.repeat(100_000) + ']'.repeat(100_000) }),
      // Deep nesting where translation recurses (a tool's schema, sent on to another protocol).
      fetch(`${s.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` }, body: `{"model":"${modelName('anthropic')}","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}}]}` }),
      fetch(`${s.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` }, body: `{"model":"${modelName('openai-chat')}","messages":[{"role":"user","content":"hi"}],"deep":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}` }),
    ]);
    expect(bad.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    const dribbled = await Promise.all(dribblers.map((d) => d.got));
    for (const d of dribbled) expect(d).toMatch(/^HTTP\/1\.1 408/);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await canary;
    for (const h of hoard) h.destroy();
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.every((x) => x === 200)).toBe(true);
    expect(s.gw.connections().evicted).toBeGreaterThan(0);
  });

  it('when every connection is busy, a newcomer gets a clear 503 (JSON), not a hang', async () => {
    // Hold max_connections requests open: each dribbles its body so it stays busy.
    const held = Array.from({ length: LIMITS.max_connections }, () => {
      const c = net.connect(s.gw.port, '127.0.0.1', () => c.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${s.token}\r\ncontent-length: 1000\r\n\r\n{`));
      c.on('error', () => {});
      return c;
    });
    await new Promise((r) => setTimeout(r, 150));
    const res = await fetch(`${s.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` }, body }).catch((e) => e);
    for (const c of held) c.destroy();
    expect(res.status).toBe(503);
    expect(res.headers.get('x-outlast-failure')).toBe('gateway');
    expect((await res.json()).error.message).toMatch(/too many open connections/);
    expect(s.gw.connections().refused).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(await canaryCall()).toBe(200);
  });

  it('request bytes buffered across requests are bounded: over max_buffered_bytes is 503, and memory is given back', async () => {
    // Three 900 KB bodies, each sent in full but slowly enough to be in flight together: 2.7 MB > 2 MB.
    const big = JSON.stringify({ model: modelName('openai-chat'), messages: [{ role: 'user', content: 'x'.repeat(900 * 1024) }] });
    const send = () =>
      new Promise<string>((resolve) => {
        const c = net.connect(s.gw.port, '127.0.0.1', () => {
          c.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${s.token}\r\ncontent-length: ${Buffer.byteLength(big)}\r\nconnection: close\r\n\r\n`);
          c.write(big.slice(0, big.length - 10));
          setTimeout(() => c.write(big.slice(big.length - 10)), 300);
        });
        let d = '';
        c.on('data', (x) => (d += x));
        c.on('close', () => resolve(d));
        c.on('error', () => resolve(d));
      });
    const out = await Promise.all([send(), send(), send()]);
    const codes = out.map((d) => Number(/^HTTP\/1\.1 (\d+)/.exec(d)?.[1]));
    expect(codes.filter((c) => c === 503).length).toBeGreaterThanOrEqual(1);
    expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(1);
    expect(await canaryCall()).toBe(200);
  });
});
