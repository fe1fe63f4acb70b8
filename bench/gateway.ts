// Gateway overhead benchmark: the latency the gateway ADDS over a direct connection to the upstream.
//
//   npm run build && node dist/bench/gateway.js [--duration 3] [--warmup 4] [--concurrency 1,64,256] [--fsync] [--translate] [--process]
//
// The upstream is the scripted model server with zero configured delay (TTFT 0, no pacing), replying
// with a short streamed answer. A client (undici, keep-alive, one connection per concurrent stream)
// makes streaming Chat Completions calls, each measured from sending the request to the last byte of
// the stream, first directly against the scripted server, then through the gateway, at each
// concurrency level. By default the gateway runs in the bench process, as the runner starts it
// (in-process), sharing one event loop with the client and the scripted server: the added latency is
// then the gateway's own work per call plus its extra loopback hop, and peak RSS is the whole bench
// process's. With --process the gateway runs in its own process (as `outlast gateway` would): its peak
// RSS is its own, and cross-process wake-ups are part of the added latency. Every call through the
// gateway is metered and appended to a real trajectory file (fsync per event with --fsync, as the
// runner's default TrajectoryWriter does; without it, the OS flushes).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startGateway } from '../src/gateway/server.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../src/models/config.js';
import { startScriptedModel } from '../src/models/scripted/index.js';
import { TrajectoryWriter } from '../src/store/trajectory.js';

const KEY_ENV = 'OUTLAST_BENCH_KEY';
const KEY = 'sk-bench-not-a-real-key';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}
const flag = (name: string) => process.argv.includes(name);

/** Child mode: run a gateway in front of --upstream and print {url, token}; exit when stdin closes. */
async function childGateway(): Promise<void> {
  const upstream = arg('--upstream')!;
  const fsync = flag('--fsync');
  const protocol = (arg('--protocol') ?? 'openai-chat') as 'openai-chat' | 'anthropic';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-bench-gw-'));
  const gw = await startGateway({
    models: { models: [{ name: 'bench', protocol, base_url: `${upstream}/v1`, upstream_model: 'qwen3.7-max', api_key_env: KEY_ENV }], gateway: { ...DEFAULT_GATEWAY_SETTINGS, max_retries: 0 } },
    env: { [KEY_ENV]: KEY },
  });
  const log = new TrajectoryWriter(path.join(dir, 'trajectory.jsonl'), { fsync });
  const token = gw.registerRollout({ rolloutId: 'bench', log });
  process.stdout.write(JSON.stringify({ url: gw.url, token }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await gw.close();
    log.close();
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
}

interface RunResult {
  latencies: number[];
  errors: number;
  seconds: number;
  /** CPU milliseconds spent during the measured window, by `cpuMs` (this process unless told otherwise). */
  cpu_ms: number;
}

/** CPU time (user + system) of this process so far, in ms. */
function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU time (user + system) of another process so far, in ms (from /proc/PID/stat). */
function pidCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

async function run(url: string, token: string, concurrency: number, seconds: number, model: string, warmupSeconds: number, cpuMs: () => number = selfCpuMs): Promise<RunResult> {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const body = JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'benchmark' }] });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const latencies: number[] = [];
  let errors = 0;
  const one = async (): Promise<number | null> => {
    const t = performance.now();
    const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
    let bytes = 0;
    for await (const c of res.body) bytes += (c as Buffer).length;
    if (res.statusCode !== 200 || bytes === 0) return null;
    return performance.now() - t;
  };
  // Warm-up at full concurrency, so every connection (client → gateway and gateway → upstream) is
  // open before measuring: a cold burst of new loopback connections to the busy scripted server
  // costs 1–3 s tails even without the gateway (plain undici → scripted server), which is not steady state.
  const warmEnd = performance.now() + warmupSeconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      do await one().catch(() => null);
      while (performance.now() < warmEnd);
    }),
  );
  const cpu0 = cpuMs();
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        try {
          const l = await one();
          if (l === null) errors++;
          else latencies.push(l);
        } catch {
          errors++;
        }
      }
    }),
  );
  const took = (performance.now() - start) / 1000;
  const cpu_ms = cpuMs() - cpu0;
  await pool.close();
  return { latencies, errors, seconds: took, cpu_ms };
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function peakRssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function inProcessGateway(upstream: string, fsync: boolean, protocol: 'openai-chat' | 'anthropic'): Promise<{ url: string; token: string; close: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-bench-gw-'));
  const gw = await startGateway({
    models: { models: [{ name: 'bench', protocol, base_url: `${upstream}/v1`, upstream_model: 'qwen3.7-max', api_key_env: KEY_ENV }], gateway: { ...DEFAULT_GATEWAY_SETTINGS, max_retries: 0 } },
    env: { [KEY_ENV]: KEY },
  });
  const log = new TrajectoryWriter(path.join(dir, 'trajectory.jsonl'), { fsync });
  const token = gw.registerRollout({ rolloutId: 'bench', log });
  return {
    url: gw.url,
    token,
    close: async () => {
      await gw.close();
      log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function spawnGateway(upstream: string, fsync: boolean, protocol: string): Promise<{ child: ChildProcess; url: string; token: string }> {
  const self = fileURLToPath(import.meta.url);
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, self, '--child-gateway', '--upstream', upstream, '--protocol', protocol, ...(fsync ? ['--fsync'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    child.once('exit', (c) => reject(new Error(`gateway child exited with ${c}`)));
  });
  rl.close();
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  return { child, url, token };
}

async function main(): Promise<void> {
  const seconds = Number(arg('--duration') ?? 3);
  const warmup = Number(arg('--warmup') ?? 4);
  const levels = (arg('--concurrency') ?? '1,64,256').split(',').map(Number);
  const fsync = flag('--fsync');
  const translate = flag('--translate');
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(2); // ~23 tokens, ~25 SSE events
  const sm = await startScriptedModel({ script: [{ text }], loop: true, ttft_ms: 0, tokens_per_sec: 0, api_key: KEY, cache: false });
  const separate = flag('--process');
  const protocol = translate ? 'anthropic' : 'openai-chat';
  const child = separate ? await spawnGateway(sm.url, fsync, protocol) : null;
  const gw = child ?? (await inProcessGateway(sm.url, fsync, protocol));
  const cpus = os.cpus().length;
  process.stderr.write(
    `bench: ${levels.join('/')} concurrent streams, ${seconds}s each after ${warmup}s warm-up, ${cpus} CPUs, load ${os.loadavg()[0]!.toFixed(2)}, node ${process.version}, gateway ${separate ? 'in its own process' : 'in-process'}, fsync=${fsync}, path=${translate ? 'chat→anthropic (translated)' : 'chat→chat (passthrough)'}\n`,
  );
  const rows: string[][] = [];
  for (const c of levels) {
    const direct = await run(sm.url, KEY, c, seconds, 'bench', warmup);
    const via = await run(gw.url, gw.token, c, seconds, 'bench', warmup, child ? () => pidCpuMs(child.child.pid!) : selfCpuMs);
    // Gateway CPU per call: its own process's CPU over the calls (--process), or, in-process, the
    // bench process's CPU per call through the gateway minus its CPU per direct call.
    const gwCpu = child ? via.cpu_ms / Math.max(1, via.latencies.length) : via.cpu_ms / Math.max(1, via.latencies.length) - direct.cpu_ms / Math.max(1, direct.latencies.length);
    const d50 = pct(direct.latencies, 50);
    const d99 = pct(direct.latencies, 99);
    const g50 = pct(via.latencies, 50);
    const g99 = pct(via.latencies, 99);
    const drps = direct.latencies.length / direct.seconds;
    const grps = via.latencies.length / via.seconds;
    rows.push([
      String(c),
      d50.toFixed(2),
      g50.toFixed(2),
      (g50 - d50).toFixed(2),
      d99.toFixed(2),
      g99.toFixed(2),
      (g99 - d99).toFixed(2),
      drps.toFixed(0),
      grps.toFixed(0),
      (grps / drps).toFixed(2),
      gwCpu.toFixed(3),
      String(direct.errors + via.errors),
    ]);
    process.stderr.write(`  ${c}: done (${direct.latencies.length} direct, ${via.latencies.length} via gateway)\n`);
  }
  let rss: number;
  if (child) {
    rss = peakRssMb(child.child.pid!);
    child.child.stdin!.end();
    await new Promise((r) => child.child.once('exit', r));
  } else {
    rss = process.resourceUsage().maxRSS / 1024;
    await (gw as { close: () => Promise<void> }).close();
  }
  await sm.close();
  const head = ['streams', 'direct p50 ms', 'gateway p50 ms', 'added p50 ms', 'direct p99 ms', 'gateway p99 ms', 'added p99 ms', 'direct req/s', 'gateway req/s', 'req/s ratio', 'gateway CPU ms/call', 'errors'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  process.stdout.write(lines.join('\n') + '\n');
  process.stdout.write(`${child ? 'gateway process' : 'bench process (client + scripted server + gateway)'} peak RSS: ${rss.toFixed(1)} MiB; load average after: ${os.loadavg()[0]!.toFixed(2)}\n`);
}

if (flag('--child-gateway')) void childGateway();
else
  main().catch((e) => {
    process.stderr.write(String((e as Error).stack ?? e) + '\n');
    process.exit(1);
  });
