// Stage 5, build the upstream request: the client's body passed through (only `model`,
// `extra_params` and Chat's include_usage changed) when both sides speak one protocol, else the IR
// rebuilt in the upstream's protocol; and the headers, with the upstream key (the only place it is
// read) and nothing of the client's but Anthropic's version and beta flags on a passthrough. When
// the budget left less than the request's output limit, the limit is lowered to what is left.
import type http from 'node:http';
import type { ModelEndpoint } from '../../core/types.js';
import { isObj } from '../ir.js';
import { CODECS } from '../protocols/index.js';
import { Refusal } from '../respond.js';
import type { RolloutState } from '../rollouts.js';
import { converting, type ParsedCall } from './parse.js';

export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The field that limits a request's output, per protocol (Chat: the one the client used). */
function outputField(body: Record<string, unknown>, protocol: ModelEndpoint['protocol']): string {
  if (protocol === 'openai-responses') return 'max_output_tokens';
  if (protocol === 'openai-chat' && body.max_completion_tokens !== undefined) return 'max_completion_tokens';
  return 'max_tokens';
}

function upstreamBody(call: ParsedCall, ro: RolloutState, clientProtocol: ModelEndpoint['protocol'], outputLimit: number | undefined): Record<string, unknown> {
  const { body, ep, ir, same } = call;
  let out: Record<string, unknown>;
  if (same) {
    out = { ...body, model: ep.upstream_model };
    if (ep.protocol === 'openai-chat' && ir.stream) out.stream_options = { ...(isObj(body.stream_options) ? body.stream_options : {}), include_usage: true };
  } else {
    if (ep.protocol === 'anthropic') ro.restoreReasoning(ir.messages);
    const req = outputLimit === undefined ? ir : { ...ir, max_tokens: outputLimit };
    out = { model: ep.upstream_model, ...converting(() => CODECS[ep.protocol].buildRequest(req, clientProtocol)) };
  }
  if (ep.extra_params) Object.assign(out, ep.extra_params);
  if (outputLimit !== undefined) {
    const field = outputField(out, ep.protocol);
    if (typeof out[field] !== 'number' || (out[field] as number) > outputLimit) out[field] = outputLimit;
  }
  return out;
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
  const body = converting(() => JSON.stringify(upstreamBody(call, ro, clientProtocol, outputLimit)));
  return { url: call.ep.base_url + CODECS[call.ep.protocol].path, headers, body };
}
