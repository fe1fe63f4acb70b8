// The gateway: an HTTP server on loopback between every harness and every model. It speaks OpenAI
// Chat Completions, OpenAI Responses and Anthropic Messages, forwards each call to the endpoint the
// client's `model` names (translating through the IR when the protocols differ), meters it, enforces
// the rollout's budget, and holds the upstream keys. See docs/gateway.md.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createParser } from 'eventsource-parser';
import type { Agent } from 'undici';
import type { Logger } from 'pino';
import type { ModelEndpoint, Protocol } from '../core/types.js';
import { type GatewaySettings, type ModelsConfig } from '../models/config.js';
import { resolvePricing } from '../models/pricing.js';
import type { TrajectoryWriter } from '../store/trajectory.js';
import { CallMeter } from './meter.js';
import { type ErrorKind, GatewayError, type IRRequest, type IRStreamEvent, genId, isObj, kindForStatus, upstreamErrorMessage } from './ir.js';
import { CODECS, type Codec } from './protocols/index.js';
import { type Budget, RolloutState, type Spent, mintToken } from './rollouts.js';
import { UpstreamAborted, UpstreamFailure, createAgent, postUpstream } from './upstream.js';

export interface GatewayOptions {
  models: ModelsConfig;
  /** Port on `host` (default 0: pick a free one). */
  port?: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Where upstream keys are read from (default process.env). Only the gateway reads them. */
  env?: NodeJS.ProcessEnv;
  /** Overrides of models.gateway settings (retries, timeouts, body limit). */
  settings?: Partial<GatewaySettings>;
  /** Optional structured logger (authorization and x-api-key are never passed to it). */
  logger?: Logger;
}

export interface RegisterRolloutOptions {
  rolloutId: string;
  /** The rollout's trajectory: model.request / model.response events are appended to it. */
  log: TrajectoryWriter;
  budget?: Budget;
  /** Use this token instead of minting a random one (standalone mode). */
  token?: string;
}

export interface Gateway {
  /** http://127.0.0.1:PORT (no /v1). */
  url: string;
  port: number;
  /** Register a rollout; returns the token its harness must send (Authorization: Bearer or x-api-key). */
  registerRollout(opts: RegisterRolloutOptions): string;
  unregister(token: string): void;
  /** What a rollout has spent so far (from its trajectory), or null for an unknown token. */
  spent(token: string): Spent | null;
  close(): Promise<void>;
}

interface Route {
  protocol: Protocol;
  kind: 'call' | 'count_tokens';
}

const ROUTES: Record<string, Route> = {
  '/v1/chat/completions': { protocol: 'openai-chat', kind: 'call' },
  '/v1/responses': { protocol: 'openai-responses', kind: 'call' },
  '/v1/messages': { protocol: 'anthropic', kind: 'call' },
  '/v1/messages/count_tokens': { protocol: 'anthropic', kind: 'count_tokens' },
};

const JSON_HEADERS = { 'content-type': 'application/json' };

function sendJson(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

function sendError(res: http.ServerResponse, codec: Codec, status: number, kind: ErrorKind, message: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end(codec.streamError(kind, message));
    return;
  }
  sendJson(res, status, codec.errorBody(kind, message), extra);
}

function tokenOf(req: http.IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!.trim();
  }
  const k = req.headers['x-api-key'];
  if (typeof k === 'string' && k) return k.trim();
  return null;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const len = Number(req.headers['content-length']);
    if (Number.isFinite(len) && len > limit) {
      req.resume();
      return reject(new GatewayError(413, 'too_large', `request body of ${len} bytes exceeds the gateway limit of ${limit} bytes`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(new GatewayError(413, 'too_large', `request body exceeds the gateway limit of ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
  });
}

/** Resolves when the response can take more data (or is closed). */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function rawSse(event: string | undefined, data: string): string {
  let s = event ? `event: ${event}\n` : '';
  if (data.includes('\n')) for (const line of data.split('\n')) s += `data: ${line}\n`;
  else s += `data: ${data}\n`;
  return s + '\n';
}

function isTokenEvent(ev: IRStreamEvent): boolean {
  return ev.type === 'text' || ev.type === 'reasoning' || ev.type === 'tool_call_start' || ev.type === 'tool_call_args';
}

/** Start a gateway. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const settings: GatewaySettings = { ...opts.models.gateway, ...(opts.settings ?? {}) };
  const env = opts.env ?? process.env;
  const endpoints = new Map<string, ModelEndpoint>(opts.models.models.map((m) => [m.name, m]));
  const aliases = opts.models.aliases ?? {};
  const aliasOf = (name: string): ModelEndpoint | undefined => (Object.hasOwn(aliases, name) ? endpoints.get(aliases[name]!) : undefined);
  const rollouts = new Map<string, RolloutState>();
  const agent: Agent = createAgent(settings);
  const log = opts.logger;

  /** Every configured key value, to scrub from anything the gateway passes on or records. */
  const secrets = (): string[] => {
    const out: string[] = [];
    for (const m of endpoints.values()) {
      const v = m.api_key_env ? env[m.api_key_env] : undefined;
      if (v && v.length >= 4) out.push(v);
    }
    return out;
  };
  const scrub = (s: string): string => {
    for (const k of secrets()) if (s.includes(k)) s = s.split(k).join('[REDACTED]');
    return s;
  };

  async function handleCall(req: http.IncomingMessage, res: http.ServerResponse, route: Route, t0: number): Promise<void> {
    const client = CODECS[route.protocol];
    const token = tokenOf(req);
    const ro = token ? rollouts.get(token) : undefined;
    if (!ro) {
      req.resume();
      return sendError(res, client, 401, 'authentication', token ? 'invalid gateway token' : 'missing gateway token (send Authorization: Bearer <token> or x-api-key)');
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, settings.max_body_bytes);
    } catch (e) {
      if (e instanceof GatewayError) return sendError(res, client, e.status, e.kind, e.message, { connection: 'close' });
      throw e;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      return sendError(res, client, 400, 'invalid_request', `request body is not valid JSON (${(e as Error).message})`);
    }
    if (!isObj(body)) return sendError(res, client, 400, 'invalid_request', 'request body must be a JSON object');
    if (typeof body.model !== 'string' || !body.model) return sendError(res, client, 400, 'invalid_request', 'model must be a non-empty string naming a configured model');
    const ep = endpoints.get(body.model) ?? aliasOf(body.model);
    if (!ep) return sendError(res, client, 404, 'not_found', `model "${body.model}" is not configured in the gateway (known: ${[...endpoints.keys()].join(', ') || 'none'})`);
    if (route.kind === 'count_tokens') return countTokens(res, client, body, ep);

    const upCodec = CODECS[ep.protocol];
    const same = ep.protocol === route.protocol;
    let ir: IRRequest;
    try {
      ir = client.parseRequest(body, { target: ep.protocol });
    } catch (e) {
      if (e instanceof GatewayError) return sendError(res, client, e.status, e.kind, e.message);
      throw e;
    }

    const over = ro.overBudget();
    if (over) {
      ro.append({ type: 'note', level: 'warning', message: `gateway refused a call to ${ep.name}: ${over}` });
      return sendError(res, client, 403, 'budget', `outlast gateway: ${over}`, { 'x-outlast-budget': 'exhausted' });
    }

    // The upstream request body.
    let upBody: Record<string, unknown>;
    try {
      if (same) {
        upBody = { ...body, model: ep.upstream_model };
        if (ep.protocol === 'openai-chat' && ir.stream) upBody.stream_options = { ...(isObj(body.stream_options) ? body.stream_options : {}), include_usage: true };
      } else {
        if (ep.protocol === 'anthropic') ro.restoreReasoning(ir.messages);
        upBody = { model: ep.upstream_model, ...upCodec.buildRequest(ir, route.protocol) };
      }
      if (ep.extra_params) Object.assign(upBody, ep.extra_params);
    } catch (e) {
      if (e instanceof GatewayError) return sendError(res, client, e.status, e.kind, e.message);
      throw e;
    }

    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'outlast-gateway' };
    const key = ep.api_key_env ? env[ep.api_key_env] : undefined;
    if (ep.api_key_env && !key) return sendError(res, client, 500, 'upstream', `gateway: environment variable ${ep.api_key_env} (the key for model "${ep.name}") is not set`);
    if (ep.protocol === 'anthropic') {
      const v = same ? req.headers['anthropic-version'] : undefined;
      headers['anthropic-version'] = typeof v === 'string' ? v : '2023-06-01';
      const beta = same ? req.headers['anthropic-beta'] : undefined;
      if (typeof beta === 'string') headers['anthropic-beta'] = beta;
      if (key) headers['x-api-key'] = key;
    } else if (key) headers.authorization = `Bearer ${key}`;
    if (ir.stream) headers.accept = 'text/event-stream';

    const callId = genId('call_');
    const { pricing, price_table } = resolvePricing(ep);
    const meter = new CallMeter(t0);
    const bodyText = JSON.stringify(upBody);
    meter.requestChars = bodyText.length;
    const ac = new AbortController();
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        clientGone = true;
        ac.abort(new Error('client closed the connection'));
      }
    });

    ro.inflight++;
    let recorded = false;
    const record = (status: number, retries: number, retry_wait_ms: number, error?: { message: string; infra: boolean }) => {
      if (recorded) return;
      recorded = true;
      ro.inflight--;
      // A call that failed before any output is charged nothing rather than an estimate of its prompt.
      const m = meter.result(pricing, performance.now(), { estimate: !(error && meter.firstTokenAt === null) });
      ro.append({
        type: 'model.response',
        call_id: callId,
        protocol: ep.protocol,
        model: ep.name,
        status,
        usage: m.usage,
        usage_estimated: m.usage_estimated,
        ttft_ms: ir.stream ? m.ttft_ms : null,
        duration_ms: m.duration_ms,
        output_tps: ir.stream ? m.output_tps : null,
        cost_usd: m.cost_usd,
        price_table,
        retries,
        retry_wait_ms: Math.round(retry_wait_ms),
        finish_reason: m.finish_reason,
        ...(error ? { error: { message: scrub(error.message), infra: error.infra } } : {}),
      });
      log?.info({ rollout: ro.rolloutId, call: callId, model: ep.name, status, ttft_ms: m.ttft_ms, duration_ms: m.duration_ms, retries }, 'model call');
    };

    /** End the response, then record the call: as given once it is fully sent, as 499 if the client left first. */
    const endThenRecord = (text: string, status: number, retries: number, wait: number, error?: { message: string; infra: boolean }) => {
      const done = () => {
        if (res.writableFinished) record(status, retries, wait, error);
        else record(499, retries, wait, error ?? { message: 'client closed the connection', infra: false });
      };
      res.once('close', done);
      res.end(text, done);
    };
    const forward = async (): Promise<void> => {
      // The upstream request goes out before the request event is written, so the disk write overlaps the upstream's work.
      const pending = postUpstream(agent, ep.base_url + upCodec.path, headers, bodyText, settings, ac.signal);
      pending.catch(() => {});
      ro.append({
        type: 'model.request',
        call_id: callId,
        client_protocol: route.protocol,
        protocol: ep.protocol,
        model: ep.name,
        upstream_model: ep.upstream_model,
        stream: ir.stream,
        messages: ir.messages.length,
        tools: ir.tools.length,
      });

      let up;
      try {
        up = await pending;
      } catch (e) {
        if (clientGone) {
          const spent = e instanceof UpstreamAborted ? e : { retries: 0, retry_wait_ms: 0 };
          return record(499, spent.retries, spent.retry_wait_ms, { message: 'client closed the connection', infra: false });
        }
        if (e instanceof UpstreamFailure) {
          record(e.timeout ? 504 : 502, e.retries, e.retry_wait_ms, { message: e.message, infra: true });
          return sendError(res, client, e.timeout ? 504 : 502, e.timeout ? 'timeout' : 'upstream', `outlast gateway: ${e.message}`);
        }
        record(502, 0, 0, { message: `upstream request failed: ${(e as Error).message}`, infra: true });
        return sendError(res, client, 502, 'upstream', 'outlast gateway: upstream request failed');
      }

      if (up.status >= 300 || !up.body) {
        const text = scrub(up.errorText ?? '');
        let parsed: unknown = null;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = null;
        }
        const message = upstreamErrorMessage(parsed, `upstream answered HTTP ${up.status}`);
        const infra = up.status === 429 || up.status >= 500 || up.status === 401 || up.status === 403;
        record(up.status, up.retries, up.retry_wait_ms, { message: `upstream HTTP ${up.status}: ${message}`, infra });
        const extra: Record<string, string> = {};
        const ra = up.headers['retry-after'];
        if (typeof ra === 'string') extra['retry-after'] = ra;
        if (same && parsed !== null) return sendJson(res, up.status, parsed, extra);
        return sendError(res, client, up.status, kindForStatus(up.status), message, extra);
      }

      const upBodyStream = up.body;
      if (!ir.stream) {
        // Non-streaming: read the whole upstream answer, then convert.
        let text: string;
        try {
          text = await upBodyStream.text();
        } catch (e) {
          if (clientGone) return record(499, up.retries, up.retry_wait_ms, { message: 'client closed the connection', infra: false });
          record(502, up.retries, up.retry_wait_ms, { message: `upstream response cut: ${(e as Error).message}`, infra: true });
          return sendError(res, client, 502, 'upstream', 'outlast gateway: upstream response was cut off');
        }
        let parsed: unknown;
        let irResp;
        try {
          parsed = JSON.parse(text);
          irResp = upCodec.parseResponse(parsed);
        } catch (e) {
          record(502, up.retries, up.retry_wait_ms, { message: `upstream sent a malformed response (${(e as Error).message.slice(0, 200)})`, infra: true });
          return sendError(res, client, 502, 'upstream', 'outlast gateway: upstream sent a malformed response');
        }
        meter.observeResponse(irResp);
        if (!same && route.protocol !== 'anthropic') ro.rememberReasoning(irResp.content);
        const outText = same ? text : JSON.stringify(client.buildResponse(irResp, ir));
        res.writeHead(200, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(outText), 'x-outlast-call-id': callId });
        endThenRecord(outText, 200, up.retries, up.retry_wait_ms);
        return;
      }

      // Streaming: pass events through as they arrive.
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-outlast-call-id': callId });
      res.flushHeaders();
      const decoder = upCodec.createDecoder();
      const encoder = same ? null : client.createEncoder(ir);
      const dropUsageChunk = same && ep.protocol === 'openai-chat' && !ir.include_usage;
      const remember = !same && route.protocol !== 'anthropic';
      const reasoningParts: { text: string; signature?: string }[] = [];
      const redacted: string[] = [];
      let firstToolId: string | null = null;
      let out = '';
      let sawFinish = false;
      let failure: { message: string; status: number } | null = null;
      let upstreamError: string | null = null;
      const parser = createParser({
        onEvent: (msg) => {
          if (failure || msg.data.trim() === '') return;
          let evs: IRStreamEvent[];
          try {
            evs = decoder.push(msg.event, msg.data);
          } catch (e) {
            failure = { message: `upstream sent a malformed stream event (${(e as Error).message.slice(0, 120)})`, status: 502 };
            return;
          }
          const now = performance.now();
          // A chunk carrying nothing but usage (the include_usage chunk the client did not ask for) is dropped.
          let onlyUsage = evs.some((e) => e.type === 'usage');
          for (const ev of evs) {
            meter.observe(ev, now);
            if (ev.type === 'finish') sawFinish = true;
            else if (ev.type === 'error') upstreamError = ev.message;
            if (ev.type !== 'usage' && ev.type !== 'start') onlyUsage = false;
            if (remember) {
              if (ev.type === 'reasoning') {
                const last = reasoningParts[reasoningParts.length - 1];
                if (!last || last.signature !== undefined) reasoningParts.push({ text: ev.text });
                else last.text += ev.text;
              } else if (ev.type === 'reasoning_signature') {
                const last = reasoningParts[reasoningParts.length - 1];
                if (last && last.signature === undefined) last.signature = ev.signature;
                else reasoningParts.push({ text: '', signature: ev.signature });
              } else if (ev.type === 'redacted_reasoning') redacted.push(ev.data);
              else if (ev.type === 'tool_call_start' && firstToolId === null) firstToolId = ev.id;
            }
            if (encoder) out += encoder.push(ev);
          }
          if (!encoder && !(dropUsageChunk && onlyUsage)) out += rawSse(msg.event, msg.data);
        },
      });
      const td = new TextDecoder();
      try {
        for await (const chunk of upBodyStream) {
          parser.feed(td.decode(chunk as Uint8Array, { stream: true }));
          if (out) {
            const s = out;
            out = '';
            if (!res.write(s) && !clientGone) await drained(res);
          }
          if (failure || clientGone) break;
        }
      } catch (e) {
        if (!clientGone && !failure) failure = { message: `upstream stream cut after the first byte (${(e as Error).message})`, status: 502 };
      }
      if (failure === null && !clientGone && !decoder.done && !sawFinish && upstreamError === null) failure = { message: 'upstream stream ended before its end marker (cut after the first byte)', status: 502 };
      if (failure || clientGone) upBodyStream.destroy();
      if (remember && (reasoningParts.length || redacted.length)) {
        const content = [
          ...reasoningParts.map((p) => ({ type: 'reasoning' as const, text: p.text, ...(p.signature ? { signature: p.signature } : {}) })),
          ...redacted.map((data) => ({ type: 'redacted_reasoning' as const, data })),
          ...(firstToolId ? [{ type: 'tool_call' as const, id: firstToolId, name: '', arguments: '' }] : []),
        ];
        ro.rememberReasoning(content);
      }
      if (clientGone) return record(499, up.retries, up.retry_wait_ms, { message: 'client closed the connection', infra: false });
      const f = failure as { message: string; status: number } | null;
      if (f) {
        endThenRecord(out + client.streamError('upstream', `outlast gateway: ${f.message}`), f.status, up.retries, up.retry_wait_ms, { message: f.message, infra: true });
        return;
      }
      const tail = out + (encoder ? encoder.end() : '');
      const ue = upstreamError as string | null;
      endThenRecord(tail, ue ? 502 : 200, up.retries, up.retry_wait_ms, ue ? { message: `upstream stream error: ${ue}`, infra: true } : undefined);
    };
    try {
      await forward();
    } catch (e) {
      // Never leave a call unrecorded or counted as in flight.
      record(500, 0, 0, { message: `gateway internal error: ${(e as Error).message}`, infra: true });
      throw e;
    }
  }

  async function countTokens(res: http.ServerResponse, client: Codec, body: Record<string, any>, ep: ModelEndpoint): Promise<void> {
    let ir: IRRequest;
    try {
      ir = client.parseRequest({ max_tokens: 1, ...body }, { target: 'anthropic' });
    } catch (e) {
      if (e instanceof GatewayError) return sendError(res, client, e.status, e.kind, e.message);
      throw e;
    }
    if (ep.protocol === 'anthropic') {
      const key = ep.api_key_env ? env[ep.api_key_env] : undefined;
      const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
      if (key) headers['x-api-key'] = key;
      try {
        const up = await postUpstream(agent, ep.base_url + '/messages/count_tokens', headers, JSON.stringify({ ...body, model: ep.upstream_model }), { ...settings, max_retries: Math.min(settings.max_retries, 2) });
        const text = up.body ? await up.body.text() : (up.errorText ?? '');
        try {
          return sendJson(res, up.status, JSON.parse(scrub(text)));
        } catch {
          /* fall through to the estimate */
        }
      } catch {
        /* fall through to the estimate */
      }
    }
    const chars = JSON.stringify({ m: ir.messages, t: ir.tools }).length;
    sendJson(res, 200, { input_tokens: Math.ceil(chars / 4) }, { 'x-outlast-estimate': 'true' });
  }

  function handleModels(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
    const anthropicClient = req.headers['anthropic-version'] !== undefined;
    const client = CODECS[anthropicClient ? 'anthropic' : 'openai-chat'];
    const token = tokenOf(req);
    if (!token || !rollouts.has(token)) return sendError(res, client, 401, 'authentication', token ? 'invalid gateway token' : 'missing gateway token');
    const item = (m: ModelEndpoint) =>
      anthropicClient
        ? { type: 'model', id: m.name, display_name: m.name, created_at: '1970-01-01T00:00:00Z' }
        : { id: m.name, object: 'model', created: 0, owned_by: 'outlast-gateway' };
    if (path.startsWith('/v1/models/')) {
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      const m = endpoints.get(id) ?? aliasOf(id);
      if (!m) return sendError(res, client, 404, 'not_found', `model "${id}" is not configured in the gateway`);
      return sendJson(res, 200, item(m));
    }
    const data = [...endpoints.values()].map(item);
    if (anthropicClient) return sendJson(res, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null });
    sendJson(res, 200, { object: 'list', data });
  }

  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
    const t0 = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = (q === -1 ? url : url.slice(0, q)).replace(/\/+$/, '') || '/';
    const route = ROUTES[path];
    const fallbackCodec = CODECS[req.headers['anthropic-version'] !== undefined || path.startsWith('/v1/messages') ? 'anthropic' : 'openai-chat'];
    const fail = (e: unknown) => {
      log?.error({ err: scrub(String((e as Error)?.stack ?? e)) }, 'gateway internal error');
      try {
        sendError(res, route ? CODECS[route.protocol] : fallbackCodec, 500, 'upstream', 'outlast gateway: internal error');
      } catch {
        res.destroy();
      }
    };
    try {
      if (route) {
        if (req.method !== 'POST') {
          req.resume();
          return sendError(res, CODECS[route.protocol], 405, 'invalid_request', `${req.method} is not allowed on ${path}; use POST`, { allow: 'POST' });
        }
        handleCall(req, res, route, t0).catch(fail);
        return;
      }
      req.resume();
      if (path === '/health') return sendJson(res, 200, { ok: true });
      if (path === '/v1/models' || path.startsWith('/v1/models/')) {
        if (req.method !== 'GET') return sendError(res, fallbackCodec, 405, 'invalid_request', `${req.method} is not allowed on ${path}; use GET`, { allow: 'GET' });
        return handleModels(req, res, path);
      }
      sendError(res, fallbackCodec, 404, 'not_found', `no such endpoint: ${req.method} ${path}`);
    } catch (e) {
      fail(e);
    }
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    registerRollout(o) {
      const token = o.token ?? mintToken();
      rollouts.set(token, new RolloutState(o.rolloutId, token, o.log, o.budget ?? {}));
      return token;
    },
    unregister(token) {
      rollouts.delete(token);
    },
    spent(token) {
      const r = rollouts.get(token);
      return r ? { ...r.spent } : null;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await agent.destroy().catch(() => {});
    },
  };
}

export type { Budget, Spent } from './rollouts.js';
export type { TrajectoryWriter };
