// Outlast harness overhead benchmark: the orchestration cost per step of a long scripted rollout —
// everything except model time and tool execution time — at steps 10, 100 and 1,000, and the
// process's RSS at those points.
//
//   npm run build && node dist/bench/harness.js [--steps 1000] [--window 8000] [--modes fsync,nofsync,full] [--no-cache]
//
// Set-up: the scripted model server (TTFT 0, no pacing) behind the real gateway, both in this process
// as the runner runs them; a real bwrap sandbox; a real trajectory file. The model follows the
// deterministic step policy of test/harnesses (one `write_file` per step, then `submit`).
//
// Per step (tool.result to tool.result): step time − model time − tool time = overhead, where model
// time runs from the harness's fetch() to the last byte of the response stream (gateway + scripted
// model, both protocols' work, and the loopback hops), and tool time from the tool.call event to the
// tool.result event. The overhead is then the harness's own work: building the request (messages,
// JSON), reading the reply into an event, appending events (with fsync per event, as the runner's
// TrajectoryWriter does by default), the state and budget folds, and waiting for the gateway's
// model.response event. Figures are medians over the 11 steps around each step shown.
// "all appends" is the time spent in TrajectoryWriter.append for all 5 events of a step (model.request
// and model.response by the gateway, assistant, tool.call and tool.result by the harness), fsync
// included: the gateway's fall in model time, tool.result's in tool time, the other two in overhead.
//
// --no-cache turns off the scripted server's prompt-prefix cache, which remembers every prompt block it
// has seen (by design) and so grows this process's heap by a little every step; it is not the harness.
//
// Modes: `fsync` — compacting context (window --window tokens), fsync per event (the default runner
// setting); `nofsync` — the same without fsync; `full` — no context window (the whole conversation is
// sent every step, so request building grows with the step number), no fsync.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startGateway } from '../src/gateway/server.js';
import { OutlastHarness } from '../src/harnesses/outlast/index.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../src/models/config.js';
import { startScriptedModel, type NormalizedMessage, type PolicyRequest, type ScriptedTurn } from '../src/models/scripted/index.js';
import { createSandbox } from '../src/sandbox/index.js';
import { TrajectoryWriter } from '../src/store/trajectory.js';
import { loadTask } from '../src/tasks/load.js';
import type { ModelEndpoint } from '../src/core/types.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** The step policy (same moves as test/harnesses/fixtures/step-policy.mjs, write_file only). */
function stepPolicy(steps: number) {
  const re = /step-(\d+)/g;
  const lastStep = (messages: NormalizedMessage[]): number => {
    let last = -1;
    for (const m of messages) {
      if (m.role === 'assistant') for (const c of m.tool_calls ?? []) for (const x of JSON.stringify(c.arguments).matchAll(re)) last = Math.max(last, Number(x[1]));
      if (m.role === 'user') {
        const x = /steps done through (-?\d+)/.exec(m.text);
        if (x) last = Math.max(last, Number(x[1]));
      }
    }
    return last;
  };
  return ({ messages }: PolicyRequest): ScriptedTurn => {
    const done = lastStep(messages);
    if (messages.at(-1)!.text.includes('[outlast:summarize]')) return { text: `Progress: steps done through ${done}.` };
    const k = done + 1;
    if (k >= steps) return { tool_calls: [{ name: 'submit', arguments: {} }] };
    return { tool_calls: [{ name: 'write_file', arguments: { path: `steps/step-${String(k).padStart(5, '0')}.txt`, content: `step ${k}\n` } }] };
  };
}

interface Point {
  step: number;
  overhead_ms: number;
  append_ms: number;
  model_ms: number;
  tool_ms: number;
  rss_mb: number;
  heap_mb: number;
}

async function runMode(mode: string, steps: number, window: number): Promise<{ points: Point[]; total_s: number; mean_overhead_ms: number; compactions: number }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-bench-harness-'));
  const taskDir = path.join(root, 'task');
  fs.mkdirSync(path.join(taskDir, 'tests'), { recursive: true });
  fs.writeFileSync(path.join(taskDir, 'task.toml'), '[task]\nname = "bench"\n');
  fs.writeFileSync(path.join(taskDir, 'instruction.md'), `Write ${steps - 1} step files, then submit.\n`);
  fs.writeFileSync(path.join(taskDir, 'tests', 'test.sh'), '#!/bin/bash\ntrue\n');
  const task = await loadTask(taskDir);
  const sm = await startScriptedModel({ script: stepPolicy(steps - 1), cache: !process.argv.includes('--no-cache') });
  const endpoint: ModelEndpoint = { name: 'bench', protocol: 'openai-chat', base_url: `${sm.url}/v1`, upstream_model: 'scripted', ...(mode === 'full' ? {} : { context_window: window }) };
  const gw = await startGateway({ models: { models: [endpoint], gateway: DEFAULT_GATEWAY_SETTINGS }, env: {} });
  const sandbox = await createSandbox('bwrap');
  const workspace = path.join(root, 'workspace');
  fs.mkdirSync(workspace);
  const log = new TrajectoryWriter(path.join(root, 'trajectory.jsonl'), { fsync: mode === 'fsync' });
  const token = gw.registerRollout({ rolloutId: 'bench', log });
  // Time spent appending events (the harness's and the gateway's), fsync included: reported on its own.
  let appendMs = 0;
  const append = log.append.bind(log);
  log.append = ((e: Parameters<typeof log.append>[0]) => {
    const t = performance.now();
    try {
      return append(e);
    } finally {
      appendMs += performance.now() - t;
    }
  }) as typeof log.append;

  // Model time as the harness sees it: fetch() until the response stream's last byte.
  const realFetch = globalThis.fetch;
  let modelMs = 0;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const t0 = performance.now();
    const res = await realFetch(input, init);
    if (!res.body) {
      modelMs += performance.now() - t0;
      return res;
    }
    const body = res.body.pipeThrough(new TransformStream({ flush: () => void (modelMs += performance.now() - t0) }));
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }) as typeof fetch;

  const marks = new Set([10, 100, 250, 500, 750, 1000, 2000, 3000, 5000, steps].filter((m) => m <= steps));
  const per: { overhead: number; model: number; tool: number; append: number }[] = [];
  const mem = new Map<number, { rss_mb: number; heap_mb: number }>();
  let lastResult = 0;
  let callAt = 0;
  let compactions = 0;
  log.onEvent((e) => {
    const now = performance.now();
    if (e.type === 'context.compacted') compactions++;
    if (e.type === 'tool.call') callAt = now;
    if (e.type !== 'tool.result') return;
    const step = per.length + 1;
    if (lastResult) {
      const tool = now - callAt;
      per.push({ overhead: now - lastResult - tool - modelMs, model: modelMs, tool, append: appendMs });
    } else per.push({ overhead: NaN, model: modelMs, tool: now - callAt, append: appendMs });
    modelMs = 0;
    appendMs = 0;
    sm.requests.length = 0; // the scripted server keeps its latest request bodies; not the harness's memory
    if (marks.has(step)) {
      gc();
      const m = process.memoryUsage();
      mem.set(step, { rss_mb: m.rss / 2 ** 20, heap_mb: m.heapUsed / 2 ** 20 });
    }
    lastResult = performance.now(); // the memory probe is not the harness's time
  });

  const t0 = performance.now();
  const r = await new OutlastHarness({ max_tokens: 1024 }).run({
    task,
    workspace,
    sandbox,
    log,
    limits: {},
    seed: 0,
    model: { gateway_url: gw.url, token, endpoint },
    signal: new AbortController().signal,
  });
  const total_s = (performance.now() - t0) / 1000;
  globalThis.fetch = realFetch;
  log.close();
  await gw.close();
  await sm.close();
  fs.rmSync(root, { recursive: true, force: true });
  if (r.outcome !== 'completed' || r.tool_calls !== steps) throw new Error(`bench rollout ended ${r.outcome} after ${r.tool_calls} tool calls: ${r.reason}`);

  const median = (xs: number[]) => {
    const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? NaN;
  };
  const around = (step: number, k: keyof (typeof per)[number]) => median(per.slice(Math.max(1, step - 6), Math.min(per.length, step + 5)).map((p) => p[k]));
  const points = [...marks].sort((a, b) => a - b).map((step) => ({
    step,
    overhead_ms: around(step, 'overhead'),
    append_ms: around(step, 'append'),
    model_ms: around(step, 'model'),
    tool_ms: around(step, 'tool'),
    rss_mb: mem.get(step)!.rss_mb,
    heap_mb: mem.get(step)!.heap_mb,
  }));
  const all = per.slice(1).map((p) => p.overhead);
  return { points, total_s, mean_overhead_ms: all.reduce((a, b) => a + b, 0) / all.length, compactions };
}

async function main(): Promise<void> {
  const steps = Number(arg('--steps') ?? 1000);
  const window = Number(arg('--window') ?? 8000);
  const modes = (arg('--modes') ?? 'fsync,nofsync,full').split(',');
  console.log(`outlast harness overhead: ${steps} tool calls, scripted model (TTFT 0, unpaced) via the in-process gateway, openai-chat, bwrap, Node ${process.version}, ${os.cpus().length} CPUs`);
  for (const mode of modes) {
    const r = await runMode(mode, steps, window);
    console.log(`\nmode ${mode}${mode === 'full' ? ' (no context window)' : ` (context window ${window}, ${r.compactions} compactions)`}: ${r.total_s.toFixed(1)} s in all, mean overhead ${r.mean_overhead_ms.toFixed(2)} ms/step`);
    console.log('| step | overhead ms/step | model ms | tool ms | all appends ms | RSS MiB | heap MiB |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const p of r.points) console.log(`| ${p.step} | ${p.overhead_ms.toFixed(2)} | ${p.model_ms.toFixed(2)} | ${p.tool_ms.toFixed(2)} | ${p.append_ms.toFixed(2)} | ${p.rss_mb.toFixed(0)} | ${p.heap_mb.toFixed(1)} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
