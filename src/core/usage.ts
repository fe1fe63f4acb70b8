// Usage and cost arithmetic. Pure functions.
import type { Pricing, Usage } from './types.js';

export function zeroUsage(): Usage {
  return { input: 0, cached: 0, cache_write: 0, output: 0, reasoning: 0 };
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    input: a.input + b.input,
    cached: a.cached + b.cached,
    cache_write: a.cache_write + b.cache_write,
    output: a.output + b.output,
    reasoning: a.reasoning + b.reasoning,
  };
}

/** Total tokens counted against a token budget: all input (including cached) plus output. */
export function totalTokens(u: Usage): number {
  return u.input + u.output;
}

/**
 * Cost in USD. `input` counts every prompt token including cached and cache-write ones
 * (the OpenAI convention); cached and cache-write tokens are billed at their own rates, the rest at
 * the input rate. Reasoning tokens are part of `output`.
 */
export function costUsd(u: Usage, p: Pricing): number {
  const uncached = Math.max(0, u.input - u.cached - u.cache_write);
  return (uncached * p.input + u.cached * p.cached_input + u.cache_write * p.cache_write + u.output * p.output) / 1e6;
}
