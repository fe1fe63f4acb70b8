// The roofline: this machine's achievable memory bandwidth and FMA peak (measured once per machine by
// probe.c, in the verifier's sandbox, and cached under the cache directory keyed by the machine's
// identity), and each workload's bound from the bytes and FLOPs its driver declares (see
// docs/kernels.md, "The roofline").
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Sandbox } from '../../sandbox/sandbox.js';

/** Bumped with probe.c's VERSION (a cached roofline of another version is measured again). */
export const PROBE_VERSION = 4;

export interface MachineIdentity {
  cpu: string;
  cores: number;
  /** sha256 of the CPU flags line of /proc/cpuinfo (what -march=native compiles for). */
  flags_sha256: string;
}

const probeSchema = z.object({
  version: z.number().int(),
  threads: z.number().int().positive(),
  fma_gflops: z.number().positive(),
  llc_bytes: z.number().nonnegative(),
  bandwidth: z.array(z.object({ bytes: z.number().positive(), gbs: z.number().positive() })).min(2),
});

export interface Roofline extends z.output<typeof probeSchema> {
  identity: MachineIdentity;
  /** The cache key: sha256 of the identity and the probe version (first 16 hex digits). */
  key: string;
  /** Most bandwidth measured for a working set that fits in the last-level cache, GB/s. */
  cache_gbs: number;
  /** Bandwidth of the largest working set (well past the last-level cache), GB/s. */
  dram_gbs: number;
  measured_at: string;
  /** How many probe runs the numbers are the best of. */
  runs: number;
}

export interface WorkloadBound {
  bytes: number;
  flops: number;
  /** The least time one call can take on this machine, ms. */
  bound_ms: number;
  limit: 'memory' | 'compute';
  /** bound / the candidate's median time: 1 = at the physical limit. */
  fraction: number | null;
}

export function machineIdentity(cpuinfo = '/proc/cpuinfo'): MachineIdentity {
  let flags = '';
  try {
    flags = /^flags\s*:\s*(.*)$/m.exec(fs.readFileSync(cpuinfo, 'utf8'))?.[1]?.trim() ?? '';
  } catch {
    // no /proc/cpuinfo: the model and core count still tell machines apart
  }
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, flags_sha256: createHash('sha256').update(flags).digest('hex') };
}

function identityKey(id: MachineIdentity): string {
  return createHash('sha256').update(JSON.stringify({ ...id, probe: PROBE_VERSION })).digest('hex').slice(0, 16);
}

/** The largest cache of cpu0 in bytes, as the host's sysfs says (0 when unknown). */
export function lastLevelCache(root = '/sys/devices/system/cpu/cpu0/cache'): number {
  let best = 0;
  try {
    for (const n of fs.readdirSync(root)) {
      if (!/^index\d+$/.test(n)) continue;
      const m = /^(\d+)([KMG]?)/.exec(fs.readFileSync(path.join(root, n, 'size'), 'utf8').trim());
      if (!m) continue;
      const v = Number(m[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as Record<string, number>)[m[2]!]!;
      best = Math.max(best, v);
    }
  } catch {
    // unknown
  }
  return best;
}

/** probe.c, found from this module's location (src/ or dist/src/ of the package). */
export function probeSource(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = path.join(dir, 'src/verifiers/speedup/probe.c');
    if (fs.existsSync(p)) return p;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('src/verifiers/speedup/probe.c not found');
    dir = up;
  }
}

function finish(p: z.output<typeof probeSchema>, identity: MachineIdentity, runs: number, measured_at: string): Roofline {
  const llc = p.llc_bytes;
  const inCache = p.bandwidth.filter((b) => llc === 0 || b.bytes <= llc);
  const largest = p.bandwidth.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return {
    ...p,
    identity,
    key: identityKey(identity),
    cache_gbs: Math.max(...(inCache.length ? inCache : p.bandwidth).map((b) => b.gbs)),
    dram_gbs: largest.gbs,
    measured_at,
    runs,
  };
}

/** Merge two measurements of the same machine: the best of each number. */
function best(a: z.output<typeof probeSchema>, b: z.output<typeof probeSchema>): z.output<typeof probeSchema> {
  return {
    ...a,
    fma_gflops: Math.max(a.fma_gflops, b.fma_gflops),
    bandwidth: a.bandwidth.map((x) => ({ bytes: x.bytes, gbs: Math.max(x.gbs, b.bandwidth.find((y) => y.bytes === x.bytes)?.gbs ?? 0) })),
  };
}

export interface RooflineOptions {
  cacheDir: string;
  sandbox: Sandbox;
  /** A scratch directory private to this verification (the probe is built there). */
  scratch: string;
  signal?: AbortSignal;
  /** Measure again even when a cached roofline exists, and keep the best of both. */
  remeasure?: boolean;
}

async function runProbe(o: RooflineOptions): Promise<z.output<typeof probeSchema>> {
  const dir = path.join(o.scratch, 'roofline-probe');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(probeSource(), path.join(dir, 'probe.c'));
  await o.sandbox.adopt(dir);
  const res = await o.sandbox.exec({
    command: `gcc -O2 -march=native -fopenmp -o /tmp/probe probe.c && OMP_NUM_THREADS=$(nproc) /tmp/probe ${lastLevelCache()}`,
    workspace: dir,
    workdir: '/workspace',
    limits: { wall_time_sec: 120, memory_mb: 4096 },
    signal: o.signal,
  });
  if (res.exit_code !== 0) throw new Error(`the roofline probe failed (exit ${res.exit_code}): ${res.output.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}`);
  const line = res.output.trim().split('\n').pop() ?? '';
  const parsed = probeSchema.safeParse(JSON.parse(line));
  if (!parsed.success) throw new Error(`the roofline probe printed something unexpected: ${line.slice(0, 200)}`);
  return parsed.data;
}

/** This machine's roofline: cached, or measured now (and cached). Throws when the probe cannot run. */
export async function machineRoofline(o: RooflineOptions): Promise<Roofline> {
  const identity = machineIdentity();
  const key = identityKey(identity);
  const file = path.join(o.cacheDir, 'roofline', `${key}.json`);
  let cached: Roofline | null = null;
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Roofline & { version: number };
    const p = probeSchema.safeParse(raw);
    if (p.success && p.data.version === PROBE_VERSION) cached = finish(p.data, identity, raw.runs ?? 1, raw.measured_at ?? '');
  } catch {
    // not measured yet (or unreadable: measured again)
  }
  if (cached && !o.remeasure) return cached;
  const fresh = await runProbe(o);
  if (fresh.version !== PROBE_VERSION) throw new Error(`the roofline probe is version ${fresh.version}, expected ${PROBE_VERSION}`);
  const r = cached ? finish(best(cached, fresh), identity, cached.runs + 1, new Date().toISOString()) : finish(fresh, identity, 1, new Date().toISOString());
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(r, null, 1) + '\n');
  fs.renameSync(tmp, file);
  return r;
}

/**
 * The least time one call moving `bytes` and doing `flops` can take here: the larger of the memory
 * time and the compute time. Memory time: data that fits in the last-level cache may all come from
 * it (the best cache bandwidth measured); beyond it, at least the excess must come from DRAM. Each
 * term is as generous to the kernel as the measurements allow, so an honest kernel stays below 1.
 */
export function workloadBound(r: Roofline, bytes: number, flops: number, candMs: number | null): WorkloadBound {
  const cacheS = bytes / (r.cache_gbs * 1e9);
  const dramS = r.llc_bytes > 0 && bytes > r.llc_bytes ? (bytes - r.llc_bytes) / (r.dram_gbs * 1e9) : 0;
  const memS = Math.max(cacheS, dramS);
  const flopS = flops / (r.fma_gflops * 1e9);
  const boundMs = 1e3 * Math.max(memS, flopS);
  return {
    bytes,
    flops,
    bound_ms: boundMs,
    limit: flopS > memS ? 'compute' : 'memory',
    fraction: candMs !== null && candMs > 0 ? boundMs / candMs : null,
  };
}
