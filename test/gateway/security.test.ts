// Per-rollout tokens, budgets (enforced before forwarding, derived from the trajectory so they
// survive a gateway restart), and keys: the upstream key never lands in any file of the run dir.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/models/config.js';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import { TrajectoryWriter, readTrajectory } from '../../src/store/trajectory.js';
import type { ModelResponseEvent } from '../../src/core/events.js';
import { FAKE_KEY, KEY_ENV, PROTOCOLS, type Setup, allFiles, modelName, setup, until } from './helpers.js';
import { anthropicClient, openai } from './clients.js';

let s: Setup;
beforeAll(async () => {
  s = await setup({ script: [{ text: 'fine', usage: { input: 60, output: 20 } }] });
});
afterAll(async () => s?.close());

async function callAs(client: (typeof PROTOCOLS)[number], token: string, upstream = modelName('openai-chat')): Promise<any> {
  try {
    if (client === 'anthropic') return await anthropicClient(s.gw.url, token).messages.create({ model: upstream, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    if (client === 'openai-chat') return await openai(s.gw.url, token).chat.completions.create({ model: upstream, messages: [{ role: 'user', content: 'hi' }] });
    return await openai(s.gw.url, token).responses.create({ model: upstream, input: 'hi' });
  } catch (e) {
    return e;
  }
}

describe('tokens', () => {
  it.each(PROTOCOLS)('%s: unknown or missing token → 401 in the protocol shape, nothing forwarded', async (client) => {
    const before = s.sm.requests.length;
    const err = await callAs(client, 'olt_not-a-real-token');
    expect(err.status).toBe(401);
    if (client === 'anthropic') expect(err.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    else expect(err.error).toMatchObject({ type: 'authentication_error' });
    const res = await fetch(`${s.gw.url}/v1/${client === 'anthropic' ? 'messages' : client === 'openai-chat' ? 'chat/completions' : 'responses'}`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(s.sm.requests.length).toBe(before);
  });

  it('accepts the token as Authorization: Bearer and as x-api-key; tokens are random and distinct', async () => {
    const body = JSON.stringify({ model: modelName('openai-chat'), messages: [{ role: 'user', content: 'hi' }] });
    const a = await fetch(`${s.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` }, body });
    const b = await fetch(`${s.gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-api-key': s.token }, body });
    expect([a.status, b.status]).toEqual([200, 200]);
    const t2 = s.newRollout('r-tok').token;
    expect(t2).not.toBe(s.token);
    expect(t2).toMatch(/^olt_[A-Za-z0-9_-]{32}$/);
    s.gw.unregister(t2);
    expect((await callAs('openai-chat', t2)).status).toBe(401);
  });

  it('GET /v1/models lists the configured names in both shapes', async () => {
    const list = await openai(s.gw.url, s.token).models.list();
    expect(list.data.map((m) => m.id)).toEqual(PROTOCOLS.map(modelName));
    const al = await anthropicClient(s.gw.url, s.token).models.list();
    expect(al.data.map((m) => m.id)).toEqual(PROTOCOLS.map(modelName));
  });
});

describe('budgets', () => {
  it.each(PROTOCOLS)('%s: calls budget → the call over it is refused with a protocol-correct 403, not forwarded', async (client) => {
    const r = s.newRollout(`r-calls-${client}`, { calls: 2 });
    expect((await callAs(client, r.token))).not.toBeInstanceOf(Error);
    expect((await callAs(client, r.token))).not.toBeInstanceOf(Error);
    const before = s.sm.requests.length;
    const err = await callAs(client, r.token);
    expect(err.status).toBe(403);
    expect(String(err.message)).toMatch(/call budget exhausted \(2 of 2/);
    if (client === 'anthropic') expect(err.error).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    else expect(err.error).toMatchObject({ type: 'budget_exceeded', code: 'budget_exceeded' });
    expect(s.sm.requests.length).toBe(before);
    const evs = readTrajectory(r.file).events;
    expect(evs.filter((e) => e.type === 'model.response')).toHaveLength(2);
    // The refusal is recorded: a model.request that says it was refused, and why.
    const refused = evs.filter((e) => e.type === 'model.request' && e.refused);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ refused: { status: 403, kind: 'budget', message: expect.stringMatching(/call budget exhausted/) } });
  });

  it('token and cost budgets: a call that cannot fit what is left is refused before it is forwarded', async () => {
    // Each call spends 80 tokens (60 in, 20 out). With max_tokens 20, the first call reserves its
    // input estimate (request bytes / 4) + 20; after it, the rollout's own ratio (60 tokens for its
    // request bytes) makes the estimate 60 + 20 = 80: the second fits 200, the third (160 + 80) does not.
    const t = s.newRollout('r-tokens', { tokens: 200 });
    const chat = (tok: string) => openai(s.gw.url, tok).chat.completions.create({ model: modelName('openai-chat'), max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(await chat(t.token)).not.toBeInstanceOf(Error);
    expect(await chat(t.token)).not.toBeInstanceOf(Error);
    const before = s.sm.requests.length;
    const third = await chat(t.token);
    expect(third.status).toBe(403);
    expect(String(third.message)).toMatch(/token budget exhausted \(160 of 200 tokens used/);
    expect(s.sm.requests.length).toBe(before);
    expect(s.gw.spent(t.token)).toMatchObject({ tokens: 160, calls: 2 });
    // Without max_tokens the call would reserve reserve_output_tokens (4096): its output limit is
    // lowered to what the budget has left instead, and the upstream is told so.
    const u = s.newRollout('r-tokens-unbounded', { tokens: 200 });
    expect(await callAs('openai-chat', u.token)).not.toBeInstanceOf(Error);
    const sent = s.sm.requests.at(-1)!.body as { max_tokens: number };
    expect(sent.max_tokens).toBeGreaterThan(100);
    expect(sent.max_tokens).toBeLessThan(200);
    const req = readTrajectory(u.file).events.find((e) => e.type === 'model.request');
    expect(req).toMatchObject({ output_limit: sent.max_tokens });
    const c = s.newRollout('r-cost', { cost_usd: 0.0005 }); // one call spends (60*2.5 + 20*7.5)/1e6 = 0.0003; the next may cost (60*2.5 + 50*7.5)/1e6
    expect((await callAs('anthropic', c.token))).not.toBeInstanceOf(Error);
    const err = await callAs('anthropic', c.token);
    expect(err.status).toBe(403);
    expect(String(err.message)).toMatch(/cost budget exhausted/);
  });

  it('budget state survives a gateway restart (derived from the reopened trajectory)', async () => {
    const r = s.newRollout('r-restart', { calls: 3 });
    for (let i = 0; i < 3; i++) expect((await callAs('openai-responses', r.token))).not.toBeInstanceOf(Error);
    r.log.close();
    // A fresh gateway, the same trajectory file reopened: the budget is already spent.
    const gw2 = await startGateway({
      models: { models: [{ name: 'm', protocol: 'openai-chat', base_url: `${s.sm.url}/v1`, upstream_model: 'qwen3.7-max', api_key_env: KEY_ENV }], gateway: DEFAULT_GATEWAY_SETTINGS },
      env: { [KEY_ENV]: FAKE_KEY },
    });
    const log2 = new TrajectoryWriter(r.file, { fsync: false });
    try {
      const tok = gw2.registerRollout({ rolloutId: 'r-restart', log: log2, budget: { calls: 3 } });
      expect(gw2.spent(tok)).toMatchObject({ calls: 3, tokens: 240 });
      const err = await openai(gw2.url, tok).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
      expect(err.status).toBe(403);
      const tok2 = gw2.registerRollout({ rolloutId: 'r-restart', log: log2, budget: { calls: 4 } });
      const ok = await openai(gw2.url, tok2).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      expect(ok.choices[0]!.message.content).toBe('fine');
    } finally {
      await gw2.close();
      log2.close();
    }
    const seqs = readTrajectory(r.file).events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
  });
});

describe('keys', () => {
  let wrong: ScriptedModel;
  afterAll(async () => wrong?.close());

  it('the upstream key reaches the upstream, and appears in no file under the run dir, in no response, in no error', async () => {
    // The scripted server requires FAKE_KEY: every successful call above proves the gateway sent it.
    const rec = s.sm.requests[s.sm.requests.length - 1]!;
    expect(rec.headers['authorization'] ?? rec.headers['x-api-key']).toContain(FAKE_KEY);
    // An upstream that rejects the key (it wants another one), and errors of every kind.
    wrong = await startScriptedModel({ script: [{ text: 'x' }], loop: true, api_key: 'a-different-key' });
    const dir = path.join(s.dir, 'keys');
    const gw = await startGateway({
      models: { models: PROTOCOLS.map((p) => ({ name: p, protocol: p, base_url: `${wrong.url}/v1`, upstream_model: 'm', api_key_env: KEY_ENV })), gateway: { ...DEFAULT_GATEWAY_SETTINGS, max_retries: 0 } },
      env: { [KEY_ENV]: FAKE_KEY },
    });
    const log = new TrajectoryWriter(path.join(dir, 'trajectory.jsonl'));
    const tok = gw.registerRollout({ rolloutId: 'k', log });
    const bodies: string[] = [];
    try {
      for (const p of PROTOCOLS)
        for (const client of ['openai-chat', 'anthropic'] as const) {
          const url = `${gw.url}/v1/${client === 'anthropic' ? 'messages' : 'chat/completions'}`;
          const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${tok}` }, body: JSON.stringify({ model: p, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], stream: p === 'anthropic' }) });
          // The upstream refused the key: the endpoint is misconfigured (502), not the client's token (401).
          expect(res.status).toBe(502);
          expect(res.headers.get('x-outlast-failure')).toBe('misconfigured');
          bodies.push(await res.text());
        }
    } finally {
      await gw.close();
      log.close();
    }
    const evs = readTrajectory(path.join(dir, 'trajectory.jsonl')).events.filter((e): e is ModelResponseEvent => e.type === 'model.response');
    expect(evs).toHaveLength(6);
    expect(evs.every((e) => e.status === 401 && e.error?.infra === true && e.error.kind === 'misconfigured')).toBe(true);
    expect(bodies.every((b) => /api_key_env/.test(b))).toBe(true);
    for (const b of bodies) expect(b).not.toContain(FAKE_KEY);
    await until(() => true);
    const files = allFiles(s.dir);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(fs.readFileSync(f, 'utf8').includes(FAKE_KEY), f).toBe(false);
    // Nor the gateway tokens' Authorization header values in the trajectory.
    for (const f of files) expect(fs.readFileSync(f, 'utf8').includes(s.token), f).toBe(false);
  });

  it('an upstream error that echoes the key is scrubbed before it is recorded or passed on', async () => {
    const http = await import('node:http');
    const echo = http.createServer((req, res) => {
      req.resume();
      const got = String(req.headers.authorization ?? req.headers['x-api-key'] ?? '');
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${got}`, type: 'invalid_request_error' } }));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as import('node:net').AddressInfo).port;
    const gw = await startGateway({
      models: { models: PROTOCOLS.map((p) => ({ name: p, protocol: p, base_url: `http://127.0.0.1:${port}/v1`, upstream_model: 'm', api_key_env: KEY_ENV })), gateway: { ...DEFAULT_GATEWAY_SETTINGS, max_retries: 0 } },
      env: { [KEY_ENV]: FAKE_KEY },
    });
    const file = path.join(s.dir, 'echo', 'trajectory.jsonl');
    const log = new TrajectoryWriter(file);
    const tok = gw.registerRollout({ rolloutId: 'echo', log });
    try {
      for (const p of PROTOCOLS) {
        const client = p === 'anthropic' ? 'openai-chat' : 'anthropic';
        const res = await fetch(`${gw.url}/v1/${client === 'anthropic' ? 'messages' : 'chat/completions'}`, { method: 'POST', headers: { 'x-api-key': tok }, body: JSON.stringify({ model: p, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }) });
        const text = await res.text();
        expect(res.status).toBe(502);
        expect(text).toContain('Incorrect API key provided');
        expect(text).not.toContain(FAKE_KEY);
        const same = await fetch(`${gw.url}/v1/${p === 'anthropic' ? 'messages' : p === 'openai-chat' ? 'chat/completions' : 'responses'}`, { method: 'POST', headers: { 'x-api-key': tok }, body: JSON.stringify({ model: p, max_tokens: 10, input: 'hi', messages: [{ role: 'user', content: 'hi' }] }) });
        expect(await same.text()).not.toContain(FAKE_KEY);
      }
    } finally {
      await gw.close();
      log.close();
      echo.close();
    }
    expect(fs.readFileSync(file, 'utf8')).toContain('[REDACTED]');
    expect(fs.readFileSync(file, 'utf8')).not.toContain(FAKE_KEY);
  });
});
