// The scripted model server: a real node:http server on 127.0.0.1 speaking OpenAI Chat Completions,
// OpenAI Responses and Anthropic Messages, answering from a script. A long conversation costs it what
// is new in each request (body.ts, the normalisers' memo, promptTokens), except for the prompt-prefix
// cache (`cache`), which hashes the whole prompt of every request.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../../core/errors.js';
import type { Protocol, Usage } from '../../core/types.js';
import { anthropic } from './anthropic.js';
import { chat } from './chat.js';
import { totalMs, sleepUntil } from './pacing.js';
import { outputTokens, toReplyCalls, type ProtocolHandler, type Reply } from './protocol.js';
import { responses } from './responses.js';
import { BodyReader, type ReadBody } from './body.js';
import { conversation } from './conversation.js';
import { parseTurn } from './script.js';
import { appendRecord } from './record.js';
import { streamEvents } from './sse.js';
import { PrefixCache, inputTokens, promptText, promptTokens } from './tokens.js';
import type { NormalizedMessage, NormalizedTool, RecordedRequest, ScriptedModel, ScriptedModelOptions, ScriptedTurn } from './types.js';

const ROUTES: Record<string, ProtocolHandler> = {
  '/v1/chat/completions': chat,
  '/v1/responses': responses,
  '/v1/messages': anthropic,
};

const MAX_BODY_BYTES = 64 * 1024 * 1024;
export const EXHAUSTED_TEXT = 'script exhausted';
const MODEL_ID = 'scripted-model';

interface Selected {
  turn: ScriptedTurn;
  index: number;
  /** Set when this request gets a retryable fault and the turn does not advance. */
  retryable?: boolean;
}

/** Defaults of ScriptedModelOptions.keep_requests and keep_bodies. */
export const KEEP_REQUESTS = 1000;
export const KEEP_BODIES = 32;
/** Responses conversations kept for `previous_response_id` (the oldest are forgotten first). */
const KEEP_STORED = 256;

class ScriptedServer {
  readonly requests: RecordedRequest[] = [];
  requestsSeen = 0;
  turnsServed = 0;
  private seq = 0;
  private readonly faultAttempts = new Map<number, number>();
  private readonly cache = new PrefixCache();
  private readonly bodies = new BodyReader();
  /** Time spent answering requests once their body was in (see ScriptedModel.busyMs), in busy[0]. */
  readonly busy: Float64Array;
  /** Responses conversations by response id, for `previous_response_id`. */
  private readonly stored = new Map<string, NormalizedMessage[]>();
  private lock: Promise<unknown> = Promise.resolve();
  /** One per response in progress; aborted when its client goes away or the server closes. */
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly opts: ScriptedModelOptions) {
    this.busy = opts.busy ?? new Float64Array(1);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrival = performance.now();
    req.socket.setNoDelay(true);
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const seq = ++this.seq;
    const query = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1) : '';
    const looksAnthropic = path.startsWith('/v1/messages') || 'anthropic-version' in headers;
    const guess: ProtocolHandler = ROUTES[path] ?? (looksAnthropic ? anthropic : chat);
    res.setHeader(guess === anthropic ? 'request-id' : 'x-request-id', `req_scripted_${seq}`);

    if (req.method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
      this.record({ protocol: guess.protocol, path, headers, body: undefined, body_bytes: 0, at: Date.now() });
      if (!this.authorized(headers)) return this.error(res, guess, 401, authMessage(guess));
      const model = { id: MODEL_ID, object: 'model', type: 'model', created: 0, created_at: '1970-01-01T00:00:00Z', owned_by: 'outlast', display_name: 'Scripted model' };
      if (path === '/v1/models') return sendJson(res, 200, { object: 'list', data: [model], has_more: false, first_id: MODEL_ID, last_id: MODEL_ID });
      let id = path.slice('/v1/models/'.length);
      try {
        id = decodeURIComponent(id);
      } catch {
        // keep it as sent
      }
      return sendJson(res, 200, { ...model, id });
    }
    const isCount = path === '/v1/messages/count_tokens';
    const handler = isCount ? anthropic : ROUTES[path];
    if (!handler) {
      await drain(req);
      return this.error(res, guess, 404, `unknown endpoint: ${req.method} ${path}`);
    }
    if (req.method !== 'POST') {
      await drain(req);
      return this.error(res, handler, 405, `method ${req.method} not allowed on ${path}; use POST`);
    }

    const chunks = await readBody(req);
    if (chunks === undefined) return; // the client went away mid-request
    if (chunks === null) return this.error(res, handler, 413, `request body over ${MAX_BODY_BYTES} bytes`);
    const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (this.opts.record_file) appendRecord(this.opts.record_file, { seq, at: Date.now(), protocol: handler.protocol, method: req.method, path, query, headers, body: parsedOrText(raw) });
    try {
      await this.answer(res, { handler, path, headers, isCount, arrival, seq }, raw);
    } finally {
      this.busy[0]! += performance.now() - arrival;
    }
  }

  /** Answer a request whose body is in. */
  private async answer(res: ServerResponse, r: { handler: ProtocolHandler; path: string; headers: Record<string, string>; isCount: boolean; arrival: number; seq: number }, raw: Buffer): Promise<void> {
    const { handler, path, headers, isCount, arrival, seq } = r;
    const listKey = handler === responses ? 'input' : 'messages';
    let read: ReadBody;
    try {
      read = this.bodies.parse(raw, listKey);
    } catch (e) {
      this.record({ protocol: handler.protocol, path, headers, body: raw.toString('utf8'), body_bytes: raw.length, at: Date.now() });
      return this.error(res, handler, 400, `the request body is not valid JSON: ${(e as Error).message}`);
    }
    const body = read.body as any;
    this.record({ protocol: handler.protocol, path, headers, body, body_bytes: raw.length, at: Date.now() });
    if (!this.authorized(headers)) return this.error(res, handler, 401, authMessage(handler));
    const invalid = handler.validate(body, read.reused) ?? (handler === anthropic && !isCount && body.max_tokens === undefined ? 'max_tokens: Field required' : null);
    if (invalid) return this.error(res, handler, 400, invalid);
    const conv = conversation(handler, read, body[listKey]);
    const { messages, tools } = conv;
    if (handler === responses && typeof body.previous_response_id === 'string') {
      const previous = this.stored.get(body.previous_response_id);
      if (!previous) return this.error(res, handler, 400, `Previous response with id '${body.previous_response_id}' not found.`);
      const lead = messages.findIndex((m) => m.role !== 'system');
      messages.splice(lead < 0 ? messages.length : lead, 0, ...previous);
    }
    const input = conv.tokens ?? promptTokens(messages, tools);
    if (isCount) return sendJson(res, 200, { input_tokens: input });

    let sel: Selected;
    try {
      sel = await this.select(handler.protocol, body, messages, tools);
    } catch (e) {
      return this.error(res, handler, 500, `scripted policy failed: ${(e as Error).message}`);
    }
    const { turn } = sel;
    const fault = turn.fault;
    if (sel.retryable && fault?.kind === 'rate_limit') {
      res.setHeader('retry-after', String(fault.retry_after_sec ?? 1));
      return this.error(res, handler, 429, 'rate limit exceeded (scripted fault)');
    }
    if (sel.retryable && fault?.kind === 'server_error') {
      return this.error(res, handler, fault.status ?? 500, 'internal server error (scripted fault)');
    }

    const signal = this.requestSignal(res);
    let start = arrival;
    if (fault?.kind === 'delay') {
      start = arrival + fault.ms;
      await sleepUntil(start, signal);
      if (signal.aborted) return;
    }
    if (fault?.kind === 'hang') return; // never answer; the socket closes when the client or the server gives up

    const reply = this.reply(handler, body, turn, sel.index, seq, { messages, tools, input });
    if (handler === responses && body.store !== false) this.remember(`resp_scripted_${seq}`, messages, reply);
    const ttftMs = turn.ttft_ms ?? this.opts.ttft_ms ?? 0;
    const tokensPerSec = turn.tokens_per_sec ?? this.opts.tokens_per_sec ?? 0;

    if (handler.isStream(body)) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.flushHeaders();
      const streamFault =
        fault?.kind === 'cut' ? { kind: 'cut' as const, after: fault.after_chunks }
        : fault?.kind === 'malformed' ? { kind: 'malformed' as const, after: fault.after_chunks ?? 1 }
        : fault?.kind === 'stall' ? { kind: 'stall' as const, after: fault.after_chunks ?? 1 }
        : undefined;
      await streamEvents(res, handler.events(reply, body), { start, ttftMs, tokensPerSec, outputTokens: reply.usage.output, fault: streamFault, signal });
      return;
    }
    await sleepUntil(start + totalMs(ttftMs, tokensPerSec, reply.usage.output), signal);
    if (!signal.aborted) completeJson(res, JSON.stringify(handler.complete(reply, body)), fault);
  }


  private requestSignal(res: ServerResponse): AbortSignal {
    const ac = new AbortController();
    this.inFlight.add(ac);
    res.on('close', () => {
      this.inFlight.delete(ac);
      ac.abort();
    });
    return ac.signal;
  }

  /** Abort every response in progress (server closing). */
  abortAll(): void {
    for (const ac of this.inFlight) ac.abort();
    this.inFlight.clear();
  }

  /** Pick the turn for a request. Runs one at a time, so concurrent requests get consecutive turns. */
  private select(protocol: Protocol, body: any, messages: NormalizedMessage[], tools: NormalizedTool[]): Promise<Selected> {
    const run = async (): Promise<Selected> => {
      const index = this.turnsServed;
      const script = this.opts.script;
      let turn: ScriptedTurn;
      if (Array.isArray(script)) {
        if (index < script.length) turn = script[index]!;
        else if (this.opts.loop && script.length) turn = script[index % script.length]!;
        else turn = { text: EXHAUSTED_TEXT };
      } else {
        const out = await script({ protocol, body, messages, turnIndex: index, tools, model: String(body.model) });
        turn = parseTurn(out, `policy turn ${index}`);
      }
      const f = turn.fault;
      if (f && (f.kind === 'rate_limit' || f.kind === 'server_error')) {
        const used = this.faultAttempts.get(index) ?? 0;
        if (used < (f.times ?? 1)) {
          this.faultAttempts.set(index, used + 1);
          return { turn, index, retryable: true };
        }
      }
      this.turnsServed++;
      return { turn, index };
    };
    const p = this.lock.then(run);
    this.lock = p.catch(() => undefined);
    return p;
  }

  private reply(handler: ProtocolHandler, body: any, turn: ScriptedTurn, index: number, seq: number, prompt: { messages: NormalizedMessage[]; tools: NormalizedTool[]; input: number }): Reply {
    const toolCalls = toReplyCalls(turn);
    const text = turn.text ?? '';
    const reasoning = turn.reasoning ?? '';
    const input = prompt.input;
    const cached = this.opts.cache === false ? 0 : Math.min(input, this.cache.lookupAndAdd(promptText(prompt.messages, prompt.tools)));
    const cache_write = handler.cacheWrites(body) ? input - cached : 0;
    const out = outputTokens({ text, reasoning, toolCalls });
    const usage: Usage = { input, cached, cache_write, output: out.output, reasoning: out.reasoning, ...definedOnly(turn.usage) };
    return { turn: index, seq, model: String(body.model), text, reasoning, toolCalls, usage, created: Math.floor(Date.now() / 1000) };
  }

  /** Keep a Responses conversation (without its system prompt) for later `previous_response_id` requests. */
  private remember(id: string, messages: NormalizedMessage[], r: Reply): void {
    const said: NormalizedMessage = { role: 'assistant', text: r.text };
    if (r.reasoning) said.reasoning = r.reasoning;
    if (r.toolCalls.length) said.tool_calls = r.toolCalls.map((c, i) => ({ id: c.id ?? `call_${r.turn}_${i}`, name: c.name, arguments: c.input ?? JSON.parse(c.arguments) }));
    this.stored.set(id, [...messages.filter((m) => m.role !== 'system'), said]);
    for (const old of this.stored.keys()) {
      if (this.stored.size <= KEEP_STORED) break;
      this.stored.delete(old);
    }
  }

  /** Record a request: the latest keep_requests are kept, the latest keep_bodies with their body. */
  private record(r: RecordedRequest): void {
    this.requestsSeen++;
    if (this.opts.record_requests === false) return;
    const list = this.requests;
    list.push(r);
    const keepBodies = Math.max(0, this.opts.keep_bodies ?? KEEP_BODIES);
    const old = list[list.length - 1 - keepBodies];
    if (old && old.body !== undefined) {
      old.body = undefined;
      old.body_dropped = true;
    }
    // drop the oldest in batches, so a long run does not shift the array on every request
    const keep = Math.max(1, this.opts.keep_requests ?? KEEP_REQUESTS);
    if (list.length >= keep + Math.max(16, keep >> 3)) list.splice(0, list.length - keep);
  }

  private authorized(headers: Record<string, string>): boolean {
    const key = this.opts.api_key;
    if (!key) return true;
    const auth = headers['authorization'];
    return auth === `Bearer ${key}` || headers['x-api-key'] === key;
  }

  private error(res: ServerResponse, handler: ProtocolHandler, status: number, message: string): void {
    sendJson(res, status, handler.errorBody(status, message));
  }
}

/** A non-streaming answer, cut or broken when the turn's fault says so. */
function completeJson(res: ServerResponse, text: string, fault: ScriptedTurn['fault']): void {
  if (fault?.kind === 'cut') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket?.destroy());
    return;
  }
  if (fault?.kind === 'malformed') {
    const broken = text.slice(0, Math.floor(text.length / 2)) + ' <- malformed (scripted fault)';
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(broken) });
    res.end(broken);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function authMessage(h: ProtocolHandler): string {
  return h === anthropic ? 'invalid x-api-key' : 'Incorrect API key provided (scripted model).';
}

function definedOnly(u: Partial<Usage> | undefined): Partial<Usage> {
  const out: Partial<Usage> = {};
  for (const [k, v] of Object.entries(u ?? {})) if (typeof v === 'number') out[k as keyof Usage] = v;
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function parsedOrText(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    req.on('data', () => {});
    req.on('end', resolve);
    req.on('error', () => resolve());
    req.on('close', () => resolve());
  });
}

/** The request body's chunks; null when it is over the size limit; undefined when the request failed. */
function readBody(req: IncomingMessage): Promise<Buffer[] | null | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : chunks));
    req.on('error', () => resolve(undefined));
  });
}

/** Start a scripted model server on 127.0.0.1. */
export async function startScriptedModel(opts: ScriptedModelOptions): Promise<ScriptedModel> {
  if (Array.isArray(opts.script)) opts = { ...opts, script: opts.script.map((t, i) => parseTurn(t, `script turn ${i}`)) };
  const s = new ScriptedServer(opts);
  const server = createServer({ noDelay: true, keepAliveTimeout: 30_000 }, (req, res) => {
    s.handle(req, res).catch((e: unknown) => {
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, { error: { message: `scripted model bug: ${(e as Error).message}`, type: 'server_error', param: null, code: null } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' || e.code === 'EACCES' ? new UserError(`scripted model: cannot listen on 127.0.0.1:${opts.port}: ${e.code}`) : e),
    );
    // A deep accept queue: benchmarks open hundreds of connections at once.
    server.listen({ port: opts.port ?? 0, host: '127.0.0.1', backlog: 4096 }, () => {
      server.removeAllListeners('error');
      server.on('error', () => {}); // e.g. EMFILE on accept: never take the test process down
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: s.requests,
    get requestsSeen() {
      return s.requestsSeen;
    },
    get turnsServed() {
      return s.turnsServed;
    },
    get busyMs() {
      return s.busy[0]!;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        s.abortAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
