// Stage 3, parse: the body as JSON (a malformed or absurdly nested body is the client's 400, never a
// 500), the endpoint its `model` names (404 when none), and the request in the IR through the
// client's codec. With the same protocol on both sides the IR only validates and the body itself is
// what goes upstream: then the body is read from where the rollout's previous request ends
// (passthrough.ts), in proportion to what is new; anything unexpected there, and every translated
// call, takes the exact path (the whole body parsed, the codec over all of it).
import type { ModelEndpoint, Protocol } from '../../core/types.js';
import type { ModelsConfig } from '../../models/config.js';
import { GatewayError, type IRRequest, isObj } from '../ir.js';
import { countsOf, scanRequest, validateScanned } from '../passthrough.js';
import type { BodyScan } from '../../core/json-prefix.js';
import type { PrefixCache } from '../prefix-cache.js';
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
  ep: ModelEndpoint;
  /**
   * The client protocol's request in the IR (validated). On the scanned passthrough its messages are
   * only the part of the conversation that was new; everything else in it is the whole request's.
   */
  ir: IRRequest;
  /** Client and upstream speak the same protocol: the body passes through. */
  same: boolean;
  /** Items in the client's messages (or input) list, and its tools, as sent. */
  counts: { messages: number; tools: number };
  /** The body parsed whole (the exact path). */
  body?: Record<string, any>;
  /** The body as scanned (the passthrough fast path): the upstream body is spliced from its bytes. */
  scan?: BodyScan;
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

/**
 * The call understood: through the fast path when the rollout's cache is given and the body allows,
 * else the exact one. `onModel` hears the body's model name as soon as it is known (for the record of
 * a refusal).
 */
export function parseCall(raw: Buffer, client: Codec, endpoints: Endpoints, cache: PrefixCache | null, onModel: (name: string) => void): ParsedCall {
  const fast = cache ? scanRequest(raw, client, cache) : null;
  const fastEp = fast ? endpoints.resolve(fast.model) : undefined;
  if (fast && fastEp?.protocol === client.protocol) {
    const ir = validateScanned(fast, client, cache!);
    if (ir) {
      onModel(fast.model);
      return { ep: fastEp, ir, same: true, counts: fast.counts, scan: fast.scan };
    }
  }
  const body = parseJson(raw);
  onModel(body.model);
  const ep = resolveEndpoint(endpoints, body.model);
  const target: Protocol = ep.protocol;
  const ir = converting(() => client.parseRequest(body, { target }));
  // A translated body that scanned: its bytes are now known good, so the next request reads on from it.
  if (fast && cache) cache.remember(fast.scan);
  return { body, ep, ir, same: target === client.protocol, counts: countsOf((k) => body[k], client.protocol) };
}
