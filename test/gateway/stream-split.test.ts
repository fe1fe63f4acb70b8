// Upstream SSE split at arbitrary byte boundaries (mid-event, mid-line, mid-UTF-8 character), with
// comments, CRLF line ends and multi-line data: the gateway reassembles it for every client protocol.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../src/gateway/index.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/models/config.js';
import { TrajectoryWriter, readTrajectory } from '../../src/store/trajectory.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { anthropicClient, openai } from './clients.js';

const TEXT = 'Grüße, 世界! 🚀 naïve café — done.';

function chatSse(): string {
  const chunks: string[] = [': keep-alive comment\r\n\r\n'];
  const pieces = [...TEXT].reduce<string[]>((a, ch, i) => (i % 3 === 0 ? [...a, ch] : [...a.slice(0, -1), a[a.length - 1] + ch]), []);
  chunks.push(`data: ${JSON.stringify({ id: 'c1', model: 'up', choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })}\r\n\r\n`);
  for (const p of pieces) chunks.push(`data: ${JSON.stringify({ id: 'c1', model: 'up', choices: [{ index: 0, delta: { content: p } }] })}\n\n`);
  chunks.push(`data: ${JSON.stringify({ id: 'c1', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_x', type: 'function', function: { name: 'f', arguments: '{"q":' } }] } }] })}\n\n`);
  chunks.push(`data: ${JSON.stringify({ id: 'c1', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"ü"}' } }] } }] })}\n\n`);
  chunks.push(`data: ${JSON.stringify({ id: 'c1', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\n`);
  chunks.push(`data: ${JSON.stringify({ id: 'c1', choices: [], usage: { prompt_tokens: 9, completion_tokens: 11 } })}\n\n`);
  chunks.push('data: [DONE]\n\n');
  return chunks.join('');
}

let gw: Gateway;
let srv: http.Server;
let token: string;
let file: string;
let log: TrajectoryWriter;

beforeAll(async () => {
  srv = http.createServer(async (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const bytes = Buffer.from(chatSse());
    // Random cuts of 1–7 bytes, each flushed on its own.
    let i = 0;
    let seed = 7;
    while (i < bytes.length) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const n = 1 + (seed % 7);
      res.write(bytes.subarray(i, i + n));
      i += n;
      if (seed % 5 === 0) await new Promise((r) => setImmediate(r));
    }
    res.end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  gw = await startGateway({ models: { models: [{ name: 'split', protocol: 'openai-chat', base_url: `http://127.0.0.1:${port}/v1`, upstream_model: 'gpt-4o' }], gateway: DEFAULT_GATEWAY_SETTINGS } });
  file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-split-')), 't.jsonl');
  log = new TrajectoryWriter(file, { fsync: false });
  token = gw.registerRollout({ rolloutId: 'split', log });
});
afterAll(async () => {
  await gw?.close();
  srv?.close();
  log?.close();
});

describe('split upstream stream', () => {
  it('chat client (passthrough) gets every byte right', async () => {
    const st = await openai(gw.url, token).chat.completions.stream({ model: 'split', messages: [{ role: 'user', content: 'x' }] });
    const done = await st.finalChatCompletion();
    expect(done.choices[0]!.message.content).toBe(TEXT);
    expect(done.choices[0]!.message.tool_calls![0]).toMatchObject({ id: 'call_x', function: { name: 'f', arguments: '{"q":"ü"}' } });
  });

  it('the usage chunk reaches a chat client only when it asked for it (include_usage); the role chunk always', async () => {
    const raw = async (extra: object) => {
      const r = await fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ model: 'split', stream: true, messages: [{ role: 'user', content: 'x' }], ...extra }) });
      return r.text();
    };
    const without = await raw({});
    expect(without).toContain('"role":"assistant"');
    expect(without).not.toContain('"usage"');
    expect(without.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const withUsage = await raw({ stream_options: { include_usage: true } });
    expect(withUsage).toContain('"usage":{"prompt_tokens":9,"completion_tokens":11}');
  });

  it('anthropic client (translated) gets the same text and tool call', async () => {
    const m = await anthropicClient(gw.url, token).messages.stream({ model: 'split', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
    expect(m.content[0]).toMatchObject({ type: 'text', text: TEXT });
    expect(m.content[1]).toMatchObject({ type: 'tool_use', id: 'call_x', name: 'f', input: { q: 'ü' } });
    expect(m.stop_reason).toBe('tool_use');
    expect(m.usage).toMatchObject({ input_tokens: 9, output_tokens: 11 });
  });

  it('responses client (translated) too; usage metered from the split usage chunk', async () => {
    const r = await openai(gw.url, token).responses.stream({ model: 'split', input: 'x' }).finalResponse();
    expect(r.output_text).toBe(TEXT);
    expect(r.output.find((o) => o.type === 'function_call')).toMatchObject({ call_id: 'call_x', name: 'f', arguments: '{"q":"ü"}' });
    const evs = readTrajectory(file).events.filter((e) => e.type === 'model.response') as any[];
    expect(evs.length).toBe(5);
    for (const e of evs) expect(e).toMatchObject({ status: 200, usage: { input: 9, output: 11 }, usage_estimated: false, finish_reason: 'tool_calls' });
  });
});
