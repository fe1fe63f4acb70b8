// The outlast loop: ask the model (through the gateway), record its reply, run its tool calls in the
// sandbox, repeat until it submits, gives up, or runs out of budget. All state lives in the
// trajectory: ConversationState (state.ts) is rebuilt from the log and kept current by folding in
// every event appended, so this file only decides what happens next and appends events.
import { outageBackoffMs, outagePatienceMs } from '../../core/outage.js';
import type { Outcome } from '../../core/types.js';
import type { IRMessage } from '../../gateway/ir.js';
import type { HarnessContext, HarnessResult } from '../harness.js';
import { fmtDuration } from './budget.js';
import { ModelCallError, type Reply, assistantEvent, callModel } from './client.js';
import { compactedEvent, isOverflow, planCompaction, summaryMessages, toolsTokens } from './context.js';
import type { OutlastSettings } from './settings.js';
import { ConversationState } from './state.js';
import { missingEvaluation, openToolSession, runTool, toolDefinitions } from './tools.js';
import { FINAL_NOTE, ResponseWaiter, abortError, deadline, finalNote, iso, sleep } from './support.js';
import { WireBuilder } from './wire.js';

export type LoopResult = HarnessResult & { cache_hit_ratio: number | null };

export async function runLoop(ctx: HarnessContext, settings: OutlastSettings): Promise<LoopResult> {
  const model = ctx.model;
  if (!model) throw new Error('the outlast harness needs a model (ctx.model): run it with --model');
  const { log, signal } = ctx;
  // Without a wall-time limit the runner stops the harness at the task's agent timeout: wind down before it.
  const limits = { ...ctx.limits, wall_time_sec: ctx.limits.wall_time_sec ?? ctx.task.agent_timeout_sec };
  const state = new ConversationState(ctx.task.instruction, limits, model.endpoint);
  for (const e of log.existing) state.apply(e);
  const responses = new ResponseWaiter();
  let live = true;
  log.onEvent((e) => {
    if (!live) return;
    state.apply(e);
    responses.observe(e);
  });
  state.budget.begin(Date.now());
  const lostEvaluation = missingEvaluation(log.existing, ctx.task.tools);
  if (lostEvaluation) log.append(lostEvaluation);
  const tools = toolDefinitions(ctx.task.tools);
  const toolTok = toolsTokens(tools);
  const window = settings.context_window ?? model.endpoint.context_window;
  const wire = new WireBuilder(model.endpoint.protocol);
  // One long-lived sandbox runs every tool command of the rollout (sandbox/session.ts).
  const session = openToolSession(ctx);

  const end = (outcome: Outcome, reason: string): LoopResult => {
    const r = { outcome, reason, tool_calls: state.toolCalls, turns: state.turns, cache_hit_ratio: state.budget.cacheHitRatio() };
    if (!state.noted(FINAL_NOTE)) log.append(finalNote(r, state));
    live = false;
    return r;
  };
  const windDown = (why: string): LoopResult => {
    if (!state.noted('budget exhausted:')) log.append({ type: 'note', level: 'info', message: `budget exhausted: ${why}. Time is up: no further turns; the workspace is graded as it is.` });
    return end('budget_exhausted', why);
  };
  const patienceMs = outagePatienceMs(ctx.limits);
  /**
   * One model call, bounded by the wall time left. A call that fails for infrastructure reasons (the
   * gateway's own retries spent) starts a provider outage: wait (capped exponential backoff with
   * jitter) and try again, at least `model_retries` times and for as long as the outage patience
   * lasts, each wait logged (`outage.wait`, then `outage.end`). Outage time is not charged to the
   * agent (budget.ts), so calls made during one run without the wall-time deadline: the gateway's
   * timeouts bound each, the patience bounds them all.
   */
  const ask = async (messages: readonly IRMessage[]): Promise<Reply> => {
    let outage: { since: number; attempts: number } | null = null;
    for (;;) {
      const call = deadline(signal, outage ? undefined : state.budget.timeLeftMs(Date.now(), false));
      let failure: ModelCallError;
      try {
        const body = wire.body(model.endpoint.name, { tools, max_tokens: settings.max_tokens, temperature: settings.temperature }, messages);
        const reply = await callModel(model, body, call.signal);
        if (reply.call_id) await responses.wait(reply.call_id, 2000); // usage is in the log before the reply is
        if (outage) log.append({ type: 'outage.end', since: iso(outage.since), waited_ms: Date.now() - outage.since, attempts: outage.attempts, recovered: true });
        return reply;
      } catch (e) {
        if (signal.aborted) throw abortError(signal);
        if (call.expired()) throw new ModelCallError('budget', state.budget.exhausted(Date.now()) ?? 'time limit reached during a model call');
        if (!(e instanceof ModelCallError) || e.kind !== 'infra') throw e;
        failure = e;
      } finally {
        call.done();
      }
      const now = Date.now();
      outage ??= { since: now, attempts: 0 };
      const left = patienceMs - (now - outage.since);
      if (left <= 0 && outage.attempts >= settings.model_retries) {
        const waited = now - outage.since;
        log.append({ type: 'outage.end', since: iso(outage.since), waited_ms: waited, attempts: outage.attempts, recovered: false });
        throw new ModelCallError('infra', `provider outage: model calls failed for ${fmtDuration(waited)}, past the outage patience of ${fmtDuration(patienceMs)} (last: ${failure.message}); \`outlast resume\` continues the rollout`);
      }
      outage.attempts++;
      const backoff = outageBackoffMs(outage.attempts, settings.outage_backoff_ms, settings.outage_backoff_max_ms);
      const wait = left > 0 ? Math.min(backoff, left) : backoff;
      log.append({ type: 'outage.wait', since: iso(outage.since), attempt: outage.attempts, next_in_ms: wait, reason: failure.message, patience_left_ms: Math.max(0, left - wait) });
      await sleep(wait, signal);
    }
  };

  let overflow = false; // the last request was refused as too long: compact before the next one
  let retriedOverflow = false;
  try {
    for (;;) {
      // Run the latest turn's tool calls (after a resume: those the crash left without a result).
      for (const { call, repeat } of state.pending()) {
        if (signal.aborted) throw abortError(signal);
        log.append({ type: 'tool.call', call_id: call.id, name: call.name, arguments: call.arguments, ...(repeat ? { repeated: true } : {}) });
        const r = await runTool(call.name, call.arguments, { ctx, settings, session, timeLeftMs: state.budget.timeLeftMs(Date.now()) });
        log.append({ type: 'tool.result', call_id: call.id, name: call.name, exit_code: r.exit_code, duration_ms: r.duration_ms, output: r.output, truncated_bytes: r.truncated_bytes, timed_out: r.timed_out, ...(r.error ? { error: r.error } : {}) });
        if (r.evaluation) log.append({ type: 'evaluation', ...r.evaluation, tool_calls: state.toolCalls });
        if (r.stop) return windDown(r.stop);
        if (r.submitted) break;
      }
      if (state.submitted) return end('completed', 'the agent called submit');
      if (state.idle >= settings.idle_rounds) return end('gave_up', `gave up: ${state.idle} consecutive replies without a tool call (idle_rounds = ${settings.idle_rounds})`);
      const over = state.budget.exhausted(Date.now());
      if (over) return windDown(over);

      // Compact when the next request would pass the threshold of the context window (or was refused as too long).
      const plan = window || overflow ? planCompaction(state, toolTok, settings.max_tokens, window, settings.compact_threshold, settings.keep_recent_turns, overflow) : null;
      overflow = false;
      if (plan) {
        const r = await ask(summaryMessages(state, plan));
        log.append(compactedEvent(state, plan, r.text, toolTok));
        continue;
      }

      try {
        log.append(assistantEvent(await ask(state.messages())));
      } catch (e) {
        if (!(e instanceof ModelCallError && e.kind === 'request' && isOverflow(e.status, e.message)) || retriedOverflow) throw e;
        log.append({ type: 'note', level: 'warning', message: `the request was refused as too long (${e.message}); compacting the context` });
        overflow = retriedOverflow = true;
        continue;
      }
      retriedOverflow = false;
    }
  } catch (e) {
    if (e instanceof ModelCallError && e.kind === 'budget') return windDown(e.message);
    if (e instanceof ModelCallError) return end('infra_error', e.message);
    live = false;
    throw e;
  } finally {
    await session.close();
  }
}
