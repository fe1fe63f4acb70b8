// A hostile or broken upstream of our own (node:http on loopback) and a gateway with one endpoint
// per protocol in front of it, each rollout with its own trajectory: for the fault tests that the
// scripted model server cannot stage (stalls, drips, echoes of the key, compression, redirects).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startGateway, type Budget, type Gateway } from '../../src/gateway/index.js';
import type { ModelRequestEvent, ModelResponseEvent, TrajectoryEvent } from '../../src/core/events.js';
import type { Protocol } from '../../src/core/types.js';
import { DEFAULT_GATEWAY_SETTINGS, type GatewaySettings } from '../../src/models/config.js';
import { TrajectoryWriter, readTrajectory } from '../../src/store/trajectory.js';
import { FAKE_KEY, KEY_ENV, PROTOCOLS } from './helpers.js';

export interface FakeUpstream {
  url: string;
  close(): Promise<void>;
}

export async function fakeUpstream(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<FakeUpstream> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface FakeSetup {
  gw: Gateway;
  dir: string;
  rollout(id: string, budget?: Budget): { token: string; file: string; events(): TrajectoryEvent[]; responses(): ModelResponseEvent[]; requests(): ModelRequestEvent[] };
  close(): Promise<void>;
}

/** A gateway whose endpoints `fake-<protocol>` all point at `upstreamUrl`. */
export async function gatewayFor(upstreamUrl: string, settings: Partial<GatewaySettings> = {}, extra: { socketPath?: string; key?: string } = {}): Promise<FakeSetup> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-gwf-'));
  const gw = await startGateway({
    models: {
      models: PROTOCOLS.map((p: Protocol) => ({ name: `fake-${p}`, protocol: p, base_url: `${upstreamUrl}/v1`, upstream_model: 'qwen3.7-max', api_key_env: KEY_ENV })),
      gateway: { ...DEFAULT_GATEWAY_SETTINGS, max_retries: 0, backoff_base_ms: 5, backoff_max_ms: 20, ...settings },
    },
    env: { [KEY_ENV]: extra.key ?? FAKE_KEY },
    ...(extra.socketPath ? { socketPath: extra.socketPath } : {}),
  });
  const logs: TrajectoryWriter[] = [];
  return {
    gw,
    dir,
    rollout(id, budget) {
      const file = path.join(dir, id, 'trajectory.jsonl');
      const log = new TrajectoryWriter(file, { fsync: false });
      logs.push(log);
      const events = () => readTrajectory(file).events;
      return {
        token: gw.registerRollout({ rolloutId: id, log, budget }),
        file,
        events,
        responses: () => events().filter((e): e is ModelResponseEvent => e.type === 'model.response'),
        requests: () => events().filter((e): e is ModelRequestEvent => e.type === 'model.request'),
      };
    },
    async close() {
      await gw.close();
      for (const l of logs) l.close();
    },
  };
}

export const CALL_PATH: Record<Protocol, string> = { 'openai-chat': '/v1/chat/completions', 'openai-responses': '/v1/responses', anthropic: '/v1/messages' };

/** A minimal valid request body of `client`'s protocol for endpoint `fake-<upstream>`. */
export function requestBody(client: Protocol, upstream: Protocol, extra: Record<string, unknown> = {}, text = 'hi'): string {
  const model = `fake-${upstream}`;
  if (client === 'openai-responses') return JSON.stringify({ model, input: text, max_output_tokens: 50, ...extra });
  return JSON.stringify({ model, max_tokens: 50, messages: [{ role: 'user', content: text }], ...extra });
}

/** POST a call with fetch; returns status, headers and the whole body text. */
export async function post(gw: Gateway, token: string, client: Protocol, body: string): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(gw.url + CALL_PATH[client], { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A streamed answer in `upstream`'s protocol saying `text` (one delta per word), with usage. */
export function sseAnswer(upstream: Protocol, words: string[]): string[] {
  const ev = (d: unknown, name?: string) => (name ? `event: ${name}\n` : '') + `data: ${JSON.stringify(d)}\n\n`;
  if (upstream === 'openai-chat')
    return [
      ...words.map((w) => ev({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })),
      ev({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
      ev({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [], usage: { prompt_tokens: 5, completion_tokens: words.length, total_tokens: 5 + words.length } }),
      'data: [DONE]\n\n',
    ];
  if (upstream === 'anthropic')
    return [
      ev({ type: 'message_start', message: { id: 'm1', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, usage: { input_tokens: 5, output_tokens: 0 } } }, 'message_start'),
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start'),
      ...words.map((w) => ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } }, 'content_block_delta')),
      ev({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
      ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: words.length } }, 'message_delta'),
      ev({ type: 'message_stop' }, 'message_stop'),
    ];
  const item = { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: words.join(''), annotations: [] }] };
  return [
    ev({ type: 'response.created', response: { id: 'resp_1', object: 'response', model: 'm', status: 'in_progress', output: [] } }, 'response.created'),
    ev({ type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } }, 'response.output_item.added'),
    ...words.map((w) => ev({ type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: 'msg_1', delta: w }, 'response.output_text.delta')),
    ev({ type: 'response.output_item.done', output_index: 0, item }, 'response.output_item.done'),
    ev({ type: 'response.completed', response: { id: 'resp_1', object: 'response', model: 'm', status: 'completed', output: [item], usage: { input_tokens: 5, output_tokens: words.length, total_tokens: 5 + words.length } } }, 'response.completed'),
  ];
}

/** A non-streamed answer in `upstream`'s protocol. */
export function jsonAnswer(upstream: Protocol, text: string): unknown {
  if (upstream === 'openai-chat') return { id: 'c1', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } };
  if (upstream === 'anthropic') return { id: 'm1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text }], stop_reason: 'end_turn', usage: { input_tokens: 5, output_tokens: 3 } };
  return { id: 'resp_1', object: 'response', model: 'm', status: 'completed', output: [{ id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] }], usage: { input_tokens: 5, output_tokens: 3, total_tokens: 8 } };
}

/** Which protocol an upstream request was made in, from its path. */
export function protocolOfPath(url: string | undefined): Protocol {
  if (url?.includes('/messages')) return 'anthropic';
  if (url?.includes('/responses')) return 'openai-responses';
  return 'openai-chat';
}
