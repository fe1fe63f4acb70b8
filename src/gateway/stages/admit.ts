// Stage 4, admit: reserve what the call may spend before it is forwarded, so that concurrent calls
// cannot overspend a budget. The reservation is the input estimate (request bytes times the largest
// tokens-per-byte ratio the rollout's calls have shown, 0.25 before any) plus the request's output
// limit (max_tokens / max_output_tokens, else reserve_output_tokens), priced at the endpoint's
// uncached rates. When less than that is left, the call's output limit is lowered to what is left
// (the upstream request says so); when not even MIN_OUTPUT tokens are left, the call is refused
// (403, budget) before it reaches the upstream.
import { costUsd, zeroUsage } from '../../core/usage.js';
import type { Pricing } from '../../core/types.js';
import type { GatewaySettings } from '../../models/config.js';
import type { IRRequest } from '../ir.js';
import { Refusal } from '../respond.js';
import type { Reservation, RolloutState } from '../rollouts.js';

/** The least output a call may be left with before it is refused instead of shortened. */
export const MIN_OUTPUT = 16;

export interface Admission {
  held: Reservation;
  /** Set when the call's output limit had to be lowered to fit the budget. */
  outputLimit?: number;
}

export function admit(ro: RolloutState, ir: IRRequest, requestBytes: number, pricing: Pricing | null, settings: Pick<GatewaySettings, 'reserve_output_tokens' | 'budget_tolerance'>): Admission {
  if (ro.recordError) throw new Refusal(503, 'overloaded', `outlast gateway: ${ro.recordError}`, 'gateway');
  const input = ro.inputEstimate(requestBytes);
  const asked = ir.max_tokens ?? settings.reserve_output_tokens;
  const inputCost = pricing ? costUsd({ ...zeroUsage(), input }, pricing) : 0;
  const outputCostPerToken = pricing ? costUsd({ ...zeroUsage(), output: 1 }, pricing) : 0;
  const r = ro.reserve({ input, output: asked, inputCost, outputCostPerToken }, settings.budget_tolerance, MIN_OUTPUT);
  if (typeof r === 'string') throw new Refusal(403, 'budget', `outlast gateway: ${r}`, 'budget');
  return { held: r.held, ...(r.output < asked ? { outputLimit: r.output } : {}) };
}
