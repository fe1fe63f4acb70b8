// Upstream faults injected by the scripted server: each ends as specified (retried and succeeded, or
// reported to the client in its protocol and recorded as an infrastructure fault), while another
// rollout's calls keep succeeding throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedModel, type ScriptedModel, type ScriptedTurn } from '../../src/models/scripted/index.js';
import type { ModelResponseEvent } from '../../src/core/events.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { FAKE_KEY, KEY_ENV, type Setup, modelName, setup, until } from './helpers.js';
import { anthropicClient, openai } from './clients.js';

let s: Setup;
let healthy: ScriptedModel;
const hangOnce = new Set<string>();
let background: Promise<void>;
let stop = false;
let backgroundOk = 0;
const backgroundErrors: unknown[] = [];
let other: { token: string; file: string };

function faultFor(text: string): ScriptedTurn {
  const ok: ScriptedTurn = { text: 'ok after fault', usage: { input: 10, output: 4 } };
  const m = /^fault:(\S+)/.exec(text);
  switch (m?.[1]) {
    case 'rate_limit':
      return { ...ok, fault: { kind: 'rate_limit', retry_after_sec: 0.2, times: 2 } };
    case 'server_error':
      return { ...ok, fault: { kind: 'server_error', status: 503, times: 2 } };
    case 'server_error_forever':
      return { ...ok, fault: { kind: 'server_error', status: 500, times: 1000 } };
    case 'delay':
      return { ...ok, fault: { kind: 'delay', ms: 300 } };
    case 'hang_once':
      if (!hangOnce.has(text)) {
        hangOnce.add(text);
        return { ...ok, fault: { kind: 'hang' } };
      }
      return ok;
    case 'cut':
      return { text: 'this answer will be cut off in the middle of the stream', fault: { kind: 'cut', after_chunks: 4 } };
    case 'malformed':
      return { text: 'this answer has a broken chunk in it somewhere', fault: { kind: 'malformed', after_chunks: 3 } };
    case 'slow':
      return { text: 'word '.repeat(200), tokens_per_sec: 50 };
    default:
      return ok;
  }
}

beforeAll(async () => {
  healthy = await startScriptedModel({ script: [{ text: 'healthy answer', usage: { input: 5, output: 2 } }], loop: true, api_key: FAKE_KEY, tokens_per_sec: 0 });
  s = await setup({
    script: (req) => faultFor(req.messages.filter((m) => m.role === 'user').pop()?.text ?? ''),
    settings: { max_retries: 4, first_byte_timeout_ms: 1000 },
    extra: [
      { name: 'healthy', protocol: 'openai-chat', base_url: `${healthy.url}/v1`, upstream_model: 'gpt-4o-mini', api_key_env: KEY_ENV },
      { name: 'dead', protocol: 'anthropic', base_url: 'http://127.0.0.1:9/v1', upstream_model: 'claude-haiku-4-5', api_key_env: KEY_ENV },
    ],
  });
  other = s.newRollout('r-other');
  // Another rollout calls steadily the whole time the faults are being injected.
  const c = openai(s.gw.url, other.token);
  background = (async () => {
    while (!stop) {
      try {
        const stream = await c.chat.completions.create({ model: 'healthy', messages: [{ role: 'user', content: 'hi' }], stream: true });
        let text = '';
        for await (const ch of stream) text += ch.choices[0]?.delta?.content ?? '';
        if (text === 'healthy answer') backgroundOk++;
        else backgroundErrors.push(text);
      } catch (e) {
        backgroundErrors.push(e);
      }
    }
  })();
});

afterAll(async () => {
  stop = true;
  await background;
  await s?.close();
  await healthy?.close();
});

function last(): ModelResponseEvent {
  const r = s.responses();
  return r[r.length - 1]!;
}

async function settle(n: number): Promise<void> {
  await until(() => s.responses().length >= n);
}

describe('upstream faults', () => {
  it('429 with Retry-After: retried, Retry-After honoured, wait recorded, then succeeds', async () => {
    const n = s.responses().length;
    const r = await openai(s.gw.url, s.token).chat.completions.create({ model: modelName('anthropic'), messages: [{ role: 'user', content: 'fault:rate_limit' }] });
    expect(r.choices[0]!.message.content).toBe('ok after fault');
    await settle(n + 1);
    const e = last();
    expect(e.status).toBe(200);
    expect(e.retries).toBe(2);
    expect(e.retry_wait_ms).toBeGreaterThanOrEqual(390);
    expect(e.retry_wait_ms).toBeLessThan(2000);
    expect(e.error).toBeUndefined();
  });

  it('5xx: retried with backoff, then succeeds', async () => {
    const n = s.responses().length;
    const stream = anthropicClient(s.gw.url, s.token).messages.stream({ model: modelName('openai-responses'), max_tokens: 100, messages: [{ role: 'user', content: 'fault:server_error' }] });
    const m = await stream.finalMessage();
    expect(m.content).toEqual([{ type: 'text', text: 'ok after fault', citations: undefined }].map(({ citations, ...b }) => b));
    await settle(n + 1);
    expect(last()).toMatchObject({ status: 200, retries: 2 });
  });

  it('5xx beyond the retry bound: reported in the client protocol, recorded as infra', async () => {
    const n = s.responses().length;
    const err = await anthropicClient(s.gw.url, s.token)
      .messages.create({ model: modelName('openai-chat'), max_tokens: 100, messages: [{ role: 'user', content: 'fault:server_error_forever' }] })
      .catch((e) => e);
    expect(err.status).toBe(500);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    await settle(n + 1);
    expect(last()).toMatchObject({ status: 500, retries: 4, error: { infra: true } });
  });

  it('delay before the first byte: waited out, TTFT includes it', async () => {
    const n = s.responses().length;
    const st = await openai(s.gw.url, s.token).responses.create({ model: modelName('openai-chat'), input: 'fault:delay', stream: true });
    let text = '';
    for await (const ev of st) if (ev.type === 'response.output_text.delta') text += ev.delta;
    expect(text).toBe('ok after fault');
    await settle(n + 1);
    expect(last().ttft_ms!).toBeGreaterThanOrEqual(300);
    expect(last().retries).toBe(0);
  });

  it('timeout before the first byte (hang): retried, then succeeds', async () => {
    const n = s.responses().length;
    const r = await openai(s.gw.url, s.token).chat.completions.create({ model: modelName('openai-chat'), messages: [{ role: 'user', content: 'fault:hang_once' }] });
    expect(r.choices[0]!.message.content).toBe('ok after fault');
    await settle(n + 1);
    expect(last()).toMatchObject({ status: 200, retries: 1 });
  });

  it('connection refused: retried, then a 502 in the client protocol, recorded as infra', async () => {
    const n = s.responses().length;
    const err = await openai(s.gw.url, s.token).chat.completions.create({ model: 'dead', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err.status).toBe(502);
    expect(err.error).toMatchObject({ message: expect.stringContaining('connection failed') });
    await settle(n + 1);
    expect(last()).toMatchObject({ status: 502, retries: 4, error: { infra: true } });
  });

  for (const [kind, client] of [
    ['cut', 'openai-chat'],
    ['cut', 'anthropic'],
    ['cut', 'openai-responses'],
    ['malformed', 'openai-chat'],
    ['malformed', 'anthropic'],
  ] as const) {
    it(`stream ${kind} after the first byte → ${client} client gets a protocol error event, recorded as infra`, async () => {
      const n = s.responses().length;
      const upstream = client === 'anthropic' ? 'openai-chat' : 'anthropic';
      let err: any;
      let text = '';
      try {
        if (client === 'anthropic') {
          const st = await anthropicClient(s.gw.url, s.token).messages.create({ model: modelName(upstream), max_tokens: 100, stream: true, messages: [{ role: 'user', content: `fault:${kind}` }] });
          for await (const ev of st) if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
        } else if (client === 'openai-chat') {
          const st = await openai(s.gw.url, s.token).chat.completions.create({ model: modelName(upstream), stream: true, messages: [{ role: 'user', content: `fault:${kind}` }] });
          for await (const ch of st) text += ch.choices[0]?.delta?.content ?? '';
        } else {
          const st = await openai(s.gw.url, s.token).responses.create({ model: modelName(upstream), stream: true, input: `fault:${kind}` });
          for await (const ev of st) if (ev.type === 'response.output_text.delta') text += ev.delta;
        }
      } catch (e) {
        err = e;
      }
      expect(err, `stream should fail (got text ${JSON.stringify(text)})`).toBeDefined();
      expect(String(err.message)).toMatch(/outlast gateway/);
      await settle(n + 1);
      expect(last()).toMatchObject({ status: 502, error: { infra: true } });
      expect(last().error!.message).toMatch(kind === 'cut' ? /cut|ended/ : /malformed/);
    });
  }

  it('non-streaming body cut: 502 in the client protocol', async () => {
    const n = s.responses().length;
    const err = await openai(s.gw.url, s.token).chat.completions.create({ model: modelName('openai-chat'), messages: [{ role: 'user', content: 'fault:cut' }] }).catch((e) => e);
    expect(err.status).toBe(502);
    await settle(n + 1);
    expect(last()).toMatchObject({ status: 502, error: { infra: true } });
  });

  it('client going away mid-stream: upstream aborted, recorded as 499 (not infra)', async () => {
    const n = s.responses().length;
    const ac = new AbortController();
    const st = await anthropicClient(s.gw.url, s.token).messages.create({ model: modelName('openai-chat'), max_tokens: 1000, stream: true, messages: [{ role: 'user', content: 'fault:slow' }] }, { signal: ac.signal });
    let got = 0;
    try {
      for await (const ev of st) if (ev.type === 'content_block_delta' && ++got === 3) ac.abort();
    } catch {
      /* aborted */
    }
    await settle(n + 1);
    expect(last()).toMatchObject({ status: 499, error: { infra: false } });
    expect(last().duration_ms).toBeLessThan(2000);
  });

  it('client going away while the gateway waits to retry: the wait already spent is recorded', async () => {
    const n = s.responses().length;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 120);
    // 429 with Retry-After 0.2 s: the client leaves during the gateway's first wait.
    await openai(s.gw.url, s.token)
      .chat.completions.create({ model: modelName('openai-chat'), messages: [{ role: 'user', content: 'fault:rate_limit' }] }, { signal: ac.signal, maxRetries: 0 })
      .catch(() => undefined);
    await settle(n + 1);
    expect(last()).toMatchObject({ status: 499, error: { infra: false } });
    expect(last().retry_wait_ms).toBeGreaterThan(50);
  });

  it('the other rollout kept succeeding throughout, and its calls were attributed to it', async () => {
    expect(backgroundErrors).toEqual([]);
    expect(backgroundOk).toBeGreaterThan(3);
    const evs = readTrajectory(other.file).events.filter((e) => e.type === 'model.response') as ModelResponseEvent[];
    expect(evs.length).toBeGreaterThanOrEqual(backgroundOk);
    expect(evs.every((e) => e.model === 'healthy' && e.status === 200)).toBe(true);
    expect(s.responses().some((e) => e.model === 'healthy')).toBe(false);
  });
});
