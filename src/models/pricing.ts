// The built-in price table: USD per million tokens for well-known models, used when an endpoint in
// models.toml gives no `pricing`. Every `model.response` event records which table (and version)
// priced it, so a report can say where each dollar figure came from.
//
// These are public list prices as published by each provider (standard tier, no batch discount, the
// 5-minute cache-write rate for Anthropic). They change: bump PRICE_TABLE_VERSION when editing, and
// prefer explicit `pricing` in models.toml for anything that matters.
import type { ModelEndpoint, Pricing } from '../core/types.js';

export const PRICE_TABLE_VERSION = 'builtin-2026-11-25';
export const PRICE_TABLE_DATE = '2026-11-25';

export interface PriceEntry {
  pricing: Pricing;
  /** Where the numbers come from. */
  source: string;
}

const OPENAI = 'openai.com/api/pricing (list prices; cached input = prompt-cache read; no cache-write charge)';
const ANTHROPIC = 'anthropic.com/pricing and docs.anthropic.com prompt-caching page (cache write = 5-minute rate 1.25x input, cache read 0.1x input)';
const DEEPSEEK = 'api-docs.deepseek.com/quick_start/pricing (cache hit / cache miss / output)';

function p(input: number, cached_input: number, output: number, cache_write = input): Pricing {
  return { input, cached_input, cache_write, output };
}

export const PRICE_TABLE: Readonly<Record<string, PriceEntry>> = {
  'qwen3.7-max': { pricing: p(2.5, 0.25, 7.5), source: 'outlast issue 3 (provider list price: 2.50 input / 0.25 cached / 7.50 output)' },
  'gpt-5': { pricing: p(1.25, 0.125, 10), source: OPENAI },
  'gpt-5-mini': { pricing: p(0.25, 0.025, 2), source: OPENAI },
  'gpt-5-nano': { pricing: p(0.05, 0.005, 0.4), source: OPENAI },
  'gpt-4.1': { pricing: p(2, 0.5, 8), source: OPENAI },
  'gpt-4.1-mini': { pricing: p(0.4, 0.1, 1.6), source: OPENAI },
  'gpt-4o': { pricing: p(2.5, 1.25, 10), source: OPENAI },
  'gpt-4o-mini': { pricing: p(0.15, 0.075, 0.6), source: OPENAI },
  o3: { pricing: p(2, 0.5, 8), source: OPENAI },
  'o4-mini': { pricing: p(1.1, 0.275, 4.4), source: OPENAI },
  'claude-opus-4-1': { pricing: p(15, 1.5, 75, 18.75), source: ANTHROPIC },
  'claude-opus-4': { pricing: p(15, 1.5, 75, 18.75), source: ANTHROPIC },
  'claude-sonnet-4-5': { pricing: p(3, 0.3, 15, 3.75), source: ANTHROPIC },
  'claude-sonnet-4': { pricing: p(3, 0.3, 15, 3.75), source: ANTHROPIC },
  'claude-haiku-4-5': { pricing: p(1, 0.1, 5, 1.25), source: ANTHROPIC },
  'claude-3-5-haiku': { pricing: p(0.8, 0.08, 4, 1), source: ANTHROPIC },
  'deepseek-chat': { pricing: p(0.28, 0.028, 0.42), source: DEEPSEEK },
  'deepseek-reasoner': { pricing: p(0.28, 0.028, 0.42), source: DEEPSEEK },
};

/**
 * Price-table entry for an upstream model id: exact match first, then after dropping a provider
 * prefix (`openai/gpt-4o`), then the longest table key the id starts with followed by `-` (dated
 * snapshots such as `claude-sonnet-4-5-20250929`).
 */
export function lookupPrice(model: string): (PriceEntry & { key: string }) | null {
  const candidates = [model, model.includes('/') ? model.slice(model.lastIndexOf('/') + 1) : null].filter((m): m is string => !!m);
  for (const m of candidates) {
    const e = PRICE_TABLE[m];
    if (e) return { ...e, key: m };
  }
  for (const m of candidates) {
    let best: string | null = null;
    for (const k of Object.keys(PRICE_TABLE)) if (m.startsWith(k + '-') && (!best || k.length > best.length)) best = k;
    if (best) return { ...PRICE_TABLE[best]!, key: best };
  }
  return null;
}

/** The pricing used for an endpoint and the label recorded in `model.response.price_table`. */
export function resolvePricing(ep: Pick<ModelEndpoint, 'pricing' | 'upstream_model' | 'name'>): { pricing: Pricing | null; price_table: string } {
  if (ep.pricing) return { pricing: ep.pricing, price_table: 'models.toml' };
  const e = lookupPrice(ep.upstream_model) ?? lookupPrice(ep.name);
  if (e) return { pricing: e.pricing, price_table: `${PRICE_TABLE_VERSION}:${e.key}` };
  return { pricing: null, price_table: `${PRICE_TABLE_VERSION}:unpriced` };
}
