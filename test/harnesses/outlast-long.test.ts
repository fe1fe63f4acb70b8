// A 1,000-tool-call rollout of the outlast harness against the scripted model, over real HTTP through
// the gateway, with a real sandbox and a real trajectory file, compacting its context as it goes: it completes, every event is in
// the log, and memory stays flat between step 100 and step 1,000.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, expect, it } from 'vitest';
// @ts-expect-error: plain JS fixture
import { makeStepPolicy } from './fixtures/step-policy.mjs';
import { cleanup, ofType, runDirect, startEnv, stepTask } from './helpers.js';

afterAll(cleanup);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function memory(): { rss_mb: number; heap_mb: number; ext_mb: number } {
  gc();
  const m = process.memoryUsage();
  return { rss_mb: Math.round(m.rss / 2 ** 20), heap_mb: Math.round(m.heapUsed / 2 ** 20), ext_mb: Math.round(m.external / 2 ** 20) };
}

it('1,000 tool calls complete, every event is logged, memory stays flat', async () => {
  const STEPS = 999; // + submit = 1,000 tool calls
  const env = await startEnv({ script: makeStepPolicy({ steps: STEPS, bashEvery: 50 }), context_window: 24_000 });
  const task = await stepTask({ steps: STEPS });
  const mem: Record<number, ReturnType<typeof memory>> = {};
  let results = 0;
  const t0 = Date.now();
  const r = await runDirect(env, task, {
    fsync: process.env.OUTLAST_FSYNC === "1", // fsync per event costs ~4 ms here (see bench/RESULTS.md); the harness is what is tested
    settings: { keep_recent_turns: 8, compact_threshold: 0.5 },
    onEvent: (e) => {
      if (e.type !== 'tool.result') return;
      env.sm.requests.length = 0; // the scripted server keeps its latest request bodies; not the harness's memory
      results++;
      if (results % 100 === 0) mem[results] = memory();
    },
  });
  const ms = Date.now() - t0;
  console.log(`[outlast-long] ${ms} ms for 1,000 tool calls; memory at step 100: ${JSON.stringify(mem[100])}, at step 1,000: ${JSON.stringify(mem[1000])}; ${r.events.length} events`);
  console.log(Object.entries(mem).map(([k, v]) => `${k}: rss ${v.rss_mb} heap ${v.heap_mb} ext ${v.ext_mb}`).join(' | '));
  await env.close();

  expect(r.result).toMatchObject({ outcome: 'completed', tool_calls: 1000, turns: 1000 });
  const events = r.events;
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  const calls = ofType(events, 'tool.call');
  const results_ = ofType(events, 'tool.result');
  expect(calls).toHaveLength(1000);
  expect(results_).toHaveLength(1000);
  expect(ofType(events, 'assistant')).toHaveLength(1000);
  const compactions = ofType(events, 'context.compacted').length;
  expect(ofType(events, 'model.response')).toHaveLength(1000 + compactions);
  expect(ofType(events, 'model.request')).toHaveLength(1000 + compactions);
  expect(compactions).toBeGreaterThan(5);
  // every call has its result, in order, and nothing failed
  expect(results_.map((e) => e.call_id)).toEqual(calls.map((e) => e.call_id));
  expect(results_.filter((e) => e.exit_code !== 0)).toEqual([]);
  expect(calls.at(-1)!.name).toBe('submit');
  expect(fs.readdirSync(path.join(r.workspace, 'steps'))).toHaveLength(STEPS);
  // flat: no growth worth the name between step 100 and step 1,000
  expect(mem[1000]!.heap_mb - mem[100]!.heap_mb).toBeLessThan(8);
  expect(mem[1000]!.rss_mb - mem[100]!.rss_mb).toBeLessThan(40);
}, 120_000);
