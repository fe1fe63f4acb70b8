// Context management: compaction triggers when the next request would pass the configured fraction of
// the context window, the model summarises the older turns, the instruction and the most recent turns
// stay verbatim, a `context.compacted` event records it, and the run continues coherently.
import { afterAll, describe, expect, it } from 'vitest';
import { SUMMARY_HEADER, SUMMARY_MARKER } from '../../src/harnesses/outlast/index.js';
import type { NormalizedMessage, PolicyRequest } from '../../src/models/scripted/index.js';
// @ts-expect-error: plain JS fixture
import { makeStepPolicy } from './fixtures/step-policy.mjs';
import { PROTOCOLS, cleanup, ofType, runDirect, startEnv, stepTask } from './helpers.js';

afterAll(cleanup);

const WINDOW = 2600;
const MAX_TOKENS = 200;

async function run(threshold: number, protocol: (typeof PROTOCOLS)[number] = 'openai-chat') {
  const seen: NormalizedMessage[][] = [];
  const policy = makeStepPolicy({ steps: 30, bashEvery: 0 });
  const env = await startEnv({
    script: (req: PolicyRequest) => {
      seen.push(req.messages);
      return policy(req);
    },
    context_window: WINDOW,
  });
  const task = await stepTask({ steps: 30 });
  const r = await runDirect(env, task, { protocol, settings: { compact_threshold: threshold, keep_recent_turns: 3, max_tokens: MAX_TOKENS } });
  await env.close();
  return { r, seen };
}

describe('compaction', () => {
  it('triggers at the threshold, keeps instruction + recent turns, and the run continues coherently', async () => {
    const { r, seen } = await run(0.5);
    expect(r.result).toMatchObject({ outcome: 'completed', tool_calls: 31, turns: 31 });
    const compactions = ofType(r.events, 'context.compacted');
    expect(compactions.length).toBeGreaterThanOrEqual(2);
    for (const c of compactions) {
      // it triggered because the next request (plus room for the reply) would pass 50% of the window
      expect(c.tokens_before + MAX_TOKENS).toBeGreaterThan(0.5 * WINDOW);
      expect(c.tokens_after).toBeLessThan(c.tokens_before);
      expect(c.turns_summarized).toBeGreaterThan(0);
      expect((c as unknown as { summary: string }).summary).toMatch(/^Progress: steps done through \d+\.$/);
    }
    // One summary request per compaction, each carrying the marker as its last message.
    const summaryRequests = seen.filter((m) => m.at(-1)!.text.includes(SUMMARY_MARKER));
    expect(summaryRequests).toHaveLength(compactions.length);

    // The request right after the first compaction: system + instruction + summary + the 3 most recent turns.
    const i = seen.findIndex((m) => m.at(-1)!.text.includes(SUMMARY_MARKER));
    const after = seen[i + 1]!;
    expect(after[0]!.role).toBe('system');
    expect(after[1]!.text).toMatch(/^Write step files/);
    expect(after[2]!.text).toContain(SUMMARY_HEADER);
    const done = Number(/steps done through (\d+)/.exec(after[2]!.text)![1]);
    const kept = after.slice(3).filter((m) => m.role === 'assistant').map((m) => (m.tool_calls![0]!.arguments as { path: string }).path);
    expect(kept).toEqual([done - 2, done - 1, done].map((k) => `steps/step-${String(k).padStart(4, '0')}.txt`));
    expect(JSON.stringify(after)).not.toContain('step-0001');

    // Coherent: every step written exactly once, in order, then submit.
    const paths = ofType(r.events, 'tool.call').filter((c) => c.name === 'write_file').map((c) => (c.arguments as { path: string }).path);
    expect(paths).toEqual(Array.from({ length: 30 }, (_, k) => `steps/step-${String(k).padStart(4, '0')}.txt`));
    // The summary calls are metered model calls, but not turns.
    expect(ofType(r.events, 'model.response')).toHaveLength(31 + compactions.length);
  });

  it('a higher threshold compacts later and less often', async () => {
    const low = await run(0.5);
    const high = await run(0.65);
    const first = (events: typeof low.r.events) => events.filter((e) => e.type === 'assistant' || e.type === 'context.compacted').findIndex((e) => e.type === 'context.compacted');
    const nLow = ofType(low.r.events, 'context.compacted').length;
    const nHigh = ofType(high.r.events, 'context.compacted').length;
    expect(nHigh).toBeGreaterThan(0);
    expect(nHigh).toBeLessThan(nLow);
    expect(first(high.r.events)).toBeGreaterThan(first(low.r.events));
    expect(high.r.result.outcome).toBe('completed');
  });

  it('no context window known: no compaction', async () => {
    const env = await startEnv({ script: makeStepPolicy({ steps: 30, bashEvery: 0 }) });
    const r = await runDirect(env, await stepTask({ steps: 30 }), { settings: { compact_threshold: 0.1 } });
    await env.close();
    expect(r.result.outcome).toBe('completed');
    expect(ofType(r.events, 'context.compacted')).toHaveLength(0);
  });

  it('a request refused as too long (the gateway body limit here) forces a compaction, and the run goes on', async () => {
    const env = await startEnv({ script: makeStepPolicy({ steps: 60, bashEvery: 0 }), gateway: { max_body_bytes: 16_000 } });
    const r = await runDirect(env, await stepTask({ steps: 60 }), { settings: { keep_recent_turns: 4 } });
    await env.close();
    expect(r.result).toMatchObject({ outcome: 'completed', tool_calls: 61 });
    const notes = ofType(r.events, 'note').filter((n) => /refused as too long/.test(n.message));
    const compactions = ofType(r.events, 'context.compacted');
    expect(notes.length).toBeGreaterThan(0);
    expect(compactions).toHaveLength(notes.length);
    for (const c of compactions) expect(c.turns_summarized).toBeGreaterThan(0);
    // the gateway refused them before forwarding (no model call recorded), and every step was still written once
    expect(ofType(r.events, 'model.response').filter((e) => e.status !== 200)).toHaveLength(0);
    const paths = ofType(r.events, 'tool.call').filter((c) => c.name === 'write_file').map((c) => (c.arguments as { path: string }).path);
    expect(new Set(paths).size).toBe(60);
  });
});
