// Injected faults, as the official clients see them.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { anthropic, openai, post, serve } from './helpers.js';

const user = [{ role: 'user' as const, content: 'hello' }];

describe('scripted model: faults', () => {
  it('rate_limit: 429 with Retry-After in each protocol, without advancing the turn', async () => {
    const m = await serve({ script: [{ text: 'after the limit', fault: { kind: 'rate_limit', retry_after_sec: 7, times: 2 } }, { text: 'second turn' }] });
    const err = await openai(m).chat.completions.create({ model: 'm', messages: user }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.headers.get('retry-after')).toBe('7');
    expect(err.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    const aerr = await anthropic(m).messages.create({ model: 'm', max_tokens: 5, messages: user }).catch((e) => e);
    expect(aerr).toBeInstanceOf(Anthropic.RateLimitError);
    expect(aerr.headers.get('retry-after')).toBe('7');
    expect(aerr.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(m.turnsServed).toBe(0);
    const ok = await openai(m).responses.create({ model: 'm', input: 'hello' });
    expect(ok.output_text).toBe('after the limit');
    const next = await openai(m).responses.create({ model: 'm', input: 'hello' });
    expect(next.output_text).toBe('second turn');
    expect(m.turnsServed).toBe(2);
  });

  it('rate_limit: a client that honours Retry-After retries and succeeds', async () => {
    const m = await serve({ script: [{ text: 'finally', fault: { kind: 'rate_limit', retry_after_sec: 0.05, times: 2 } }] });
    const r = await openai(m, { maxRetries: 2 }).chat.completions.create({ model: 'm', messages: user });
    expect(r.choices[0]!.message.content).toBe('finally');
    expect(m.requests).toHaveLength(3);
    expect(m.requests[2]!.at - m.requests[0]!.at).toBeGreaterThanOrEqual(90);
  });

  it('server_error: the given 5xx, `times` times, in each protocol shape', async () => {
    const m = await serve({ script: [{ text: 'recovered', fault: { kind: 'server_error', status: 503, times: 2 } }] });
    const err = await openai(m).chat.completions.create({ model: 'm', messages: user }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(503);
    expect(err.error).toMatchObject({ type: 'server_error' });
    const aerr = await anthropic(m).messages.create({ model: 'm', max_tokens: 5, messages: user }).catch((e) => e);
    expect(aerr.status).toBe(503);
    expect(aerr.error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    const r = await anthropic(m).messages.create({ model: 'm', max_tokens: 5, messages: user });
    expect(r.content).toEqual([{ type: 'text', text: 'recovered' }]);

    const m2 = await serve({ script: [{ text: 'x', fault: { kind: 'server_error' } }] });
    const raw = await post(`${m2.url}/v1/responses`, { model: 'm', input: 'x' });
    expect(raw.status).toBe(500);
    expect(raw.body).toMatchObject({ error: { type: 'server_error', param: null } });
  });

  it('delay: waits before the first byte', async () => {
    const m = await serve({ script: [{ text: 'late', fault: { kind: 'delay', ms: 300 } }] });
    const t0 = performance.now();
    const r = await openai(m).chat.completions.create({ model: 'm', messages: user });
    expect(r.choices[0]!.message.content).toBe('late');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(295);

    // Streaming: the headers wait too, and the TTFT schedule starts after the delay.
    const s = await serve({ script: [{ text: 'late stream', ttft_ms: 100, fault: { kind: 'delay', ms: 200 } }] });
    const t1 = performance.now();
    const stream = await anthropic(s).messages.create({ model: 'm', max_tokens: 5, messages: user, stream: true });
    const headersAt = performance.now() - t1;
    let firstText = 0;
    for await (const e of stream) if (e.type === 'content_block_delta' && !firstText) firstText = performance.now() - t1;
    expect(headersAt).toBeGreaterThanOrEqual(195);
    expect(firstText).toBeGreaterThanOrEqual(295);
  });

  it('cut: the stream breaks after N events (OpenAI and Anthropic clients see an error)', async () => {
    const text = 'This reply is long enough to be cut in the middle of the stream.';
    const m = await serve({ script: [{ text, fault: { kind: 'cut', after_chunks: 3 } }, { text, fault: { kind: 'cut', after_chunks: 4 } }] });
    let got = '';
    const err = await (async () => {
      const s = await openai(m).chat.completions.create({ model: 'm', messages: user, stream: true });
      for await (const c of s) got += c.choices[0]?.delta.content ?? '';
    })().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(got).toBe(text.slice(0, 12)); // 3 chunks of 4 characters

    const events: string[] = [];
    const aerr = await (async () => {
      const s = await anthropic(m).messages.create({ model: 'm', max_tokens: 50, messages: user, stream: true });
      for await (const e of s) events.push(e.type);
    })().catch((e) => e);
    expect(aerr).toBeInstanceOf(Error);
    // 4 events: message_start, ping (the SDK does not yield pings), content_block_start, one delta
    expect(events).toEqual(['message_start', 'content_block_start', 'content_block_delta']);
  });

  it('cut: a non-streaming reply breaks off mid-body', async () => {
    const m = await serve({ script: [{ text: 'whole answer', fault: { kind: 'cut', after_chunks: 0 } }, { text: 'next' }] });
    const err = await openai(m).chat.completions.create({ model: 'm', messages: user }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect((await openai(m).chat.completions.create({ model: 'm', messages: user })).choices[0]!.message.content).toBe('next');
  });

  it('malformed: a non-JSON data line makes the clients fail', async () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {}); // the SDKs log the bad line
    const m = await serve({ script: [{ text: 'some text here', fault: { kind: 'malformed', after_chunks: 2 } }, { text: 'abc', fault: { kind: 'malformed' } }, { text: 'x', fault: { kind: 'malformed' } }] });
    let chunks = 0;
    const err = await (async () => {
      const s = await openai(m).chat.completions.create({ model: 'm', messages: user, stream: true });
      for await (const _ of s) chunks++;
    })().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(chunks).toBe(2);
    const aerr = await anthropic(m).messages.stream({ model: 'm', max_tokens: 5, messages: user }).finalMessage().catch((e) => e);
    expect(aerr).toBeInstanceOf(Error);
    const raw = await post(`${m.url}/v1/chat/completions`, { model: 'm', messages: user });
    expect(raw.status).toBe(200);
    expect(typeof raw.body).toBe('string'); // not JSON
    quiet.mockRestore();
  });

  it('hang: never answers; a client timeout fires and the server still closes promptly', async () => {
    const m = await serve({ script: [{ text: 'never', fault: { kind: 'hang' } }, { text: 'never either', fault: { kind: 'hang' } }] });
    const t0 = performance.now();
    const err = await openai(m, { timeout: 300 }).chat.completions.create({ model: 'm', messages: user }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    // A second hanging request is still open when the server closes.
    const pending = fetch(`${m.url}/v1/messages`, { method: 'POST', body: JSON.stringify({ model: 'm', max_tokens: 5, messages: user }) }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 50));
    const c0 = performance.now();
    await m.close();
    expect(performance.now() - c0).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });
});
