// `--sandbox none`: no isolation, but the same env scrubbing, limits, output cap and tree kill.
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { createSandbox } from '../../src/sandbox/index.js';
import type { ExecOptions, Sandbox } from '../../src/sandbox/sandbox.js';
import { tempDir, uniqueSleep, waitGone } from './helpers.js';

let sb: Sandbox;
let ws: string;
const run = (command: string, extra: Partial<ExecOptions> = {}) =>
  sb.exec({ command, workspace: ws, workdir: '/workspace', limits: { wall_time_sec: 10 }, ...extra });

beforeAll(async () => {
  sb = await createSandbox('none');
  ws = tempDir();
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

describe('unsandboxed mode', () => {
  it('is flagged unsandboxed and says it isolates nothing', () => {
    expect(sb.mode).toBe('none');
    expect(sb.unsandboxed).toBe(true);
    expect(sb.enforced.network).toBe(false);
    expect(sb.enforced.filesystem).toBe(false);
    expect(sb.enforced.wall_time).toBe(true);
  });

  it('runs in the host workspace with a scrubbed environment', async () => {
    process.env.OUTLAST_TEST_FAKE_API_KEY = 'sk-fake-should-not-leak';
    try {
      const r = await run('pwd; echo "$OUTLAST_WORKDIR"; echo x > f.txt; env', { env: { MY_VAR: 'given' } });
      const [pwd, workdir] = r.output.split('\n');
      expect(pwd).toBe(ws);
      expect(workdir).toBe(ws);
      expect(readFileSync(join(ws, 'f.txt'), 'utf8')).toBe('x\n');
      expect(r.output).toContain('MY_VAR=given');
      expect(r.output).not.toContain('sk-fake-should-not-leak');
    } finally {
      delete process.env.OUTLAST_TEST_FAKE_API_KEY;
    }
  });

  it('refuses mounts with a one-line UserError', async () => {
    const err = await run('true', { mounts: [{ host: ws, target: '/tests', readonly: true }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/--sandbox none cannot mount .* at \/tests/);
    expect((err as Error).message).not.toContain('\n');
  });

  it('kills the whole tree on timeout, setsid children included when a cgroup is available', async () => {
    const s = uniqueSleep();
    const escape = sb.enforced.processes ? `setsid sleep ${s} > /dev/null 2>&1 & ` : '';
    const r = await run(`(sleep ${s} &) ; ${escape}sleep ${s}`, { limits: { wall_time_sec: 1 } });
    expect(r.timed_out).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(await waitGone(`sleep ${s}`)).toEqual([]);
  });

  it('kills background children of a command that exits normally', async () => {
    const s = uniqueSleep();
    const r = await run(`sleep ${s} & (sleep ${s} &) ; echo started`);
    expect(r.exit_code).toBe(0);
    expect(r.output).toBe('started\n');
    expect(r.duration_ms).toBeLessThan(3000);
    expect(await waitGone(`sleep ${s}`)).toEqual([]);
  });

  it('applies the limits and the output cap', async () => {
    const big = await run('yes | head -c 5000000', { limits: { wall_time_sec: 10, output_bytes: 1000 } });
    expect(big.truncated_bytes).toBe(5_000_000 - 1000);
    expect(big.output).toContain(`[... ${big.truncated_bytes} bytes cut ...]`);
    const f = await run('head -c 3000000 /dev/zero > big.bin', { limits: { wall_time_sec: 10, file_size_mb: 1 } });
    expect(f.exit_code).not.toBe(0);
    expect(statSync(join(ws, 'big.bin')).size).toBe(1024 * 1024);
    const m = await run('dd if=/dev/zero of=/dev/null bs=300M count=1', { limits: { wall_time_sec: 10, memory_mb: 100 } });
    // the whole tree's memory cgroup kills it; without one, RLIMIT_AS makes the allocation fail
    if (sb.enforced.memory_tree) expect(m.oom_killed).toBe(true);
    else expect(m.output).toMatch(/memory exhausted/);
    if (sb.enforced.processes) {
      const s = uniqueSleep();
      const p = await run(`for i in $(seq 200); do sleep ${s} & done; echo done`, { limits: { wall_time_sec: 10, processes: 20 } });
      expect(p.output).toMatch(/Cannot fork|Resource temporarily unavailable/);
      expect(await waitGone(`sleep ${s}`)).toEqual([]);
    }
  });

  it('can read host files outside the workspace (that is what unsandboxed means)', async () => {
    const outside = tempDir('outlast-secret-');
    writeFileSync(join(outside, 'marker.txt'), 'VISIBLE');
    try {
      expect((await run(`cat ${join(outside, 'marker.txt')}`)).output).toBe('VISIBLE');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
