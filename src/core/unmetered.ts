// Model calls that were in flight when the runner stopped: a `model.request` without its
// `model.response` (and not yet recorded as `model.unmetered`). The upstream may have billed them,
// so a resume records each with an estimate of its usage, counted apart from the metered calls.
// Pure functions over trajectory events.
//
// The estimate, in order of preference:
//   request_bytes  input = the request body's bytes / 4 (when the gateway recorded them)
//   previous_call  input = the previous successful call's input + output, plus the tool output the
//                  conversation gained since (bytes / 4): what the next request carries at least
//   none           no basis: input 0
// Output tokens: the mean output of the rollout's successful calls so far (0 when none).
import type { ModelRequestEvent, TrajectoryEvent } from './events.js';
import type { Pricing, Usage } from './types.js';
import { costUsd, zeroUsage } from './usage.js';

/** Bytes per token assumed by the estimates (a common rule of thumb for English text and code). */
export const BYTES_PER_TOKEN = 4;

export interface UnmeteredEstimate {
  usage: Usage;
  cost_usd: number;
  basis: 'request_bytes' | 'previous_call' | 'none';
}

/** The requests of `events` that got no response and have no `model.unmetered` record yet, in log order. */
export function unansweredRequests(events: readonly TrajectoryEvent[]): ModelRequestEvent[] {
  const answered = new Set<string>();
  for (const e of events) if (e.type === 'model.response' || e.type === 'model.unmetered') answered.add(e.call_id);
  return events.filter((e): e is ModelRequestEvent => e.type === 'model.request' && !answered.has(e.call_id));
}

/** Estimate the usage (and its cost at `pricing`) of `req`, a request of `events` that got no response. */
export function estimateUnmetered(events: readonly TrajectoryEvent[], req: ModelRequestEvent, pricing: Pricing | null): UnmeteredEstimate {
  let outputs = 0;
  let okCalls = 0;
  let lastInput: number | null = null;
  let gained = 0;
  for (const e of events) {
    if (e.seq >= req.seq) break;
    if (e.type === 'model.response' && !e.error && e.status >= 200 && e.status < 300) {
      okCalls++;
      outputs += e.usage.output;
      lastInput = e.usage.input + e.usage.output;
      gained = 0;
    } else if (e.type === 'tool.result') {
      gained += Buffer.byteLength(e.output ?? '');
    }
  }
  const output = okCalls ? Math.round(outputs / okCalls) : 0;
  let input = 0;
  let basis: UnmeteredEstimate['basis'] = 'none';
  if (typeof req.request_bytes === 'number' && req.request_bytes > 0) {
    input = Math.ceil(req.request_bytes / BYTES_PER_TOKEN);
    basis = 'request_bytes';
  } else if (lastInput !== null) {
    input = lastInput + Math.ceil(gained / BYTES_PER_TOKEN);
    basis = 'previous_call';
  }
  const usage: Usage = { ...zeroUsage(), input, output };
  return { usage, cost_usd: pricing ? costUsd(usage, pricing) : 0, basis };
}
