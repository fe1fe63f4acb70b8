// GET /v1/models and /v1/models/{name}: the configured model names, in Anthropic's shape when the
// request has an anthropic-version header, else OpenAI's. A malformed name is a 400, never a 500.
import type http from 'node:http';
import type { ModelEndpoint } from '../core/types.js';
import type { GatewayCore } from './call.js';
import { CODECS } from './protocols/index.js';
import { Refusal, sendError, sendJson, sendRefusal } from './respond.js';
import { authenticate } from './stages/auth.js';

export function handleModels(core: GatewayCore, req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
  const anthropicClient = req.headers['anthropic-version'] !== undefined;
  const client = CODECS[anthropicClient ? 'anthropic' : 'openai-chat'];
  try {
    authenticate(req, core.rollouts);
  } catch (e) {
    return sendRefusal(res, client, e as Refusal);
  }
  const item = (m: ModelEndpoint) =>
    anthropicClient ? { type: 'model', id: m.name, display_name: m.name, created_at: '1970-01-01T00:00:00Z' } : { id: m.name, object: 'model', created: 0, owned_by: 'outlast-gateway' };
  if (path.startsWith('/v1/models/')) {
    let id: string;
    try {
      id = decodeURIComponent(path.slice('/v1/models/'.length));
    } catch {
      return sendError(res, client, 400, 'invalid_request', 'malformed model name in the path (bad % escape)');
    }
    const m = core.endpoints.resolve(id);
    if (!m) return sendError(res, client, 404, 'not_found', `model "${id.slice(0, 200)}" is not configured in the gateway`);
    return sendJson(res, 200, item(m));
  }
  const data = core.endpoints.all().map(item);
  if (anthropicClient) return sendJson(res, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null });
  sendJson(res, 200, { object: 'list', data });
}
