// Export a trajectory as Harbor's Agent Trajectory Interchange Format (ATIF, v1.4): one JSON
// document per rollout, `steps` in order. Pure: events in, a plain object out (see
// docs/export-formats.md for the mapping).
import type { ModelResponseEvent, ToolResultEvent, TrajectoryEvent } from '../../core/events.js';

export const ATIF_VERSION = 'ATIF-v1.4';

export interface AtifToolCall {
  tool_call_id: string;
  function_name: string;
  arguments: Record<string, unknown>;
}

export interface AtifStep {
  step_id: number;
  timestamp?: string;
  source: 'system' | 'user' | 'agent';
  model_name?: string;
  message: string;
  reasoning_content?: string;
  tool_calls?: AtifToolCall[];
  observation?: { results: { source_call_id?: string; content?: string }[] };
  metrics?: { prompt_tokens?: number; completion_tokens?: number; cached_tokens?: number; cost_usd?: number; extra?: Record<string, unknown> };
  extra?: Record<string, unknown>;
}

export interface AtifTrajectory {
  schema_version: string;
  session_id: string;
  agent: { name: string; version: string; model_name?: string; extra?: Record<string, unknown> };
  steps: AtifStep[];
  notes?: string;
  final_metrics?: {
    total_prompt_tokens?: number;
    total_completion_tokens?: number;
    total_cached_tokens?: number;
    total_cost_usd?: number;
    total_steps?: number;
    extra?: Record<string, unknown>;
  };
  extra?: Record<string, unknown>;
}

/** ATIF wants tool arguments as a JSON object: wrap anything else. */
function argsObject(a: unknown): Record<string, unknown> {
  if (a !== null && typeof a === 'object' && !Array.isArray(a)) return a as Record<string, unknown>;
  if (typeof a === 'string') {
    try {
      const v = JSON.parse(a) as unknown;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      /* not JSON */
    }
  }
  return a === undefined || a === null ? {} : { value: a };
}

function toolContent(r: ToolResultEvent): string {
  const head = r.exit_code === null ? '' : `[exit ${r.exit_code}${r.timed_out ? ', timed out' : ''}] `;
  return `${head}${r.error ? `${r.error}\n` : ''}${r.output}`;
}

function metrics(m: ModelResponseEvent): NonNullable<AtifStep['metrics']> {
  return {
    prompt_tokens: m.usage.input,
    completion_tokens: m.usage.output,
    cached_tokens: m.usage.cached,
    cost_usd: m.cost_usd,
    extra: {
      cache_write_tokens: m.usage.cache_write,
      reasoning_tokens: m.usage.reasoning,
      ttft_ms: m.ttft_ms,
      duration_ms: m.duration_ms,
      output_tps: m.output_tps,
      price_table: m.price_table,
      status: m.status,
      retries: m.retries,
      usage_estimated: m.usage_estimated,
    },
  };
}

export interface AtifOptions {
  /** The task's instruction.md, if the exporter could read it: becomes the first (user) step. */
  instruction?: string | null;
}

export function toAtif(events: readonly TrajectoryEvent[], opts: AtifOptions = {}): AtifTrajectory {
  const started = events.find((e) => e.type === 'rollout.started');
  const finished = [...events].reverse().find((e) => e.type === 'rollout.finished');
  const spec = started?.type === 'rollout.started' ? started.spec : null;
  const results = new Map<string, ToolResultEvent>();
  for (const e of events) if (e.type === 'tool.result') results.set(e.call_id, e);

  const steps: AtifStep[] = [];
  const push = (s: Omit<AtifStep, 'step_id'>) => steps.push({ step_id: steps.length + 1, ...s });
  if (opts.instruction) push({ timestamp: started?.t, source: 'user', message: opts.instruction });

  /** Call ids already placed on an agent step (from an assistant event's tool_calls). */
  const placed = new Set<string>();
  let lastResponse: ModelResponseEvent | null = null;
  let agentStep: AtifStep | null = null;
  const model = spec?.model?.upstream_model ?? spec?.model?.name;

  for (const e of events) {
    switch (e.type) {
      case 'model.response':
        lastResponse = e;
        break;
      case 'assistant': {
        const calls = e.tool_calls.map((c) => ({ tool_call_id: c.id, function_name: c.name, arguments: argsObject(c.arguments) }));
        const obs = e.tool_calls.map((c) => results.get(c.id)).filter((r): r is ToolResultEvent => !!r);
        for (const c of e.tool_calls) placed.add(c.id);
        push({
          timestamp: e.t,
          source: 'agent',
          ...(lastResponse ? { model_name: lastResponse.model } : model ? { model_name: model } : {}),
          message: e.text ?? '',
          ...(e.reasoning ? { reasoning_content: e.reasoning } : {}),
          ...(calls.length ? { tool_calls: calls } : {}),
          ...(obs.length ? { observation: { results: obs.map((r) => ({ source_call_id: r.call_id, content: toolContent(r) })) } } : {}),
          ...(lastResponse ? { metrics: metrics(lastResponse) } : {}),
        });
        agentStep = steps[steps.length - 1]!;
        lastResponse = null;
        break;
      }
      case 'tool.call': {
        if (placed.has(e.call_id)) break;
        // A tool call no model asked for (e.g. the oracle running solve.sh): an agent step of its own.
        const r = results.get(e.call_id);
        placed.add(e.call_id);
        push({
          timestamp: e.t,
          source: 'agent',
          message: '',
          tool_calls: [{ tool_call_id: e.call_id, function_name: e.name, arguments: argsObject(e.arguments) }],
          ...(r ? { observation: { results: [{ source_call_id: r.call_id, content: toolContent(r) }] } } : {}),
          ...(e.repeated ? { extra: { repeated: true } } : {}),
        });
        break;
      }
      case 'context.compacted':
        push({
          timestamp: e.t,
          source: 'system',
          message: `context compacted: ${e.tokens_before} → ${e.tokens_after} tokens, ${e.turns_summarized} turns summarized`,
          observation: { results: [{ content: 'context compacted' }] },
          extra: { outlast_event: 'context.compacted', tokens_before: e.tokens_before, tokens_after: e.tokens_after, turns_summarized: e.turns_summarized },
        });
        break;
      case 'evaluation':
        push({
          timestamp: e.t,
          source: 'system',
          message: `evaluation: score ${e.score}${e.passed === undefined ? '' : e.passed ? ' (passed)' : ' (not passed)'} after ${e.tool_calls} tool calls`,
          extra: { outlast_event: 'evaluation', score: e.score, passed: e.passed ?? null, tool_calls: e.tool_calls, details: e.details },
        });
        break;
      case 'monitor.flag':
        push({
          timestamp: e.t,
          source: 'system',
          message: `monitor flag (${e.severity}) from ${e.monitor}: ${e.summary}`,
          extra: { outlast_event: 'monitor.flag', flag_id: e.flag_id, monitor: e.monitor, rule_id: e.rule_id, rule_version: e.rule_version, severity: e.severity, evidence: e.evidence ?? null },
        });
        break;
      default:
        break;
    }
  }
  void agentStep;

  const responses = events.filter((e): e is ModelResponseEvent => e.type === 'model.response');
  const sum = (f: (m: ModelResponseEvent) => number) => responses.reduce((a, m) => a + f(m), 0);
  const fin = finished?.type === 'rollout.finished' ? finished : null;
  const verdict = [...events].reverse().find((e) => e.type === 'verifier.result');
  return {
    schema_version: ATIF_VERSION,
    session_id: spec ? `${spec.experiment_id}/${spec.rollout_id}` : 'unknown',
    agent: {
      name: spec?.harness.name ?? 'unknown',
      version: spec?.harness.version ?? 'unknown',
      ...(model ? { model_name: model } : {}),
      extra: { settings: spec?.harness.settings ?? {}, model: spec?.model ?? null },
    },
    steps,
    notes: 'Exported by outlast from trajectory.jsonl. Agent steps come from `assistant` events (metrics from the model call before each); tool calls that no model asked for (e.g. the oracle) are agent steps with an empty message; evaluations, monitor flags and context compactions are system steps with details in `extra`.',
    final_metrics: {
      total_prompt_tokens: fin ? fin.totals.usage.input : sum((m) => m.usage.input),
      total_completion_tokens: fin ? fin.totals.usage.output : sum((m) => m.usage.output),
      total_cached_tokens: fin ? fin.totals.usage.cached : sum((m) => m.usage.cached),
      total_cost_usd: fin ? fin.totals.cost_usd : sum((m) => m.cost_usd),
      total_steps: steps.length,
      extra: fin
        ? { cache_write_tokens: fin.totals.usage.cache_write, reasoning_tokens: fin.totals.usage.reasoning, tool_calls: fin.totals.tool_calls, turns: fin.totals.turns, wall_ms: fin.totals.wall_ms, working_ms: fin.totals.working_ms }
        : {},
    },
    extra: {
      outlast: {
        experiment_id: spec?.experiment_id ?? null,
        rollout_id: spec?.rollout_id ?? null,
        task: spec?.task ?? null,
        versions: started?.type === 'rollout.started' ? started.versions : null,
        sandbox: started?.type === 'rollout.started' ? started.sandbox : null,
        limits: spec?.limits ?? null,
        seed: spec?.seed ?? null,
        outcome: fin?.outcome ?? null,
        reason: fin?.reason ?? null,
        score: fin?.score ?? (verdict?.type === 'verifier.result' ? verdict.score : null),
      },
    },
  };
}
