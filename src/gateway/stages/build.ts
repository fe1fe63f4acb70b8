// Stage 5, build the upstream request: the client's body passed through (only `model`,
// `extra_params` and Chat's include_usage changed) when both sides speak one protocol, else the IR
// rebuilt in the upstream's protocol; and the headers, with the upstream key (the only place it is
// read) and nothing of the client's but Anthropic's version and beta flags on a passthrough. When
// the budget left less than the request's output limit, the limit is lowered to what is left. A
// scanned passthrough body is not re-serialized: the changed members are spliced into its bytes.
import type http from 'node:http';
import type { ModelEndpoint } from '../../core/types.js';
import { isObj } from '../ir.js';
import { splice } from '../passthrough.js';
import { CODECS } from '../protocols/index.js';
import { Refusal } from '../respond.js';
import type { RolloutState } from '../rollouts.js';
import { converting, type ParsedCall } from './parse.js';

export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
  /** JSON text, or (a spliced passthrough) pieces sent one after another. */
  body: string | Buffer[];
  /** The body's length in bytes. */
  bytes: number;
}

/** The field that limits a request's output, per protocol (Chat: the one the client used). */
function outputField(get: (key: string) => unknown, protocol: ModelEndpoint['protocol']): string {
  if (protocol === 'openai-responses') return 'max_output_tokens';
  if (protocol === 'openai-chat' && get('max_completion_tokens') !== undefined) return 'max_completion_tokens';
  return 'max_tokens';
}

/**
 * What a passthrough changes in the client's body, in the order a plain object would take the new
 * keys: `model`, Chat's stream_options (usage is always asked for, to meter), extra_params, and the
 * output limit when the budget lowered it. `get` reads the client's top-level values.
 */
function passthroughChanges(get: (key: string) => unknown, ep: ModelEndpoint, ir: ParsedCall['ir'], outputLimit: number | undefined): Map<string, unknown> {
  const set = new Map<string, unknown>([['model', ep.upstream_model]]);
  const so = get('stream_options');
  if (ep.protocol === 'openai-chat' && ir.stream) set.set('stream_options', { ...(isObj(so) ? so : {}), include_usage: true });
  for (const [k, v] of Object.entries(ep.extra_params ?? {})) set.set(k, v);
  if (outputLimit !== undefined) {
    const now = (k: string) => (set.has(k) ? set.get(k) : get(k));
    const field = outputField(now, ep.protocol);
    const v = now(field);
    if (typeof v !== 'number' || v > outputLimit) set.set(field, outputLimit);
  }
  return set;
}

function upstreamBody(call: ParsedCall, ro: RolloutState, clientProtocol: ModelEndpoint['protocol'], outputLimit: number | undefined): string | Buffer[] {
  const { body, scan, ep, ir, same } = call;
  if (same && scan) return splice(scan, passthroughChanges((k) => scan.values.get(k), ep, ir, outputLimit));
  if (same && body) {
    const out: Record<string, unknown> = { ...body };
    for (const [k, v] of passthroughChanges((k) => body[k], ep, ir, outputLimit)) out[k] = v;
    return JSON.stringify(out);
  }
  if (ep.protocol === 'anthropic') ro.restoreReasoning(ir.messages);
  const req = outputLimit === undefined ? ir : { ...ir, max_tokens: outputLimit };
  const out: Record<string, unknown> = { model: ep.upstream_model, ...converting(() => CODECS[ep.protocol].buildRequest(req, clientProtocol)) };
  if (ep.extra_params) Object.assign(out, ep.extra_params);
  if (outputLimit !== undefined) {
    const field = outputField((k) => out[k], ep.protocol);
    if (typeof out[field] !== 'number' || (out[field] as number) > outputLimit) out[field] = outputLimit;
  }
  return JSON.stringify(out);
}

function upstreamHeaders(ep: ModelEndpoint, same: boolean, stream: boolean, client: http.IncomingHttpHeaders, env: NodeJS.ProcessEnv): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'outlast-gateway', 'accept-encoding': 'identity' };
  const key = ep.api_key_env ? env[ep.api_key_env] : undefined;
  if (ep.api_key_env && !key) throw new Refusal(500, 'upstream', `gateway: environment variable ${ep.api_key_env} (the key for model "${ep.name}") is not set`, 'misconfigured');
  if (ep.protocol === 'anthropic') {
    const v = same ? client['anthropic-version'] : undefined;
    headers['anthropic-version'] = typeof v === 'string' && /^[\w.-]{1,40}$/.test(v) ? v : '2023-06-01';
    const beta = same ? client['anthropic-beta'] : undefined;
    if (typeof beta === 'string' && /^[\w.,-]{1,1000}$/.test(beta)) headers['anthropic-beta'] = beta;
    if (key) headers['x-api-key'] = key;
  } else if (key) headers.authorization = `Bearer ${key}`;
  if (stream) headers.accept = 'text/event-stream';
  return headers;
}

export function buildUpstream(call: ParsedCall, ro: RolloutState, clientProtocol: ModelEndpoint['protocol'], clientHeaders: http.IncomingHttpHeaders, env: NodeJS.ProcessEnv, outputLimit?: number): UpstreamRequest {
  const headers = upstreamHeaders(call.ep, call.same, call.ir.stream, clientHeaders, env);
  const body = converting(() => upstreamBody(call, ro, clientProtocol, outputLimit));
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.reduce((n, b) => n + b.length, 0);
  if (typeof body !== 'string') headers['content-length'] = String(bytes);
  return { url: call.ep.base_url + CODECS[call.ep.protocol].path, headers, body, bytes };
}
