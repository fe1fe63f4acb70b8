// The same task and script through each of the three protocols gives equivalent trajectories; the
// reasoning carried across turns follows each protocol's rules (Anthropic's signed thinking goes
// back verbatim; plain reasoning only with `preserve_thinking`); task tools record evaluations.
import { afterAll, describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { thinkingSignature, type PolicyRequest, type ScriptedTurn } from '../../src/models/scripted/index.js';
// @ts-expect-error: plain JS fixture
import { makeStepPolicy } from './fixtures/step-policy.mjs';
import { PROTOCOLS, cleanup, ofType, runDirect, snapshot, startEnv, stepTask } from './helpers.js';

afterAll(cleanup);

const STEPS = 6;

/** The step policy with reasoning on every turn and an `evaluate` call after step 3. */
function policy() {
  const base = makeStepPolicy({ steps: STEPS, bashEvery: 3, text: 'Working on it.' });
  return (req: PolicyRequest): ScriptedTurn => {
    const prev = req.messages.at(-2);
    if (prev?.role === 'assistant' && JSON.stringify(prev.tool_calls ?? []).includes('step-0003')) return { reasoning: 'Time to check the score.', tool_calls: [{ name: 'evaluate', arguments: {} }] };
    const t = base(req) as ScriptedTurn;
    return t.tool_calls ? { ...t, reasoning: `Next: ${t.tool_calls[0]!.name}.` } : t;
  };
}

/**
 * A trajectory with everything protocol-specific taken out: ids, times, seqs, model call metadata,
 * and model.request's `messages`, which counts the items of the protocol's own list (one conversation
 * is more Responses items than Chat messages, and fewer Anthropic messages): checked on its own.
 */
function normalize(events: TrajectoryEvent[]): unknown[] {
  return events.flatMap((e): unknown[] => {
    switch (e.type) {
      case 'model.request':
        return [{ type: e.type, tools: e.tools, stream: e.stream }];
      case 'model.response':
        return [{ type: e.type, status: e.status, output: e.usage.output }];
      case 'assistant':
        return [{ type: e.type, text: e.text, reasoning: e.reasoning, calls: e.tool_calls.map((c) => [c.name, c.arguments]) }];
      case 'tool.call':
        return [{ type: e.type, name: e.name, arguments: e.arguments, repeated: e.repeated }];
      case 'tool.result':
        return [{ type: e.type, name: e.name, output: e.output, exit_code: e.exit_code, timed_out: e.timed_out }];
      case 'evaluation':
        return [{ type: e.type, score: e.score, passed: e.passed, tool_calls: e.tool_calls }];
      case 'note':
        return [{ type: e.type, message: e.message.replace(/prompt cache hit ratio .*$/, '') }];
      default:
        return [{ type: e.type }];
    }
  });
}

describe('three protocols', () => {
  it('the same task and script give equivalent trajectories', async () => {
    const env = await startEnv({ script: policy() });
    const task = await stepTask({ steps: STEPS });
    const runs = [];
    for (const p of PROTOCOLS) runs.push(await runDirect(env, task, { protocol: p, limits: { turns: 50 } }));
    await env.close();
    // `messages` is the length of the list each request sent (the runs went one after another).
    const sent = env.sm.requests.map((q) => { const b = q.body as { messages?: unknown[]; input?: unknown[] }; return (b.messages ?? b.input)!.length; });
    expect(runs.flatMap((r) => ofType(r.events, 'model.request').map((e) => e.messages))).toEqual(sent);
    for (const r of runs) expect(r.result).toMatchObject({ outcome: 'completed', tool_calls: STEPS + 2, turns: STEPS + 2 });
    const [chat, responses, anthropic] = runs.map((r) => normalize(r.events));
    expect(responses).toEqual(chat);
    expect(anthropic).toEqual(chat);
    const files = runs.map((r) => snapshot(r.workspace));
    expect(files[1]).toEqual(files[0]);
    expect(files[2]).toEqual(files[0]);
    // the evaluate tool recorded an intermediate score: 4 step files after 5 tool calls
    for (const r of runs) expect(ofType(r.events, 'evaluation')).toEqual([expect.objectContaining({ score: 4, passed: true, tool_calls: 5, details: { score: 4, correct: true } })]);
  });

  it('Anthropic: thinking blocks go back with their signatures, verbatim', async () => {
    const env = await startEnv({ script: policy() });
    const r = await runDirect(env, await stepTask({ steps: STEPS }), { protocol: 'anthropic' });
    expect(r.result.outcome).toBe('completed');
    const a = ofType(r.events, 'assistant')[0] as unknown as { reasoning: string; reasoning_blocks: unknown };
    expect(a.reasoning_blocks).toEqual([{ text: a.reasoning, signature: thinkingSignature(a.reasoning) }]);
    const last = env.sm.requests.at(-1)!.body as { messages: { role: string; content: { type: string; thinking?: string; signature?: string }[] }[]; system: unknown };
    const thinking = last.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).filter((b) => b.type === 'thinking');
    expect(thinking).toHaveLength(STEPS + 1);
    for (const b of thinking) expect(b.signature).toBe(thinkingSignature(b.thinking!));
    // prompt-cache breakpoints on the system prompt and the newest block
    expect(JSON.stringify(last.system)).toContain('"cache_control":{"type":"ephemeral"}');
    expect(JSON.stringify(last.messages.at(-1))).toContain('"cache_control"');
    await env.close();
  });

  it('OpenAI Chat: reasoning goes back only with preserve_thinking', async () => {
    for (const preserve of [false, true]) {
      const env = await startEnv({ script: policy(), ...(preserve ? { extra_params: { preserve_thinking: true } } : {}) });
      const r = await runDirect(env, await stepTask({ steps: STEPS }), { protocol: 'openai-chat' });
      expect(r.result.outcome).toBe('completed');
      const last = env.sm.requests.at(-1)!.body as { messages: { role: string; reasoning_content?: string }[] };
      const withReasoning = last.messages.filter((m) => m.role === 'assistant' && m.reasoning_content);
      expect(withReasoning.length).toBe(preserve ? STEPS + 1 : 0);
      await env.close();
    }
  });

  it('reports the prompt-cache hit ratio of the rollout', async () => {
    const env = await startEnv({ script: policy() });
    const r = await runDirect(env, await stepTask({ steps: STEPS }), { protocol: 'openai-responses' });
    await env.close();
    const responses = ofType(r.events, 'model.response');
    const ratio = responses.reduce((n, e) => n + e.usage.cached, 0) / responses.reduce((n, e) => n + e.usage.input, 0);
    expect(r.result.cache_hit_ratio).toBeCloseTo(ratio, 10);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ofType(r.events, 'note').at(-1)!.message).toContain(`prompt cache hit ratio ${(ratio * 100).toFixed(1)}%`);
  });
});
