// Export a trajectory as OpenTelemetry spans in the OTLP/JSON encoding (what an OTLP/HTTP collector
// accepts as `ExportTraceServiceRequest`), named and attributed after the GenAI semantic conventions
// (gen_ai.*). One trace per rollout: an `invoke_agent` root span, a `chat` span per model call and an
// `execute_tool` span per tool call. Pure: events in, a plain object out.
import { createHash } from 'node:crypto';
import type { ModelRequestEvent, ToolCallEvent, TrajectoryEvent } from '../../core/events.js';

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
export interface KeyValue {
  key: string;
  value: AnyValue;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  events?: { timeUnixNano: string; name: string; attributes: KeyValue[] }[];
  status: { code: number; message?: string };
}
export interface OtlpTraces {
  resourceSpans: {
    resource: { attributes: KeyValue[] };
    scopeSpans: { scope: { name: string; version: string }; spans: OtlpSpan[] }[];
  }[];
}

export const SPAN_KIND = { internal: 1, client: 3 } as const;
export const STATUS = { unset: 0, ok: 1, error: 2 } as const;

function hex(s: string, bytes: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, bytes * 2);
}

function attr(key: string, v: unknown): KeyValue | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return { key, value: { boolValue: v } };
  if (typeof v === 'number') return Number.isInteger(v) ? { key, value: { intValue: String(v) } } : { key, value: { doubleValue: v } };
  if (typeof v === 'string') return { key, value: { stringValue: v } };
  return { key, value: { stringValue: JSON.stringify(v) } };
}

function attrs(o: Record<string, unknown>): KeyValue[] {
  return Object.entries(o)
    .map(([k, v]) => attr(k, v))
    .filter((x): x is KeyValue => x !== null);
}

function nanos(t: string): string {
  return (BigInt(Date.parse(t)) * 1_000_000n).toString();
}

/** gen_ai.provider.name for a protocol (the convention's well-known values). */
function provider(protocol: string | undefined): string {
  if (protocol === 'anthropic') return 'anthropic';
  if (protocol?.startsWith('openai')) return 'openai';
  return protocol ?? 'unknown';
}

export interface OtelOptions {
  /** Include tool arguments and outputs (opt-in attributes in the conventions; default true). */
  content?: boolean;
  serviceVersion?: string;
}

export function toOtel(events: readonly TrajectoryEvent[], opts: OtelOptions = {}): OtlpTraces {
  const content = opts.content ?? true;
  const started = events.find((e) => e.type === 'rollout.started');
  const spec = started?.type === 'rollout.started' ? started.spec : null;
  const finished = [...events].reverse().find((e) => e.type === 'rollout.finished');
  const fin = finished?.type === 'rollout.finished' ? finished : null;
  const id = spec ? `${spec.experiment_id}/${spec.rollout_id}` : 'unknown';
  const traceId = hex(`trace:${id}`, 16);
  const rootId = hex(`span:${id}:root`, 8);
  const first = events[0]?.t ?? new Date(0).toISOString();
  const last = events[events.length - 1]?.t ?? first;
  const spans: OtlpSpan[] = [];

  const requests = new Map<string, ModelRequestEvent>();
  const calls = new Map<string, ToolCallEvent>();
  const rootEvents: NonNullable<OtlpSpan['events']> = [];
  for (const e of events) {
    switch (e.type) {
      case 'model.request':
        requests.set(e.call_id, e);
        break;
      case 'model.response': {
        const req = requests.get(e.call_id);
        const start = req?.t ?? new Date(Date.parse(e.t) - e.duration_ms).toISOString();
        const failed = !!e.error || e.status < 200 || e.status >= 300;
        spans.push({
          traceId,
          spanId: hex(`span:${id}:model:${e.call_id}:${e.seq}`, 8),
          parentSpanId: rootId,
          name: `chat ${e.model}`,
          kind: SPAN_KIND.client,
          startTimeUnixNano: nanos(start),
          endTimeUnixNano: nanos(e.t),
          attributes: attrs({
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': provider(e.protocol),
            'gen_ai.request.model': req?.upstream_model ?? e.model,
            'gen_ai.response.model': e.model,
            'gen_ai.conversation.id': id,
            'gen_ai.usage.input_tokens': e.usage.input,
            'gen_ai.usage.output_tokens': e.usage.output,
            'gen_ai.usage.cache_read.input_tokens': e.usage.cached,
            'gen_ai.usage.cache_creation.input_tokens': e.usage.cache_write,
            'gen_ai.usage.reasoning.output_tokens': e.usage.reasoning,
            'gen_ai.response.finish_reasons': e.finish_reason ? [e.finish_reason] : undefined,
            'error.type': failed ? (e.error?.infra ? 'infra' : String(e.status)) : undefined,
            'outlast.call_id': e.call_id,
            'outlast.ttft_ms': e.ttft_ms,
            'outlast.output_tps': e.output_tps,
            'outlast.cost_usd': e.cost_usd,
            'outlast.price_table': e.price_table,
            'outlast.retries': e.retries,
            'outlast.usage_estimated': e.usage_estimated,
            'outlast.client_protocol': req?.client_protocol,
            'outlast.stream': req?.stream,
          }),
          status: failed ? { code: STATUS.error, message: e.error?.message ?? `HTTP ${e.status}` } : { code: STATUS.unset },
        });
        break;
      }
      case 'tool.call':
        calls.set(e.call_id, e);
        break;
      case 'tool.result': {
        const c = calls.get(e.call_id);
        const start = c?.t ?? new Date(Date.parse(e.t) - e.duration_ms).toISOString();
        const failed = !!e.error || e.timed_out || (e.exit_code !== null && e.exit_code !== 0);
        spans.push({
          traceId,
          spanId: hex(`span:${id}:tool:${e.call_id}:${e.seq}`, 8),
          parentSpanId: rootId,
          name: `execute_tool ${e.name}`,
          kind: SPAN_KIND.internal,
          startTimeUnixNano: nanos(start),
          endTimeUnixNano: nanos(e.t),
          attributes: attrs({
            'gen_ai.operation.name': 'execute_tool',
            'gen_ai.tool.name': e.name,
            'gen_ai.tool.call.id': e.call_id,
            'gen_ai.tool.type': 'function',
            'gen_ai.conversation.id': id,
            'gen_ai.tool.call.arguments': content && c ? c.arguments : undefined,
            'gen_ai.tool.call.result': content ? e.output : undefined,
            'error.type': failed ? (e.timed_out ? 'timeout' : e.error ? 'error' : `exit_${e.exit_code}`) : undefined,
            'outlast.exit_code': e.exit_code,
            'outlast.truncated_bytes': e.truncated_bytes,
          }),
          status: e.error || e.timed_out ? { code: STATUS.error, message: e.error ?? 'timed out' } : { code: STATUS.unset },
        });
        break;
      }
      case 'evaluation':
        rootEvents.push({
          timeUnixNano: nanos(e.t),
          name: 'gen_ai.evaluation.result',
          attributes: attrs({ 'gen_ai.evaluation.name': 'outlast.intermediate', 'gen_ai.evaluation.score.value': e.score, 'outlast.passed': e.passed, 'outlast.tool_calls': e.tool_calls }),
        });
        break;
      case 'monitor.flag':
        rootEvents.push({
          timeUnixNano: nanos(e.t),
          name: 'outlast.monitor.flag',
          attributes: attrs({ 'outlast.flag_id': e.flag_id, 'outlast.monitor': e.monitor, 'outlast.rule_id': e.rule_id, 'outlast.rule_version': e.rule_version, 'outlast.severity': e.severity, 'outlast.summary': e.summary }),
        });
        break;
      case 'verifier.result':
        rootEvents.push({
          timeUnixNano: nanos(e.t),
          name: 'gen_ai.evaluation.result',
          attributes: attrs({
            'gen_ai.evaluation.name': `${e.score.grader.verifier}@${e.score.grader.version}`,
            'gen_ai.evaluation.score.value': e.score.value,
            'gen_ai.evaluation.score.label': e.score.passed ? 'passed' : 'failed',
          }),
        });
        break;
      default:
        break;
    }
  }
  const failed = fin && (fin.outcome === 'infra_error' || fin.outcome === 'task_error');
  spans.unshift({
    traceId,
    spanId: rootId,
    name: `invoke_agent ${spec?.harness.name ?? 'unknown'}`,
    kind: SPAN_KIND.internal,
    startTimeUnixNano: nanos(first),
    endTimeUnixNano: nanos(last),
    attributes: attrs({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': spec?.harness.name,
      'gen_ai.agent.version': spec?.harness.version,
      'gen_ai.agent.id': id,
      'gen_ai.conversation.id': id,
      'gen_ai.request.model': spec?.model?.upstream_model ?? spec?.model?.name,
      'gen_ai.provider.name': spec?.model ? provider(spec.model.protocol) : undefined,
      'outlast.experiment_id': spec?.experiment_id,
      'outlast.rollout_id': spec?.rollout_id,
      'outlast.task.name': spec?.task.name,
      'outlast.task.family': spec?.task.family,
      'outlast.task.hash': spec?.task.hash,
      'outlast.repeat': spec?.repeat,
      'outlast.seed': spec?.seed,
      'outlast.outcome': fin?.outcome,
      'outlast.reason': fin?.reason,
      'outlast.score': fin?.score?.value,
      'outlast.passed': fin?.score?.passed,
      'outlast.tool_calls': fin?.totals.tool_calls,
      'outlast.turns': fin?.totals.turns,
      'outlast.cost_usd': fin?.totals.cost_usd,
      'gen_ai.usage.input_tokens': fin?.totals.usage.input,
      'gen_ai.usage.output_tokens': fin?.totals.usage.output,
    }),
    ...(rootEvents.length ? { events: rootEvents } : {}),
    status: failed ? { code: STATUS.error, message: fin!.reason } : { code: STATUS.unset },
  });
  const versions = started?.type === 'rollout.started' ? started.versions : null;
  return {
    resourceSpans: [
      {
        resource: {
          attributes: attrs({
            'service.name': 'outlast',
            'service.version': versions?.outlast ?? opts.serviceVersion,
            'outlast.commit': versions?.commit,
            'outlast.sandbox': started?.type === 'rollout.started' ? started.sandbox.mode : undefined,
          }),
        },
        scopeSpans: [{ scope: { name: 'outlast.export', version: '1' }, spans }],
      },
    ],
  };
}
