// Benchmarks of the store around resume (issue 19, item 9):
//   resume   `outlast resume` over a home of N finished rollouts (nothing to do): the real CLI's wall
//            time, and the in-process catch-up (catchUp) it runs before deciding;
//   index    the SQLite index's size beside the logs for one long rollout (S agent steps: model
//            request/response, assistant, tool call/result each), after a checkpoint.
// Homes are built with the real TrajectoryWriter and Store (fsync off, to build fast), in a temporary
// directory that is removed at the end.
//
// Usage: node dist/bench/store.js [rollouts=3000] [steps=10000] [runs=3]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NewEvent } from '../src/core/events.js';
import type { RolloutSpec } from '../src/core/types.js';
import { Layout } from '../src/store/layout.js';
import { openStore } from '../src/store/index.js';
import { catchUp } from '../src/store/rebuild.js';
import type { ExperimentRecord } from '../src/store/store.js';
import { readTrajectory, TrajectoryWriter } from '../src/store/trajectory.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'outlast.js');

const rollouts = Number(process.argv[2] ?? 3000);
const steps = Number(process.argv[3] ?? 10000);
const runs = Number(process.argv[4] ?? 3);

const usage = { input: 12000, cached: 9000, cache_write: 0, output: 150, reasoning: 0 };

function spec(exp: string, id: string): RolloutSpec {
  return {
    rollout_id: id,
    experiment_id: exp,
    task: { name: 'bench-task', family: 'bench', dir: '/tasks/bench-task', hash: 'sha256:' + 'ab'.repeat(32), format: 'outlast' },
    harness: { name: 'outlast', version: '1.0.0', settings: { idle_rounds: 3, compact_threshold: 0.8, temperature: 0 } },
    model: { name: 'bench-model', upstream_model: 'bench-upstream', protocol: 'openai-chat' },
    verifier: { kind: 'command', command: 'bash /tests/test.sh', timeout_sec: 600 } as RolloutSpec['verifier'],
    repeat: 1,
    seed: 42,
    limits: { wall_time_sec: 3600 },
    sandbox: 'bwrap',
  };
}

/** One agent step as the built-in harness logs it: request, response, assistant, tool call, tool result. */
function step(i: number): NewEvent[] {
  const call = `call-${i}`;
  return [
    { type: 'model.request', call_id: `m-${i}`, client_protocol: 'openai-chat', protocol: 'openai-chat', model: 'bench-model', upstream_model: 'bench-upstream', stream: true, messages: 2 * i + 2, tools: 7 },
    {
      type: 'model.response', call_id: `m-${i}`, protocol: 'openai-chat', model: 'bench-model', status: 200, usage, usage_estimated: false, ttft_ms: 410, duration_ms: 3100,
      output_tps: 48.2, cost_usd: 0.0021, price_table: 'models.toml', retries: 0, retry_wait_ms: 0, finish_reason: 'tool_calls',
    },
    { type: 'assistant', text: 'Let me look at the failing test and fix the off-by-one in the loop bound.', tool_calls: [{ id: call, name: 'bash', arguments: { command: `sed -n ${i},${i + 40}p src/main.c` } }] },
    { type: 'tool.call', call_id: call, name: 'bash', arguments: { command: `sed -n ${i},${i + 40}p src/main.c` } },
    { type: 'tool.result', call_id: call, name: 'bash', exit_code: 0, duration_ms: 16, output: 'int main(void) {\n  for (int i = 0; i <= n; i++) total += xs[i];\n'.repeat(6), truncated_bytes: 0, timed_out: false },
  ];
}

function writeRollout(layout: Layout, exp: string, id: string, n: number): void {
  const w = new TrajectoryWriter(layout.trajectory(exp, id), { fsync: false });
  w.append({ type: 'rollout.started', spec: spec(exp, id), versions: { outlast: '0.1.0', commit: null, node: process.version }, sandbox: { mode: 'bwrap', unsandboxed: false, enforced: { dedicated_uid: true } } });
  w.append({ type: 'phase', phase: 'harness', status: 'started' });
  for (let i = 0; i < n; i++) for (const e of step(i)) w.append(e);
  w.append({ type: 'phase', phase: 'harness', status: 'done', detail: { outcome: 'completed', reason: 'submitted' } });
  const score = { value: 1, passed: true, details: {}, grader: { verifier: 'command', version: '2.0.0', settings: {} }, graded_at: new Date().toISOString() };
  w.append({ type: 'verifier.result', score, run: { exit_code: 0, duration_ms: 120, output: '3 passed, 0 failed\n', truncated_bytes: 0, timed_out: false } });
  const totals = { wall_ms: 60_000, working_ms: 60_000, harness_ms: 59_000, verify_ms: 1000, tool_calls: n, turns: n, usage, cost_usd: 0.0021 * n };
  w.append({ type: 'rollout.finished', outcome: 'completed', score, reason: 'submitted', totals });
  w.close();
}

function record(id: string, ids: string[]): ExperimentRecord {
  return {
    id,
    created_at: new Date().toISOString(),
    argv: ['run', 'bench'],
    outlast_version: '0.1.0',
    tasks: [{ name: 'bench-task', family: 'bench', dir: '/tasks/bench-task', hash: 'sha256:' + 'ab'.repeat(32) }],
    harnesses: ['outlast'],
    models: ['bench-model'],
    repeats: ids.length,
    concurrency: 4,
    sandbox: 'bwrap',
    rollouts: ids.map((rollout_id, i) => ({ rollout_id, task: 'bench-task', harness: 'outlast', model: 'bench-model', repeat: i + 1 })),
  };
}

/** A home with `count` finished rollouts (20 steps each) in 10 experiments, all indexed. */
async function buildHome(count: number): Promise<Layout> {
  const layout = new Layout(fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-bench-store-')));
  const store = await openStore(layout);
  const perExp = Math.ceil(count / 10);
  for (let e = 0; e < 10; e++) {
    const exp = `exp-bench-${String(e).padStart(2, '0')}`;
    const ids = Array.from({ length: Math.min(perExp, count - e * perExp) }, (_, i) => `bench-task--outlast--bench-model--r${i + 1}`);
    if (ids.length <= 0) break;
    const rec = record(exp, ids);
    fs.mkdirSync(layout.experimentDir(exp), { recursive: true });
    fs.writeFileSync(layout.experimentFile(exp), JSON.stringify(rec, null, 2) + '\n');
    await store.putExperiment(rec);
    for (const id of ids) {
      writeRollout(layout, exp, id, 20);
      const file = layout.trajectory(exp, id);
      const r = readTrajectory(file);
      await store.applyEvents!(exp, id, file, r.events, r.positions);
    }
  }
  await store.close();
  return layout;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function bytesOf(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += fs.statSync(path.join(e.parentPath, e.name)).size;
  return n;
}

async function benchResume(): Promise<void> {
  const t0 = performance.now();
  const layout = await buildHome(rollouts);
  const built = (performance.now() - t0) / 1000;
  const logs = bytesOf(layout.experimentsDir);
  const cli: number[] = [];
  const catchUps: number[] = [];
  const version: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    execFileSync(process.execPath, [BIN, '--version'], { stdio: 'ignore' });
    version.push(performance.now() - t);
    t = performance.now();
    const out = execFileSync(process.execPath, [BIN, '--home', layout.home, 'resume'], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
    cli.push(performance.now() - t);
    if (!/nothing to resume/.test(out)) throw new Error(`resume found something to do: ${out}`);
    const store = await openStore(layout);
    t = performance.now();
    await catchUp(layout, store);
    catchUps.push(performance.now() - t);
    await store.close();
  }
  console.log(`\nresume with nothing to do: ${rollouts} finished rollouts (10 experiments, 20 steps each; ${(logs / 2 ** 20).toFixed(1)} MiB of logs; built in ${built.toFixed(1)} s), ${runs} runs, medians`);
  console.log('| what | ms |');
  console.log('| --- | ---: |');
  console.log(`| \`outlast --version\` (node start, baseline) | ${median(version).toFixed(0)} |`);
  console.log(`| \`outlast resume\` (CLI wall) | ${median(cli).toFixed(0)} |`);
  console.log(`| catchUp in process (what resume reads before deciding) | ${median(catchUps).toFixed(0)} |`);
  fs.rmSync(layout.home, { recursive: true, force: true });
}

async function benchIndex(): Promise<void> {
  const layout = new Layout(fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-bench-index-')));
  const exp = 'exp-bench-long';
  const id = 'bench-task--outlast--bench-model--r1';
  const rec = record(exp, [id]);
  fs.mkdirSync(layout.experimentDir(exp), { recursive: true });
  fs.writeFileSync(layout.experimentFile(exp), JSON.stringify(rec, null, 2) + '\n');
  writeRollout(layout, exp, id, steps);
  const file = layout.trajectory(exp, id);
  const store = await openStore(layout);
  await store.putExperiment(rec);
  const r = readTrajectory(file);
  await store.applyEvents!(exp, id, file, r.events, r.positions);
  await store.close();
  // fold the WAL into the database file, so its size is the database's
  const db = (await import('better-sqlite3')).default(layout.db);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const log = fs.statSync(file).size;
  const dbBytes = fs.statSync(layout.db).size;
  console.log(`\nindex size: one rollout of ${steps} agent steps (${r.events.length} events)`);
  console.log('| what | bytes | per event | vs log |');
  console.log('| --- | ---: | ---: | ---: |');
  console.log(`| trajectory.jsonl | ${log} | ${(log / r.events.length).toFixed(1)} | 1.00 |`);
  console.log(`| outlast.db | ${dbBytes} | ${(dbBytes / r.events.length).toFixed(1)} | ${(dbBytes / log).toFixed(2)} |`);
  fs.rmSync(layout.home, { recursive: true, force: true });
}

console.log(`# bench/store.ts on ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(2)}, ${new Date().toISOString()}`);
await benchResume();
await benchIndex();
