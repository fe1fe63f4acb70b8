// Endurance benchmark, per-step part: what one step of a long rollout costs outlast itself at steps
// 100, 1,000 and 10,000, with the whole conversation sent every step (no compaction) and with a
// compacting context.
//
//   npm run build && node dist/bench/endurance.js [--steps 10000] [--modes full,compact] [--window 8000] [--protocol openai-chat] [--fsync] [--in-process]
//
// Set-up: the built-in harness and the real gateway in this process, as the runner runs them, against
// the scripted model (TTFT 0, unpaced, no prompt cache) in a worker thread of its own (its heap and
// garbage collection apart, as an upstream's would be; --in-process puts it in this thread); a real
// bwrap sandbox and a real trajectory file (fsync off unless --fsync). The model follows
// test/harnesses/fixtures/endurance-policy.mjs: step k overwrites `current.txt` with `write_file` (a
// host-side tool whose cost does not grow: the workspace stays one file), then it submits.
//
// Overhead of a step (tool.result to tool.result) = its wall time − the tool's time (tool.call to
// tool.result) − the scripted model's own time (ScriptedModel.busyMs: each request from its arrival
// at the model, headers in, to its answer written; reading the request off its socket is the model's,
// as it would be on a remote upstream's machine). What is left is outlast's: the harness's state and
// compaction check, the request body, sending it (harness → gateway, read by the gateway, written on
// to the model), the gateway's stages (parse, admit, build, send, the SSE relay, the record appends),
// reading the reply, and appending the harness's events. "Upload" is the part from the harness's
// request being made to the gateway having read its body (diagnostics channels of undici and
// node:http): for a long conversation mostly the request's bytes crossing the loopback, which any
// HTTP client and proxy pay in proportion to the request's size; the rest is outlast's own work.
// Medians over the 21 steps around each step
// shown; RSS and heap of the whole process (harness, gateway and, with --in-process, the scripted
// server) after a forced GC.
import dc from 'node:diagnostics_channel';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startGateway } from '../src/gateway/server.js';
import { OutlastHarness } from '../src/harnesses/outlast/index.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../src/models/config.js';
import { loadScript, startScriptedModel, startScriptedModelThread } from '../src/models/scripted/index.js';
import { createSandbox } from '../src/sandbox/index.js';
import { TrajectoryWriter } from '../src/store/trajectory.js';
import { loadTask } from '../src/tasks/load.js';
import type { ModelEndpoint, Protocol } from '../src/core/types.js';

const POLICY = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/harnesses/fixtures/endurance-policy.mjs');

/** The scripted model (steps - 1 steps, then submit), in its own thread unless `inProcess`. */
async function startModel(steps: number, inProcess: boolean): Promise<{ url: string; busyMs: number; clear(): void; close(): Promise<void> }> {
  process.env.OUTLAST_STEPS = String(steps - 1);
  if (!inProcess) {
    const t = await startScriptedModelThread({ script: POLICY, cache: false, record_requests: false, env: { OUTLAST_STEPS: String(steps - 1) } });
    return { url: t.url, get busyMs() { return t.busyMs; }, clear: () => {}, close: () => t.close() };
  }
  const sm = await startScriptedModel({ script: await loadScript(POLICY), cache: false });
  // The scripted server keeps every request; that is not outlast's memory.
  return { url: sm.url, get busyMs() { return (sm as { busyMs?: number }).busyMs ?? NaN; }, clear: () => void (sm.requests.length = 0), close: () => sm.close() };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Step {
  overhead: number;
  /** Of the overhead: the harness's request until the gateway had read its body (the bytes crossing the loopback). */
  upload: number;
  model: number;
  tool: number;
  bytes: number;
}

/**
 * Time from each of the harness's requests to the gateway being made (undici's diagnostics channel)
 * to the gateway having read its whole body (node:http's): the request's bytes crossing the loopback.
 */
function uploads(gatewayPort: number): { total: number; close(): void } {
  const made: number[] = [];
  const acc = { total: 0, close: () => {} };
  const create = ({ request }: { request: { origin?: string } }) => void (request.origin === `http://127.0.0.1:${gatewayPort}` && made.push(performance.now()));
  const start = ({ request, socket }: { request: http.IncomingMessage; socket: { localPort?: number } }) => {
    if (socket.localPort !== gatewayPort) return;
    request.once('end', () => {
      const t = made.shift();
      if (t !== undefined) acc.total += performance.now() - t;
    });
  };
  dc.subscribe('undici:request:create', create as (m: unknown) => void);
  dc.subscribe('http.server.request.start', start as (m: unknown) => void);
  acc.close = () => {
    dc.unsubscribe('undici:request:create', create as (m: unknown) => void);
    dc.unsubscribe('http.server.request.start', start as (m: unknown) => void);
  };
  return acc;
}

/** Per-step timings of a rollout, read from its events as they are appended. */
function meter(log: TrajectoryWriter, busy: () => number, upload: () => number, marks: Set<number>, mem: Map<number, { rss: number; heap: number }>, onStep: () => void): Step[] {
  const steps: Step[] = [];
  let lastResult = 0;
  let callAt = 0;
  let busyAt = busy();
  let upAt = upload();
  let bytes = 0;
  log.onEvent((e) => {
    const now = performance.now();
    if (e.type === 'model.request') bytes = e.request_bytes ?? 0;
    if (e.type === 'tool.call') callAt = now;
    if (e.type !== 'tool.result') return;
    const model = busy() - busyAt;
    const tool = now - callAt;
    steps.push({ overhead: lastResult ? now - lastResult - tool - model : NaN, upload: upload() - upAt, model, tool, bytes });
    onStep();
    if (marks.has(steps.length)) {
      gc();
      const m = process.memoryUsage();
      mem.set(steps.length, { rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 });
    }
    busyAt = busy();
    upAt = upload();
    lastResult = performance.now(); // the memory probe is not outlast's time
  });
  return steps;
}

async function runMode(mode: string, steps: number, window: number, protocol: Protocol, o: { fsync: boolean; inProcess: boolean }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-bench-endurance-'));
  const taskDir = path.join(root, 'task');
  fs.mkdirSync(path.join(taskDir, 'tests'), { recursive: true });
  fs.writeFileSync(path.join(taskDir, 'task.toml'), '[task]\nname = "endurance"\n\n[agent]\ntimeout_sec = 86400\n');
  fs.writeFileSync(path.join(taskDir, 'instruction.md'), `Write ${steps - 1} steps, then submit.\n`);
  fs.writeFileSync(path.join(taskDir, 'tests', 'test.sh'), '#!/bin/bash\ntrue\n');
  const task = await loadTask(taskDir);
  const sm = await startModel(steps, o.inProcess);
  const endpoint: ModelEndpoint = { name: 'bench', protocol, base_url: `${sm.url}/v1`, upstream_model: 'scripted', ...(mode === 'compact' ? { context_window: window } : {}) };
  const gw = await startGateway({ models: { models: [endpoint], gateway: DEFAULT_GATEWAY_SETTINGS }, env: {} });
  const sandbox = await createSandbox('bwrap');
  const workspace = path.join(root, 'workspace');
  fs.mkdirSync(workspace);
  await sandbox.adopt(workspace);
  const log = new TrajectoryWriter(path.join(root, 'trajectory.jsonl'), { fsync: o.fsync });
  const token = gw.registerRollout({ rolloutId: 'bench', log });
  const marks = new Set([10, 100, 1000, 3000, 10_000, steps].filter((m) => m <= steps));
  const mem = new Map<number, { rss: number; heap: number }>();
  const busy = () => sm.busyMs;
  let compactions = 0;
  log.onEvent((e) => void (e.type === 'context.compacted' && compactions++));
  const up = uploads(gw.port);
  const per = meter(log, busy, () => up.total, marks, mem, () => sm.clear());
  const t0 = performance.now();
  const r = await new OutlastHarness({ max_tokens: 1024 }).run({ task, workspace, sandbox, log, limits: {}, seed: 0, model: { gateway_url: gw.url, token, endpoint }, signal: new AbortController().signal });
  const total_s = (performance.now() - t0) / 1000;
  up.close();
  log.close();
  await gw.close();
  await sm.close();
  fs.rmSync(root, { recursive: true, force: true });
  if (r.outcome !== 'completed' || r.tool_calls !== steps) throw new Error(`bench rollout ended ${r.outcome} after ${r.tool_calls} tool calls: ${r.reason}`);
  return { per, mem, marks, total_s, compactions };
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

function table(r: Awaited<ReturnType<typeof runMode>>): string[] {
  const around = (step: number, f: (p: Step) => number) => median(r.per.slice(Math.max(1, step - 11), Math.min(r.per.length, step + 10)).map(f));
  const own = (p: Step) => p.overhead - p.upload;
  const [base, baseOwn] = [around(100, (p) => p.overhead), around(100, own)];
  const rows = ['| step | overhead ms/step | × step 100 | of which upload ms | overhead − upload ms | × step 100 | model ms | tool ms | request KiB | RSS MiB | heap MiB |', '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const step of [...r.marks].sort((a, b) => a - b)) {
    const o = around(step, (p) => p.overhead);
    const w = around(step, own);
    const m = r.mem.get(step)!;
    rows.push(`| ${step} | ${o.toFixed(2)} | ${(o / base).toFixed(2)} | ${around(step, (p) => p.upload).toFixed(2)} | ${w.toFixed(2)} | ${(w / baseOwn).toFixed(2)} | ${around(step, (p) => p.model).toFixed(2)} | ${around(step, (p) => p.tool).toFixed(2)} | ${(around(step, (p) => p.bytes) / 1024).toFixed(0)} | ${m.rss.toFixed(0)} | ${m.heap.toFixed(1)} |`);
  }
  return rows;
}

async function main(): Promise<void> {
  const steps = Number(arg('--steps') ?? 10_000);
  const window = Number(arg('--window') ?? 8000);
  const protocol = (arg('--protocol') ?? 'openai-chat') as Protocol;
  const o = { fsync: process.argv.includes('--fsync'), inProcess: process.argv.includes('--in-process') };
  const modes = (arg('--modes') ?? 'full,compact').split(',');
  console.log(`outlast endurance, per step: ${steps} tool calls, ${protocol}, scripted model (TTFT 0, unpaced, no prompt cache, ${o.inProcess ? 'in this thread' : 'in its own thread'}) via the in-process gateway, bwrap, fsync ${o.fsync ? 'on' : 'off'}, Node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const mode of modes) {
    const r = await runMode(mode, steps, window, protocol, o);
    console.log(`\nmode ${mode}${mode === 'full' ? ' (no context window: the whole conversation every step)' : ` (context window ${window} tokens, ${r.compactions} compactions)`}: ${r.total_s.toFixed(1)} s in all; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    for (const line of table(r)) console.log(line);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
