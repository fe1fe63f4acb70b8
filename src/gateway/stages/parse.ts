// Stage 3, parse: the body as JSON (a malformed or absurdly nested body is the client's 400, never a
// 500), the endpoint its `model` names (404 when none), and the request in the IR through the
// client's codec. With the same protocol on both sides the IR only validates; the body itself is
// what goes upstream.
import type { ModelEndpoint, Protocol } from '../../core/types.js';
import type { ModelsConfig } from '../../models/config.js';
import { GatewayError, type IRRequest, isObj } from '../ir.js';
import type { Codec } from '../protocols/index.js';
import { Refusal } from '../respond.js';

export class Endpoints {
  private readonly byName: Map<string, ModelEndpoint>;
  private readonly aliases: Record<string, string>;

  constructor(models: ModelsConfig) {
    this.byName = new Map(models.models.map((m) => [m.name, m]));
    this.aliases = models.aliases ?? {};
  }

  resolve(name: string): ModelEndpoint | undefined {
    return this.byName.get(name) ?? (Object.hasOwn(this.aliases, name) ? this.byName.get(this.aliases[name]!) : undefined);
  }

  all(): ModelEndpoint[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

export interface ParsedCall {
  body: Record<string, any>;
  ep: ModelEndpoint;
  /** The client protocol's request in the IR (validated). */
  ir: IRRequest;
  /** Client and upstream speak the same protocol: the body passes through. */
  same: boolean;
}

/** The body as a JSON object with a string `model`, or a Refusal. */
export function parseJson(raw: Buffer): Record<string, any> {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    if (e instanceof RangeError) throw new Refusal(400, 'invalid_request', 'request body is nested too deeply');
    throw new Refusal(400, 'invalid_request', `request body is not valid JSON (${(e as Error).message})`);
  }
  if (!isObj(body)) throw new Refusal(400, 'invalid_request', 'request body must be a JSON object');
  if (typeof body.model !== 'string' || !body.model) throw new Refusal(400, 'invalid_request', 'model must be a non-empty string naming a configured model');
  return body;
}

export function resolveEndpoint(endpoints: Endpoints, model: string): ModelEndpoint {
  const ep = endpoints.resolve(model);
  if (ep) return ep;
  throw new Refusal(404, 'not_found', `model "${model}" is not configured in the gateway (known: ${endpoints.names().join(', ') || 'none'})`);
}

/** Run a codec conversion, turning its errors (and stack exhaustion on hostile nesting) into refusals. */
export function converting<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof GatewayError) throw Refusal.from(e);
    if (e instanceof RangeError) throw new Refusal(400, 'invalid_request', 'request is nested too deeply to convert');
    throw e;
  }
}

export function parseCall(body: Record<string, any>, client: Codec, endpoints: Endpoints): ParsedCall {
  const ep = resolveEndpoint(endpoints, body.model);
  const target: Protocol = ep.protocol;
  const ir = converting(() => client.parseRequest(body, { target }));
  return { body, ep, ir, same: target === client.protocol };
}
