// Stage 8, record: every request that got past authentication leaves a trace in its rollout's log,
// exactly once. A call refused before forwarding is one `model.request` with `refused`; a forwarded
// call is `model.request` when it goes out and one `model.response` when it ends (however it ends),
// which also releases the call's budget reservation. Messages are scrubbed of keys before writing.
import type { Logger } from 'pino';
import type { GatewayFailureKind } from '../../core/events.js';
import type { ModelEndpoint, Pricing, Protocol } from '../../core/types.js';
import { genId, type IRRequest } from '../ir.js';
import type { CallMeter } from '../meter.js';
import type { Refusal } from '../respond.js';
import type { Reservation, RolloutState } from '../rollouts.js';
import type { Scrubber } from '../secrets.js';

export interface CallError {
  message: string;
  infra: boolean;
  kind: GatewayFailureKind;
}

/** How a forwarded call ended. */
export interface CallOutcome {
  status: number;
  error?: CallError;
}

export interface Forwarded {
  ep: ModelEndpoint;
  ir: IRRequest;
  /** Items in the client's messages/input list and its tools (ParsedCall.counts). */
  counts: { messages: number; tools: number };
  pricing: Pricing | null;
  price_table: string;
  meter: CallMeter;
  reservation: Reservation;
  /** The output limit the gateway lowered the call to, to fit the budget. */
  outputLimit?: number;
  /** Body references when bodies are recorded. */
  requestBody?: string;
}

export class CallRecorder {
  readonly callId = genId('call_');
  private fwd: Forwarded | null = null;
  private done = false;
  requestBytes = 0;
  /** Set by the relay: the recorded response body's reference. */
  responseBody: string | undefined;

  constructor(
    private readonly ro: RolloutState,
    private readonly clientProtocol: Protocol,
    private readonly scrubber: Scrubber,
    private readonly logger?: Logger,
  ) {}

  /** The call was refused before it was forwarded. */
  refused(r: Refusal, model: { name?: string; ep?: ModelEndpoint; ir?: IRRequest; counts?: { messages: number; tools: number } }): void {
    if (this.done) return;
    this.done = true;
    this.ro.append({
      type: 'model.request',
      call_id: this.callId,
      client_protocol: this.clientProtocol,
      protocol: model.ep?.protocol ?? this.clientProtocol,
      model: model.ep?.name ?? model.name ?? '',
      upstream_model: model.ep?.upstream_model ?? '',
      stream: model.ir?.stream ?? false,
      messages: model.counts?.messages ?? 0,
      tools: model.counts?.tools ?? 0,
      request_bytes: this.requestBytes,
      refused: { status: r.status, kind: r.failure, message: this.scrubber.scrub(r.message) },
    });
    this.logger?.info({ rollout: this.ro.rolloutId, call: this.callId, status: r.status, kind: r.failure }, 'model call refused');
  }

  /** The call is going upstream. */
  forwarding(f: Forwarded): void {
    this.fwd = f;
    this.ro.append({
      type: 'model.request',
      call_id: this.callId,
      client_protocol: this.clientProtocol,
      protocol: f.ep.protocol,
      model: f.ep.name,
      upstream_model: f.ep.upstream_model,
      stream: f.ir.stream,
      messages: f.counts.messages,
      tools: f.counts.tools,
      request_bytes: this.requestBytes,
      ...(f.outputLimit !== undefined ? { output_limit: f.outputLimit } : {}),
      ...(f.requestBody ? { body: f.requestBody } : {}),
    });
  }

  /** The forwarded call ended: record it once, release its reservation. */
  finished(o: CallOutcome, retries: number, retryWaitMs: number): void {
    const f = this.fwd;
    if (this.done || !f) return;
    this.done = true;
    // A call that failed before any output is charged nothing rather than an estimate of its prompt.
    const m = f.meter.result(f.pricing, performance.now(), { estimate: !(o.error && f.meter.firstTokenAt === null) });
    this.ro.release(f.reservation);
    if (!m.usage_estimated) this.ro.observeInput(this.requestBytes, m.usage.input);
    this.ro.append({
      type: 'model.response',
      call_id: this.callId,
      protocol: f.ep.protocol,
      model: f.ep.name,
      status: o.status,
      usage: m.usage,
      usage_estimated: m.usage_estimated,
      ttft_ms: f.ir.stream ? m.ttft_ms : null,
      duration_ms: m.duration_ms,
      output_tps: f.ir.stream ? m.output_tps : null,
      cost_usd: m.cost_usd,
      price_table: f.price_table,
      retries,
      retry_wait_ms: Math.round(retryWaitMs),
      finish_reason: m.finish_reason,
      ...(m.tool_calls.length ? { tool_calls: m.tool_calls } : {}),
      ...(o.error ? { error: { ...o.error, message: this.scrubber.scrub(o.error.message) } } : {}),
      ...(this.responseBody ? { body: this.responseBody } : {}),
    });
    this.logger?.info({ rollout: this.ro.rolloutId, call: this.callId, model: f.ep.name, status: o.status, ttft_ms: m.ttft_ms, duration_ms: m.duration_ms, retries }, 'model call');
  }

  get isForwarded(): boolean {
    return this.fwd !== null;
  }
}
