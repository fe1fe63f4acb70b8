// Metering of one call: timing (TTFT, duration, output tokens/s), usage (from the upstream's own
// report, else an estimate), cost, finish reason. Pure bookkeeping; the server feeds it IR events.
//
// Definitions (docs/gateway.md):
// - ttft_ms: from the moment the gateway received the request to the first content, reasoning or
//   tool-call delta received from the upstream (streaming calls; null for non-streaming ones).
// - duration_ms: from the request received to the last byte sent to the client.
// - output_tps: output tokens / (last token time − first token time), streaming calls with at
//   least two token-bearing deltas; null otherwise.
import { costUsd, zeroUsage } from '../core/usage.js';
import type { Pricing, Usage } from '../core/types.js';
import { type IRFinishReason, type IRResponse, type IRStreamEvent } from './ir.js';

export const CHARS_PER_TOKEN_ESTIMATE = 4;

export interface MeterResult {
  usage: Usage;
  usage_estimated: boolean;
  ttft_ms: number | null;
  duration_ms: number;
  output_tps: number | null;
  cost_usd: number;
  finish_reason: string | null;
  /** Names of the tool calls in the reply, in order (how every harness's tool calls are counted). */
  tool_calls: string[];
}

export class CallMeter {
  readonly t0: number;
  private first: number | null = null;
  private last: number | null = null;
  private usage: Partial<Usage> | null = null;
  private outChars = 0;
  private finish: IRFinishReason | null = null;
  private readonly calls: string[] = [];
  /** Characters of the request body, for the input estimate when the upstream reports no usage. */
  requestChars = 0;

  constructor(t0 = performance.now()) {
    this.t0 = t0;
  }

  private token(now: number): void {
    if (this.first === null) this.first = now;
    this.last = now;
  }

  /** Observe one streamed IR event at time `now`. */
  observe(ev: IRStreamEvent, now = performance.now()): void {
    switch (ev.type) {
      case 'text':
      case 'reasoning':
        if (ev.text) {
          this.outChars += ev.text.length;
          this.token(now);
        }
        break;
      case 'tool_call_start':
        this.calls.push(ev.name);
        this.outChars += ev.name.length;
        this.token(now);
        break;
      case 'tool_call_args':
        this.outChars += ev.arguments.length;
        this.token(now);
        break;
      case 'usage':
        this.usage = { ...(this.usage ?? {}), ...ev.usage };
        break;
      case 'finish':
        this.finish = ev.reason;
        break;
      default:
        break;
    }
  }

  /** Observe a whole (non-streaming) response. */
  observeResponse(r: IRResponse): void {
    for (const p of r.content) {
      if (p.type === 'text' || p.type === 'reasoning') this.outChars += p.text.length;
      else if (p.type === 'tool_call') {
        this.calls.push(p.name);
        this.outChars += p.name.length + p.arguments.length;
      }
    }
    if (r.usage) this.usage = { ...r.usage };
    this.finish = r.finish_reason;
  }

  get firstTokenAt(): number | null {
    return this.first;
  }

  finishReason(): IRFinishReason | null {
    return this.finish;
  }

  /** Final numbers, at time `end`. `hasUsage` false → estimate from characters. */
  result(pricing: Pricing | null, end = performance.now(), opts: { estimate?: boolean } = {}): MeterResult {
    let usage: Usage;
    let estimated = false;
    const u = this.usage;
    if (u && (u.input !== undefined || u.output !== undefined)) {
      usage = { ...zeroUsage(), ...u };
    } else if (opts.estimate === false) {
      usage = zeroUsage();
    } else {
      usage = { ...zeroUsage(), input: Math.ceil(this.requestChars / CHARS_PER_TOKEN_ESTIMATE), output: Math.ceil(this.outChars / CHARS_PER_TOKEN_ESTIMATE) };
      estimated = true;
    }
    const ttft = this.first === null ? null : this.first - this.t0;
    const span = this.first !== null && this.last !== null ? this.last - this.first : 0;
    const tps = span > 0 && usage.output > 0 ? usage.output / (span / 1000) : null;
    return {
      usage,
      usage_estimated: estimated,
      ttft_ms: ttft === null ? null : round(ttft),
      duration_ms: round(end - this.t0),
      output_tps: tps === null ? null : round(tps),
      cost_usd: pricing ? costUsd(usage, pricing) : 0,
      finish_reason: this.finish,
      tool_calls: [...this.calls],
    };
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
