// models.toml: the model endpoints the gateway may forward to, plus gateway settings.
//
//   [gateway]                       # all optional
//   max_retries = 4
//   [[models]]
//   name = "qwen"                   # what clients put in `model`
//   protocol = "openai-chat"        # openai-chat | openai-responses | anthropic
//   base_url = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
//   upstream_model = "qwen3.7-max"
//   api_key_env = "DASHSCOPE_API_KEY"   # the NAME of the variable, never the key
//   context_window = 262144
//   pricing = { input = 2.5, cached_input = 0.25, output = 7.5 }
//   extra_params = { enable_thinking = true }
//   aliases = ["qwen-max-latest"]   # other names clients may send
//
// See docs/gateway.md for the full reference.
import fs from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { UserError, oneLine } from '../core/errors.js';
import type { ModelEndpoint } from '../core/types.js';
import { parseWith } from '../core/validate.js';

export interface GatewaySettings {
  /** Retries after the first attempt for 429, 5xx, connection errors and timeouts before the first byte. */
  max_retries: number;
  /** First backoff in ms; doubles each retry, with jitter (50–100% of the nominal wait). */
  backoff_base_ms: number;
  /** Largest backoff in ms. */
  backoff_max_ms: number;
  /** Largest wait honoured from a Retry-After header, in ms. */
  max_retry_after_ms: number;
  /** Connect timeout in ms. */
  connect_timeout_ms: number;
  /** Time from sending the request to the response headers (first byte), in ms. */
  first_byte_timeout_ms: number;
  /** Longest silence inside a response body, in ms (then the stream counts as cut). */
  idle_timeout_ms: number;
  /** Largest request body accepted, in bytes (413 above). */
  max_body_bytes: number;
  /** End-to-end deadline of one call, retries and streaming included, in ms (then 504, infra). */
  call_timeout_ms: number;
  /** Longest time without new content (tokens) once the response started, in ms; keep-alive comments do not count. */
  progress_timeout_ms: number;
  /** Time a client has to send its request headers, in ms. */
  header_timeout_ms: number;
  /** Time a client has to send its whole request body, in ms (a dribbled upload is cut off). */
  body_timeout_ms: number;
  /** A client connection with no request in progress is closed after this long, in ms. */
  idle_connection_ms: number;
  /** Open client connections per listener; over it, idle ones are closed first, then new ones get 503. */
  max_connections: number;
  /** Request bytes buffered across all requests in flight; over it, 503. */
  max_buffered_bytes: number;
  /** Output tokens reserved against a budget for a call that sets no max_tokens / max_output_tokens. */
  reserve_output_tokens: number;
  /** How far concurrent calls may overspend a token or cost budget, as a fraction (0: a hard cap). */
  budget_tolerance: number;
  /** Keep every request and response body in the rollout's directory (content-addressed). */
  record_bodies: boolean;
}

export const DEFAULT_GATEWAY_SETTINGS: GatewaySettings = {
  max_retries: 4,
  backoff_base_ms: 500,
  backoff_max_ms: 30_000,
  max_retry_after_ms: 60_000,
  connect_timeout_ms: 10_000,
  first_byte_timeout_ms: 600_000,
  idle_timeout_ms: 300_000,
  max_body_bytes: 32 * 1024 * 1024,
  call_timeout_ms: 15 * 60_000,
  progress_timeout_ms: 300_000,
  header_timeout_ms: 30_000,
  body_timeout_ms: 120_000,
  idle_connection_ms: 30_000,
  max_connections: 512,
  max_buffered_bytes: 512 * 1024 * 1024,
  reserve_output_tokens: 4096,
  budget_tolerance: 0,
  record_bodies: false,
};

export interface ModelsConfig {
  models: ModelEndpoint[];
  /** Other names clients may use for a model (e.g. the dated ids an external CLI sends): alias → name. */
  aliases?: Record<string, string>;
  gateway: GatewaySettings;
  /** The file it was loaded from, if any. */
  file?: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const pricingSchema = z
  .object({
    input: z.number().nonnegative(),
    cached_input: z.number().nonnegative().optional(),
    cache_write: z.number().nonnegative().optional(),
    output: z.number().nonnegative(),
  })
  .strict();

const modelSchema = z
  .object({
    name: z.string().min(1),
    protocol: z.enum(['openai-chat', 'openai-responses', 'anthropic']),
    base_url: z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL'),
    upstream_model: z.string().min(1).optional(),
    // Checked separately so a key pasted here by mistake is never echoed in an error message.
    api_key_env: z.string().optional(),
    pricing: pricingSchema.optional(),
    context_window: z.number().int().positive().optional(),
    extra_params: z.record(z.string(), z.unknown()).optional(),
    aliases: z.array(z.string().min(1)).optional(),
  })
  .strict();

const gatewaySchema = z
  .object({
    max_retries: z.number().int().min(0).max(100).optional(),
    backoff_base_ms: z.number().nonnegative().optional(),
    backoff_max_ms: z.number().nonnegative().optional(),
    max_retry_after_ms: z.number().nonnegative().optional(),
    connect_timeout_ms: z.number().positive().optional(),
    first_byte_timeout_ms: z.number().positive().optional(),
    idle_timeout_ms: z.number().positive().optional(),
    max_body_bytes: z.number().int().positive().optional(),
    call_timeout_ms: z.number().positive().optional(),
    progress_timeout_ms: z.number().positive().optional(),
    header_timeout_ms: z.number().positive().optional(),
    body_timeout_ms: z.number().positive().optional(),
    idle_connection_ms: z.number().positive().optional(),
    max_connections: z.number().int().positive().optional(),
    max_buffered_bytes: z.number().int().positive().optional(),
    reserve_output_tokens: z.number().int().positive().optional(),
    budget_tolerance: z.number().nonnegative().optional(),
    record_bodies: z.boolean().optional(),
  })
  .strict();

const fileSchema = z
  .object({
    gateway: gatewaySchema.optional(),
    models: z.array(modelSchema),
  })
  .strict();

/** Validate an already-parsed models config (a TOML document or an equivalent object). */
export function parseModelsConfig(input: unknown, source: string): ModelsConfig {
  const doc = parseWith(fileSchema, input, source);
  const aliases: Record<string, string> = {};
  const names = new Set<string>();
  const models: ModelEndpoint[] = doc.models.map((m, i) => {
    if (names.has(m.name)) throw new UserError(oneLine(`${source}: field models[${i}].name: duplicate model name "${m.name}"`));
    names.add(m.name);
    (m.aliases ?? []).forEach((a, j) => {
      if (Object.hasOwn(aliases, a) || doc.models.some((o) => o.name === a)) throw new UserError(oneLine(`${source}: field models[${i}].aliases[${j}]: "${a}" already names a model`));
      aliases[a] = m.name;
    });
    if (m.api_key_env !== undefined && !ENV_NAME.test(m.api_key_env))
      throw new UserError(`${source}: field models[${i}].api_key_env: must be the name of an environment variable (letters, digits, _), not a key`);
    const ep: ModelEndpoint = { name: m.name, protocol: m.protocol, base_url: m.base_url.replace(/\/+$/, ''), upstream_model: m.upstream_model ?? m.name };
    if (m.api_key_env !== undefined) ep.api_key_env = m.api_key_env;
    if (m.pricing) ep.pricing = { input: m.pricing.input, cached_input: m.pricing.cached_input ?? m.pricing.input, cache_write: m.pricing.cache_write ?? m.pricing.input, output: m.pricing.output };
    if (m.context_window !== undefined) ep.context_window = m.context_window;
    if (m.extra_params) ep.extra_params = m.extra_params;
    return ep;
  });
  return { models, aliases, gateway: { ...DEFAULT_GATEWAY_SETTINGS, ...(doc.gateway ?? {}) } as GatewaySettings };
}

/** Parse models.toml text. */
export function parseModelsToml(text: string, source: string): ModelsConfig {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (e) {
    throw new UserError(oneLine(`${source}: not valid TOML: ${(e as Error).message.split('\n')[0]}`));
  }
  return parseModelsConfig(doc, source);
}

/** Load models.toml from a path. */
export function loadModelsConfig(file: string): ModelsConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read models config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return { ...parseModelsToml(text, file), file };
}
