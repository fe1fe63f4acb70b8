// The scripted model keeps a bounded record of what it was sent: the latest requests (keep_requests)
// and, of those, the latest bodies (keep_bodies; older ones keep their size only). A long run whose
// requests carry their whole history does not keep every body; what tests read (the count, the last
// body, headers and times) stays available.
import { describe, expect, it } from 'vitest';
import { post, serve } from './helpers.js';

describe('scripted model: what it remembers', () => {
  it('keeps the latest bodies and requests, counts them all', async () => {
    const m = await serve({ script: [{ text: 'ok' }], loop: true, keep_requests: 40, keep_bodies: 3 });
    const history: { role: string; content: string }[] = [];
    for (let i = 0; i < 100; i++) {
      history.push({ role: 'user', content: `step ${i} ` + 'x'.repeat(2000) });
      const r = await post(`${m.url}/v1/chat/completions`, { model: 'm', messages: history });
      expect(r.status).toBe(200);
      history.push({ role: 'assistant', content: 'ok' });
    }
    expect(m.requestsSeen).toBe(100);
    expect(m.requests.length).toBeGreaterThanOrEqual(40);
    expect(m.requests.length).toBeLessThanOrEqual(40 + 16);
    const withBody = m.requests.filter((r) => r.body !== undefined);
    expect(withBody).toHaveLength(3);
    // the latest body is whole: all 100 user turns and the 99 replies between them
    expect((m.requests.at(-1)!.body as { messages: unknown[] }).messages).toHaveLength(199);
    const dropped = m.requests[0]!;
    expect(dropped).toMatchObject({ body: undefined, body_dropped: true, protocol: 'openai-chat', path: '/v1/chat/completions' });
    expect(dropped.body_bytes).toBeGreaterThan(2000);
    expect(dropped.headers['content-type']).toBe('application/json');
    // what is kept stays small however long the history: 3 bodies, not 100
    const kept = m.requests.reduce((n, r) => n + (r.body === undefined ? 0 : r.body_bytes), 0);
    const sent = m.requests.reduce((n, r) => n + r.body_bytes, 0);
    expect(kept).toBeLessThan(sent / 10);
  });

  it('defaults: 1000 requests, 32 bodies', async () => {
    const m = await serve({ script: [{ text: 'ok' }], loop: true });
    for (let i = 0; i < 40; i++) await post(`${m.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: `hi ${i}` }] });
    expect(m.requests).toHaveLength(40);
    expect(m.requests.filter((r) => r.body !== undefined)).toHaveLength(32);
  });
});
