// POST /v1/messages/count_tokens: forwarded to an Anthropic endpoint (scrubbed on the way back),
// else estimated at 4 characters per token (header x-outlast-estimate: true). Not metered: it
// costs nothing upstream.
import type http from 'node:http';
import type { GatewayCore } from './call.js';
import type { IRRequest } from './ir.js';
import { CODECS } from './protocols/index.js';
import { Refusal, sendJson, sendRefusal } from './respond.js';
import { authenticate } from './stages/auth.js';
import { readBody } from './stages/body.js';
import { converting, parseJson, resolveEndpoint } from './stages/parse.js';
import { postUpstream, readText } from './upstream.js';

async function forwarded(core: GatewayCore, body: Record<string, unknown>, upstreamModel: string, baseUrl: string, keyEnv: string | undefined): Promise<unknown | null> {
  const key = keyEnv ? core.env[keyEnv] : undefined;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'accept-encoding': 'identity' };
  if (key) headers['x-api-key'] = key;
  try {
    const up = await postUpstream(core.agent, baseUrl + '/messages/count_tokens', headers, JSON.stringify({ ...body, model: upstreamModel }), { ...core.settings, max_retries: Math.min(core.settings.max_retries, 2) }, AbortSignal.timeout(core.settings.call_timeout_ms));
    if (up.status !== 200) return null;
    return JSON.parse(core.scrubber().scrub(up.body ? await readText(up.body, 1 << 20) : (up.errorText ?? '')));
  } catch {
    return null;
  }
}

export async function handleCountTokens(core: GatewayCore, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const client = CODECS.anthropic;
  let release = () => {};
  try {
    authenticate(req, core.rollouts);
    const read = await readBody(req, core.settings, core.buffered);
    release = read.release;
    const body = parseJson(read.raw);
    const ep = resolveEndpoint(core.endpoints, body.model);
    const ir: IRRequest = converting(() => client.parseRequest({ max_tokens: 1, ...body }, { target: 'anthropic' }));
    if (ep.protocol === 'anthropic') {
      const answer = await forwarded(core, body, ep.upstream_model, ep.base_url, ep.api_key_env);
      if (answer !== null) return sendJson(res, 200, answer);
    }
    const chars = JSON.stringify({ m: ir.messages, t: ir.tools }).length;
    sendJson(res, 200, { input_tokens: Math.ceil(chars / 4) }, { 'x-outlast-estimate': 'true' });
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    req.resume();
    sendRefusal(res, client, e);
  } finally {
    release();
  }
}
