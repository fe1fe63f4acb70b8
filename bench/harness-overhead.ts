// What a harness itself costs: one scripted task of N shell steps (default 50) run through the
// built-in `outlast` harness and through each external CLI harness (claude-code, codex, qwen-code,
// openclaw), each through the real runner (the gateway in this process, the rollout's bwrap sandbox,
// the verifier), driven by the scripted model in a worker thread of its own (TTFT 0, unpaced) with
// bench/harness-overhead-policy.mjs: N shell tool calls, one per turn, then `submit` (built-in) or a
// text answer (a CLI's end). Each harness talks to an endpoint in its own protocol (no translation):
// outlast, qwen-code and openclaw Chat Completions, claude-code Anthropic Messages, codex Responses.
//
//   npx tsc -p tsconfig.json && node dist/bench/harness-overhead.js [--steps 50] [--harnesses outlast,claude-code,codex,qwen-code,openclaw]
//
// A built-in rollout is run first and not shown (warm-up of this process). The CLIs must be in the install cache (`outlast harness install all`); a run installs what is missing.
//
// How each column is computed (clock: this process's, at the moment the gateway appends each event to
// the rollout's log, which is in this process):
// - startup s: from the runner calling the harness's run() to the gateway appending the first
//   model.request (the harness's set-up, the sandbox exec, the CLI's own start, its first request
//   read by the gateway).
// - overhead ms/step: (W − M − T) / N, with W the wall time from the first model.request to the last
//   model.response, M the scripted model's own time in W (ScriptedModel.busyMs: every request from its
//   arrival, headers in, to its answer written; side calls included), T the tools' own time (each
//   command writes its own start and end with bash's clock into .bench-tool-times; the sum of
//   end − start), N the shell steps. What is left is the harness's (reading each reply, deciding,
//   starting the tool: a fresh sandbox exec for the built-in, a child shell for a CLI, building and
//   sending the next request, its side calls' own overhead) plus the gateway's relay, which is the
//   same code for every harness.
// - end s: the last model.response to run() returning (the CLI's exit and outlast's clean-up).
// - model calls: model.response events (side calls of the CLI included); tool calls: the gateway's
//   count of tool-use blocks in the replies.
// - sandbox peak MiB: the largest sum, over samples every 100 ms, of the PSS (smaps_rollup: shared
//   pages split between the processes that share them, so the sum is the tree's) of every process
//   running as the rollout's agent identity (src/sandbox/identity.ts): the supervisor, the CLI, its
//   node and the tools' shells; for the built-in harness only the tools' sandbox processes (the
//   harness itself lives in this process). A process that lives less than 100 ms can be missed.
// - sandbox CPU ms/step: the user + system time of those processes (/proc/PID/stat, each process at
//   its last sample: what it spent after that, and processes that lived less than 100 ms, are missed),
//   over the whole rollout (start-up included), per shell step.
// - outlast process peak RSS MiB and CPU ms/step: this process's RSS at the same samples and its CPU
//   time over the rollout (the runner, the gateway, the built-in harness when it runs, and the scripted
//   model's thread): the built-in harness's memory and CPU are in there, not separable; for a CLI it is
//   what outlast spends around it (gateway, runner, verifier). The peak RSS only grows from row to
//   row (one process; the heap is not given back).
// - completed: the rollout's outcome and the verifier (steps.log has N step lines).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrajectoryEvent } from '../src/core/events.js';
import type { ModelEndpoint, Protocol, RolloutSpec } from '../src/core/types.js';
import { startGateway } from '../src/gateway/index.js';
import { CLI_SPECS, CliHarness } from '../src/harnesses/cli/index.js';
import type { Harness, HarnessContext } from '../src/harnesses/harness.js';
import { OutlastHarness } from '../src/harnesses/outlast/index.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../src/models/config.js';
import { startScriptedModelThread } from '../src/models/scripted/index.js';
import { runRollout } from '../src/runner/rollout.js';
import { identityFor } from '../src/sandbox/identity.js';
import { createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { openStore } from '../src/store/index.js';
import { Layout } from '../src/store/layout.js';
import { loadTask } from '../src/tasks/load.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const POLICY = path.join(ROOT, 'bench', 'harness-overhead-policy.mjs');
const ALL = ['outlast', 'claude-code', 'codex', 'qwen-code', 'openclaw'];
const PROTOCOL: Record<string, Protocol> = { outlast: 'openai-chat', 'claude-code': 'anthropic', codex: 'openai-responses', 'qwen-code': 'openai-chat', openclaw: 'openai-chat' };

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1]!;
}

interface Peaks {
  /** MiB: the uid's processes' PSS summed, and this process's RSS (maxima over the samples). */
  tree: number;
  self: number;
  /** CPU seconds: the uid's processes (each one's user + system time at its last sample), and this process's. */
  treeCpu: number;
  selfCpu: number;
}

const TICK = 100; // clock ticks per second of /proc/PID/stat (USER_HZ on Linux)

/** Memory and CPU of the processes of one uid and of this process, sampled every 100 ms. */
function sampler(uid: number): { stop(): Peaks } {
  let tree = 0;
  let self = 0;
  const cpu = new Map<string, number>();
  const cpu0 = process.cpuUsage();
  const sample = () => {
    let sum = 0;
    for (const p of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      try {
        if (fs.statSync(`/proc/${p}`).uid !== uid) continue;
        const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
        if (m) sum += Number(m[1]) / 1024;
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
        const start = f[19]!; // the process's start time: a pid reused is another process
        cpu.set(`${p}@${start}`, (Number(f[11]) + Number(f[12])) / TICK);
      } catch {
        // gone between the listing and the read
      }
    }
    tree = Math.max(tree, sum);
    self = Math.max(self, process.memoryUsage.rss() / 2 ** 20);
  };
  const timer = setInterval(sample, 100);
  sample();
  return {
    stop() {
      clearInterval(timer);
      sample();
      const u = process.cpuUsage(cpu0);
      return { tree, self, treeCpu: [...cpu.values()].reduce((a, b) => a + b, 0), selfCpu: (u.user + u.system) / 1e6 };
    },
  };
}

interface Row {
  harness: string;
  startup_s: number;
  overhead_ms: number;
  model_ms_step: number;
  tool_ms_step: number;
  end_s: number;
  calls: number;
  tool_calls: number;
  tree_mib: number;
  self_mib: number;
  tree_cpu_ms: number;
  self_cpu_ms: number;
  completed: string;
}

async function runOne(name: string, steps: number, sm: { url: string; readonly busyMs: number }, sandbox: Sandbox, taskDir: string): Promise<Row> {
  const protocol = PROTOCOL[name]!;
  const endpoint: ModelEndpoint = { name: `bench-${protocol}`, protocol, base_url: `${sm.url}/v1`, upstream_model: 'scripted' };
  const gw = await startGateway({ models: { models: [endpoint], gateway: DEFAULT_GATEWAY_SETTINGS }, env: {} });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-bench-overhead-home-'));
  const layout = new Layout(home);
  const store = await openStore(layout);
  const task = await loadTask(taskDir);
  const inner: Harness = name === 'outlast' ? new OutlastHarness({}) : new CliHarness(CLI_SPECS[name]!, {});
  let runAt = 0;
  let ranUntil = 0;
  // The harness as the runner sees it, with the moment run() is called and returns.
  const harness: Harness = Object.assign(Object.create(inner) as Harness, {
    async run(ctx: HarnessContext) {
      runAt = performance.now();
      try {
        return await inner.run.call(inner, ctx);
      } finally {
        ranUntil = performance.now();
      }
    },
  });
  const rolloutId = `overhead-${name}-${process.pid}`;
  const spec: RolloutSpec = {
    rollout_id: rolloutId,
    experiment_id: 'bench',
    task: { name: task.name, family: task.family, dir: task.dir, hash: task.hash, format: task.format },
    harness: { name: inner.name, version: inner.version, settings: inner.settings },
    model: { name: endpoint.name, upstream_model: endpoint.upstream_model, protocol: endpoint.protocol },
    verifier: task.verifier,
    repeat: 0,
    seed: 0,
    limits: {},
    sandbox: 'bwrap',
  };
  let firstReq = 0;
  let lastResp = 0;
  let busyAtFirst = 0;
  let busyAtLast = 0;
  let calls = 0;
  let toolCalls = 0;
  const onEvent = (e: TrajectoryEvent) => {
    if (e.type === 'model.request' && !firstReq) {
      firstReq = performance.now();
      busyAtFirst = sm.busyMs;
    }
    if (e.type === 'model.response') {
      lastResp = performance.now();
      busyAtLast = sm.busyMs;
      calls++;
      toolCalls += (e as { tool_calls?: unknown[] }).tool_calls?.length ?? 0;
    }
  };
  const mem = sampler(identityFor(rolloutId, 'agent').uid);
  let peaks: Peaks = { tree: NaN, self: NaN, treeCpu: NaN, selfCpu: NaN };
  let result;
  try {
    result = await runRollout({ layout, store, spec, task, harness, sandbox, model: { gateway: gw, endpoint }, onEvent });
  } finally {
    peaks = mem.stop();
    await (store as unknown as { close?: () => Promise<void> | void }).close?.();
    await gw.close();
  }
  // The model's time up to the last response (the busy counter is bumped once an answer is written).
  const model = busyAtLast - busyAtFirst;
  const times = path.join(layout.workspace('bench', rolloutId), '.bench-tool-times');
  const tool = fs.existsSync(times)
    ? fs
        .readFileSync(times, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ').map(Number))
        .reduce((a, [s, e]) => a + (e! - s!) * 1000, 0)
    : NaN;
  const wall = lastResp - firstReq;
  fs.rmSync(home, { recursive: true, force: true });
  const passed = result.score?.passed ?? false;
  return {
    harness: name,
    startup_s: (firstReq - runAt) / 1000,
    overhead_ms: (wall - model - tool) / steps,
    model_ms_step: model / steps,
    tool_ms_step: tool / steps,
    end_s: (ranUntil - lastResp) / 1000,
    calls,
    tool_calls: toolCalls,
    tree_mib: peaks.tree,
    self_mib: peaks.self,
    tree_cpu_ms: (peaks.treeCpu * 1000) / steps,
    self_cpu_ms: (peaks.selfCpu * 1000) / steps,
    completed: `${result.outcome}${passed ? ', passed' : `, not passed: ${result.reason.slice(0, 120)}`}`,
  };
}

function writeTask(dir: string, steps: number): void {
  fs.mkdirSync(path.join(dir, 'workspace'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'tests'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'task.toml'), '[task]\nname = "overhead"\n\n[agent]\ntimeout_sec = 1800\n\n[verifier]\ncommand = "bash /tests/test.sh"\ntimeout_sec = 60\n');
  fs.writeFileSync(path.join(dir, 'instruction.md'), `Append the lines "step 1" to "step ${steps}" to steps.log, one shell command per line.\n`);
  fs.writeFileSync(path.join(dir, 'workspace', 'README'), 'start here\n');
  fs.writeFileSync(path.join(dir, 'tests', 'test.sh'), `#!/bin/bash\n[ "$(grep -c '^step ' steps.log)" -eq ${steps} ]\n`, { mode: 0o755 });
  for (const p of [dir, path.join(dir, 'workspace'), path.join(dir, 'tests')]) fs.chmodSync(p, 0o755);
}

async function main(): Promise<void> {
  const steps = Number(arg('--steps', '50'));
  const names = arg('--harnesses', ALL.join(',')).split(',');
  for (const n of names) if (n !== 'outlast' && !CLI_SPECS[n]) throw new Error(`unknown harness ${n}: expected some of ${ALL.join(', ')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-bench-overhead-'));
  fs.chmodSync(dir, 0o755);
  const taskDir = path.join(dir, 'task');
  writeTask(taskDir, steps);
  const sm = await startScriptedModelThread({ script: POLICY, cache: false, record_requests: false, env: { OUTLAST_BENCH_STEPS: String(steps) } });
  const sandbox = await createSandbox('bwrap');
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`harness overhead: ${steps} shell steps per harness, scripted model in its own thread (TTFT 0, unpaced), real runner, gateway, bwrap; Node ${process.version}, ${os.cpus().length} CPUs, load ${load()}`);
  const rows: Row[] = [];
  try {
    // One built-in rollout first, not shown: this process's code (runner, gateway, store) compiled
    // before the first row is measured.
    await runOne('outlast', steps, sm, sandbox, taskDir);
    for (const n of names) {
      rows.push(await runOne(n, steps, sm, sandbox, taskDir));
      process.stderr.write(`${n}: done, load ${load()}\n`);
    }
  } finally {
    await sm.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const f = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  console.log('| harness | protocol | startup s | overhead ms/step | model ms/step | tool ms/step | end s | model calls | tool calls | sandbox peak PSS MiB | sandbox CPU ms/step | outlast process peak RSS MiB | outlast process CPU ms/step | completed |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) console.log(`| ${r.harness} | ${PROTOCOL[r.harness]} | ${f(r.startup_s, 2)} | ${f(r.overhead_ms, 1)} | ${f(r.model_ms_step, 2)} | ${f(r.tool_ms_step, 2)} | ${f(r.end_s, 2)} | ${r.calls} | ${r.tool_calls} | ${f(r.tree_mib, 0)} | ${f(r.tree_cpu_ms, 1)} | ${f(r.self_mib, 0)} | ${f(r.self_cpu_ms, 1)} | ${r.completed} |`);
  console.log(`load average after: ${load()}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
