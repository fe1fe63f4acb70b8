// Benchmark: the speedup verifier through the process boundary, against the in-process grader it
// replaced, in the same run.
//   1. grading time of one full verification (hidden workloads, bwrap), oracle and nop, of extend
//      attention (whose workloads changed too: 13 now, 9 before) and of softmax (same driver and
//      workloads before and after: the boundary's own cost): "before" = the in-process grader of
//      commit BEFORE (its tests/grade.sh, run in the same sandbox with the same mounts the old
//      verifier used), "after" = today's SpeedupVerifier; runs interleaved so machine noise hits
//      both alike;
//   2. the handshake's cost per call (no-op round trips through the control page) beside the
//      smallest workload's call;
//   3. the oracle's fraction of this machine's roofline per hidden workload.
// Build and run: npx tsc -p . && node dist/bench/speedup.js [runs=2] [before-commit=e92407d]
// (needs the git history for "before"; without it only "after" is measured).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSandbox } from '../src/sandbox/index.js';
import { loadTask } from '../src/tasks/load.js';
import { SpeedupVerifier } from '../src/verifiers/speedup.js';

const RUNS = Number(process.argv[2] ?? 2);
const BEFORE = process.argv[3] ?? 'e92407d';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SEED = 20261125;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};
const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));

/** A kernels task as it was at `commit` (its own tests/grade.sh, driver, workloads), or null. */
function oldTask(commit: string, name: string): string | null {
  try {
    const dir = tmp('outlast-bench-before-');
    const tar = execFileSync('git', ['-C', ROOT, 'archive', commit, `tasks/kernels/${name}`], { maxBuffer: 1 << 28 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    return path.join(dir, 'tasks/kernels', name);
  } catch (err) {
    console.warn(`no "before" measurement: cannot read ${commit} from git (${(err as Error).message.split('\n')[0]})`);
    return null;
  }
}

async function main(): Promise<void> {
  const sandbox = await createSandbox('bwrap');
  const cacheDir = tmp('outlast-bench-cache-');
  const load0 = os.loadavg()[0]!;
  const TASKS = ['extend-attention', 'softmax'] as const;
  const tasks = new Map(await Promise.all(TASKS.map(async (n) => [n, await loadTask(path.join(ROOT, 'tasks/kernels', n), { cacheDir })] as const)));
  const olds = new Map(TASKS.map((n) => [n, oldTask(BEFORE, n)]));

  /** before: the old in-process grader, exactly as the old verifier ran it */
  async function before(name: string, who: 'oracle' | 'nop'): Promise<number> {
    const task = tasks.get(name as never)!;
    const old = olds.get(name as never)!;
    const src = tmp('outlast-bench-src-');
    const out = tmp('outlast-bench-out-');
    fs.copyFileSync(path.join(old!, who === 'oracle' ? 'solution/kernel.c' : 'workspace/kernel.c'), path.join(src, 'kernel.c'));
    // as root, the sandbox runs as an unprivileged identity: hand it what it reads and writes
    for (const d of [src, out, path.join(old!, 'tests')]) await sandbox.adopt(d);
    const t0 = Date.now();
    const r = await sandbox.exec({
      command: 'bash /tests/grade.sh',
      workspace: src,
      workdir: '/workspace',
      mounts: [
        { host: path.join(old!, 'tests'), target: '/tests', readonly: true },
        { host: out, target: '/out', readonly: false },
      ],
      env: { SOURCES: 'kernel.c', SEED: String(SEED), NONCE: randomBytes(8).toString('hex'), WORKLOADS: 'workloads.txt', SRC_DIR: '/workspace', TESTS_DIR: '/tests', OUT_DIR: '/out' },
      limits: { wall_time_sec: 600, ...task.sandbox },
    });
    const secs = (Date.now() - t0) / 1000;
    const res = JSON.parse(fs.readFileSync(path.join(out, 'result.json'), 'utf8')) as { correct: boolean; reason: string };
    if (!res.correct) throw new Error(`before (${who}) failed: ${res.reason} ${r.output.slice(-300)}`);
    return secs;
  }

  /** after: today's verifier */
  async function after(name: string, who: 'oracle' | 'nop') {
    const task = tasks.get(name as never)!;
    const ws = tmp('outlast-bench-ws-');
    const scratch = tmp('outlast-bench-scratch-');
    fs.cpSync(task.workspace_dir!, ws, { recursive: true });
    if (who === 'oracle') fs.copyFileSync(path.join(task.solution_dir!, 'kernel.c'), path.join(ws, 'kernel.c'));
    const t0 = Date.now();
    const o = await new SpeedupVerifier(task.verifier).verify({ task, workspace: ws, tests: task.tests_dir, scratch, sandbox, seed: SEED, cacheDir });
    const secs = (Date.now() - t0) / 1000;
    if (!o.score.details.correct) throw new Error(`after (${who}) failed: ${o.score.details.reason}`);
    return { secs, details: o.score.details as Record<string, any> };
  }

  // warm the roofline cache (measured once per machine; not part of a grading's time)
  await after('softmax', 'nop').catch(() => undefined);
  const times = new Map<string, number[]>();
  const push = (k: string, v: number) => times.set(k, [...(times.get(k) ?? []), v]);
  let lastOracle: Record<string, any> | null = null;
  const handshakes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    for (const name of TASKS) {
      for (const who of ['oracle', 'nop'] as const) {
        if (olds.get(name)) push(`before ${name} ${who}`, await before(name, who));
        const a = await after(name, who);
        push(`after ${name} ${who}`, a.secs);
        handshakes.push(a.details.handshake_us?.median ?? NaN);
        if (who === 'oracle' && name === 'extend-attention') lastOracle = a.details;
      }
    }
  }

  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`\n1. One full verification (hidden workloads, bwrap), median of ${RUNS} interleaved runs`);
  console.log(`${pad('task', 18)} ${pad('kernel', 8)} ${pad(`before (${BEFORE}) s`, 20)} ${pad('after s', 10)} after/before`);
  for (const name of TASKS) {
    for (const who of ['oracle', 'nop']) {
      const b = median(times.get(`before ${name} ${who}`) ?? []);
      const a = median(times.get(`after ${name} ${who}`) ?? []);
      console.log(`${pad(name, 18)} ${pad(who, 8)} ${pad(Number.isFinite(b) ? b.toFixed(1) : '–', 20)} ${pad(a.toFixed(1), 10)} ${Number.isFinite(b) ? (a / b).toFixed(2) + 'x' : '–'}`);
    }
  }
  const ws = (lastOracle?.workloads ?? []) as Record<string, any>[];
  const smallest = ws.reduce((m, w) => (w.cand_ms !== null && w.cand_ms < (m?.cand_ms ?? Infinity) ? w : m), null as Record<string, any> | null);
  const hs = median(handshakes.filter(Number.isFinite));
  console.log(`\n2. Handshake (no-op round trip, subtracted from every call): median ${hs.toFixed(1)} us over ${handshakes.length} gradings;`);
  if (smallest) console.log(`   the smallest oracle call (${smallest.name}) takes ${smallest.cand_ms.toFixed(3)} ms: the handshake is ${((hs / 1000 / smallest.cand_ms) * 100).toFixed(1)}% of it`);
  console.log(`   workers: ${lastOracle?.boundary?.workers ?? '?'}${lastOracle?.boundary?.note ? ` (${lastOracle.boundary.note})` : ''}`);
  const rf = lastOracle?.roofline ?? {};
  console.log(`\n3. The extend-attention oracle against this machine's roofline (FMA ${rf.fma_gflops} GFLOP/s, cache ${rf.cache_gbs} GB/s, DRAM ${rf.dram_gbs} GB/s, LLC ${(rf.llc_bytes / 2 ** 20).toFixed(0)} MiB)`);
  console.log(`${pad('workload', 22)} ${pad('speedup', 8)} ${pad('oracle ms', 10)} ${pad('bound ms', 10)} ${pad('of roofline', 12)} limit`);
  for (const w of ws) {
    console.log(`${pad(w.name, 22)} ${pad(w.speedup.toFixed(2), 8)} ${pad(w.cand_ms.toFixed(3), 10)} ${pad(w.bound_ms?.toFixed(3) ?? '–', 10)} ${pad(w.roofline_fraction === null || w.roofline_fraction === undefined ? '–' : (100 * w.roofline_fraction).toFixed(1) + '%', 12)} ${w.limit ?? '–'}`);
  }
  console.log(`\noracle score ${lastOracle?.speedup?.toFixed(2)}; load average ${load0.toFixed(2)} before, ${os.loadavg()[0]!.toFixed(2)} after; ${os.cpus().length} cores (${os.cpus()[0]?.model}); ${new Date().toISOString()}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
