// Benchmark: latency to run `true` in the bwrap sandbox vs a plain child process.
// Build and run: npx tsc -p . && node dist/bench/sandbox.js [runs]
// All variants run interleaved (round-robin), so machine noise hits them alike.
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BwrapSandbox, createSandbox, findBinary, hostCaps } from '../src/sandbox/index.js';
import type { SandboxLimits } from '../src/core/types.js';

const RUNS = Number(process.argv[2] ?? 300);
const WARMUP = 10;

function plainTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('/bin/true', [], { stdio: ['pipe', 'pipe', 'pipe'] });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const ws = mkdtempSync(join(tmpdir(), 'outlast-bench-'));
  const bwrap = await createSandbox('bwrap');
  await bwrap.adopt(ws); // as root, commands run as the (anonymous) sandbox identity
  const none = await createSandbox('none');
  const caps = hostCaps();
  const untied = new BwrapSandbox(findBinary('bwrap')!, { ...caps, unshare: null });
  const exec = (sb: typeof bwrap, limits: SandboxLimits) => async () => {
    const r = await sb.exec({ command: 'true', workspace: ws, workdir: '/workspace', limits });
    if (r.exit_code !== 0) throw new Error(`sandbox exit ${r.exit_code}: ${r.output}`);
  };
  const rl = { cpu_time_sec: 60, memory_mb: 4096, file_size_mb: 1024 };
  // Order matters on cgroup v1: moving a process into a cgroup waits for an RCU grace period
  // unless another move happened just before. Each cgroup variant follows a variant without one,
  // so it pays the cold cost, as an agent's sparse tool calls would.
  const cg = caps.cgroup ? ` (${Object.keys(caps.cgroup.bases).join('+')} cgroups)` : '';
  const variants: Array<[string, () => Promise<void>]> = [
    ['plain spawn /bin/true', plainTrue],
    [`bwrap + process limit${cg}`, exec(bwrap, { wall_time_sec: 10, processes: 64 })],
    ['bwrap, wall time only', exec(bwrap, { wall_time_sec: 10 })],
    [`bwrap + all limits${cg}`, exec(bwrap, { wall_time_sec: 10, ...rl, processes: 64 })],
    // The launch without the outer PID namespace that ties the sandbox to this process (src/sandbox/launch.ts): what that costs.
    [`bwrap + all limits, not tied to the runner${cg}`, exec(untied, { wall_time_sec: 10, ...rl, processes: 64 })],
    ['bwrap + cpu/mem/fsize rlimits (prlimit)', exec(bwrap, { wall_time_sec: 10, ...rl })],
    [`none mode${cg}`, exec(none, { wall_time_sec: 10 })],
  ];
  const times = variants.map(() => [] as number[]);
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const [k, [, fn]] of variants.entries()) {
      const t0 = performance.now();
      await fn();
      if (i >= WARMUP) times[k]!.push(performance.now() - t0);
    }
  }
  rmSync(ws, { recursive: true, force: true });

  const base = [...times[0]!].sort((a, b) => a - b);
  const baseP50 = pct(base, 50);
  console.log(`sandbox latency, \`true\`, ${RUNS} runs per variant interleaved (+${WARMUP} warm-up), ${cpus().length} cores, node ${process.version}`);
  console.log(`walls: ${Object.entries(bwrap.enforced).filter(([, v]) => v).map(([k]) => k).join(', ')}`);
  console.log('');
  console.log('| variant | p50 ms | p99 ms | mean ms | p50 ratio vs plain |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [k, [name]] of variants.entries()) {
    const s = [...times[k]!].sort((a, b) => a - b);
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    const p50 = pct(s, 50);
    console.log(`| ${name} | ${p50.toFixed(2)} | ${pct(s, 99).toFixed(2)} | ${mean.toFixed(2)} | ${(p50 / baseP50).toFixed(1)}× |`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
