// The bubblewrap sandbox, with real processes: isolation, limits, tree kill, output cap.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostKeyFiles } from '../../src/sandbox/bwrap.js';
import { createSandbox } from '../../src/sandbox/index.js';
import type { ExecOptions, Sandbox } from '../../src/sandbox/sandbox.js';
import { hostProcessesWith, tempDir, uniqueSleep, waitGone } from './helpers.js';

let sb: Sandbox;
let ws: string;
const run = (command: string, extra: Partial<ExecOptions> = {}) =>
  sb.exec({ command, workspace: ws, workdir: '/workspace', limits: { wall_time_sec: 10 }, ...extra });

beforeAll(async () => {
  sb = await createSandbox('bwrap');
  ws = tempDir();
  await sb.adopt(ws);
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

describe('bwrap sandbox: basics', () => {
  it('runs in the workspace and the writes land on the host', async () => {
    const r = await run('pwd; echo "$OUTLAST_WORKDIR"; echo data > out.txt; echo err >&2; exit 3');
    expect(r.exit_code).toBe(3);
    expect(r.output).toBe('/workspace\n/workspace\nerr\n');
    expect(readFileSync(join(ws, 'out.txt'), 'utf8')).toBe('data\n');
    expect(sb.mode).toBe('bwrap');
    expect(sb.unsandboxed).toBe(false);
  });

  it('interleaves stdout and stderr in arrival order and feeds stdin', async () => {
    const r = await run('echo 1; echo 2 >&2; echo 3; cat; echo 4 >&2', { stdin: 'in\n' });
    expect(r.output).toBe('1\n2\n3\nin\n4\n');
  });

  it('scrubs the host environment', async () => {
    process.env.OUTLAST_TEST_FAKE_API_KEY = 'sk-fake-should-not-leak';
    try {
      const r = await run('env', { env: { MY_VAR: 'given' } });
      expect(r.output).not.toContain('sk-fake-should-not-leak');
      expect(r.output).not.toContain('OUTLAST_TEST_FAKE_API_KEY');
      expect(r.output).toContain('MY_VAR=given');
      expect(r.output).toContain('PATH=/usr/local/bin');
    } finally {
      delete process.env.OUTLAST_TEST_FAKE_API_KEY;
    }
  });
});

describe('bwrap sandbox: filesystem', () => {
  it('cannot see the host /root, /home, /work or host /tmp files', async () => {
    const outside = tempDir('outlast-secret-');
    const marker = join(outside, 'marker.txt');
    writeFileSync(marker, 'TOP-SECRET-MARKER');
    try {
      const r = await run(`cat ${marker}; ls -A /root; ls -A /; cat /proc/1/cmdline | tr '\\0' ' '`);
      expect(r.output).not.toContain('TOP-SECRET-MARKER');
      expect(r.output).toMatch(/marker\.txt: No such file or directory/);
      expect(r.output).toMatch(/\/root.*No such file or directory/);
      const root = r.output.split('\n');
      for (const hidden of ['root', 'home', 'work', 'var', 'run', 'sys', 'mnt']) expect(root).not.toContain(hidden);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('sees the system read-only and has a private writable /tmp', async () => {
    const r = await run('touch /usr/x 2>&1 || echo USR-RO; touch /etc/x 2>&1 || echo ETC-RO; echo t > /tmp/t && cat /tmp/t; cat /etc/shadow | wc -c');
    expect(r.output).toContain('USR-RO');
    expect(r.output).toContain('ETC-RO');
    expect(r.output).toMatch(/^t$/m);
    expect(r.output).toMatch(/^0$/m); // /etc/shadow masked
    expect(existsSync('/usr/x')).toBe(false);
  });

  it('mounts extra directories read-only or read-write', async () => {
    const tests = tempDir();
    const logs = tempDir();
    writeFileSync(join(tests, 'test.sh'), 'hi\n');
    await sb.adopt(tests);
    await sb.adopt(logs);
    try {
      const r = await run('cat /tests/test.sh; touch /tests/x 2>/dev/null || echo TESTS-RO; echo 1 > /logs/verifier/reward.txt', {
        mounts: [
          { host: tests, target: '/tests', readonly: true },
          { host: logs, target: '/logs/verifier', readonly: false },
        ],
      });
      expect(r.output).toBe('hi\nTESTS-RO\n');
      expect(readFileSync(join(logs, 'reward.txt'), 'utf8')).toBe('1\n');
      expect(existsSync(join(tests, 'x'))).toBe(false);
    } finally {
      rmSync(tests, { recursive: true, force: true });
      rmSync(logs, { recursive: true, force: true });
    }
  });
});

describe('bwrap sandbox: network', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('REACHED-HOST-SERVER'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('cannot reach a server on the host loopback, and has no interface but lo', async () => {
    const probe = `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port} && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3'`;
    const r = await run(`${probe}; echo "rc=$?"; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '`);
    expect(r.output).not.toContain('REACHED-HOST-SERVER');
    expect(r.output).toMatch(/Connection refused|Network is unreachable/);
    expect(r.output).toMatch(/rc=1/);
    expect(r.output.trim().split('\n').at(-1)).toBe('lo');
    // Control: the same probe from the unsandboxed mode does reach it (the probe itself works).
    const none = await createSandbox('none');
    const c = await none.exec({ command: probe, workspace: ws, workdir: '/workspace', limits: { wall_time_sec: 10 } });
    expect(c.output).toContain('REACHED-HOST-SERVER');
  });
});

describe('bwrap sandbox: nothing survives', () => {
  it('kills a fork-and-sleep tree on timeout', async () => {
    const s = uniqueSleep();
    const t0 = Date.now();
    const r = await run(`(sleep ${s} &) ; setsid sleep ${s} & sleep ${s}`, { limits: { wall_time_sec: 1 } });
    expect(r.timed_out).toBe(true);
    expect(r.exit_code).toBeNull();
    expect(r.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(await waitGone(`sleep ${s}`)).toEqual([]);
  });

  it('kills background children of a command that exits normally, without waiting for them', async () => {
    const s = uniqueSleep();
    const r = await run(`sleep ${s} & (setsid sleep ${s} > /dev/null 2>&1 &); echo started`);
    expect(r.exit_code).toBe(0);
    expect(r.timed_out).toBe(false);
    expect(r.output).toBe('started\n');
    expect(r.duration_ms).toBeLessThan(3000);
    expect(await waitGone(`sleep ${s}`)).toEqual([]);
  });

  it('aborts through the AbortSignal', async () => {
    const s = uniqueSleep();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await run(`sleep ${s} & sleep ${s}`, { signal: ac.signal });
    expect(r.aborted).toBe(true);
    expect(r.timed_out).toBe(false);
    expect(r.duration_ms).toBeLessThan(3000);
    expect(await waitGone(`sleep ${s}`)).toEqual([]);
  });
});

describe('bwrap sandbox: limits', () => {
  it('caps runaway output and reports the cut, with bounded memory', async () => {
    const rss0 = process.memoryUsage().rss;
    const r = await run('yes | head -c 50000000; echo; echo THE-END', { limits: { wall_time_sec: 20, output_bytes: 10_000 } });
    expect(r.exit_code).toBe(0);
    expect(r.truncated_bytes).toBe(50_000_000 + 9 - 10_000);
    expect(r.output).toContain(`[... ${r.truncated_bytes} bytes cut ...]`);
    expect(r.output.startsWith('y\ny\n')).toBe(true);
    expect(r.output.endsWith('THE-END\n')).toBe(true);
    expect(r.output.length).toBeLessThan(10_100);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(40_000_000);
  });

  it('stops an endless output at the wall time', async () => {
    const r = await run('cat /dev/zero', { limits: { wall_time_sec: 1, output_bytes: 1000 } });
    expect(r.timed_out).toBe(true);
    expect(r.truncated_bytes).toBeGreaterThan(1_000_000);
    expect(r.output.length).toBeLessThan(1100);
  });

  it('enforces the file-size limit', async () => {
    expect(sb.enforced.file_size).toBe(true);
    const r = await run('head -c 3000000 /dev/zero > big.bin; echo "rc=$?"', { limits: { wall_time_sec: 10, file_size_mb: 1 } });
    expect(r.output).not.toContain('rc=0');
    expect(statSync(join(ws, 'big.bin')).size).toBe(1024 * 1024);
  });

  it('enforces the memory limit', async () => {
    expect(sb.enforced.memory).toBe(true);
    const cmd = 'dd if=/dev/zero of=/dev/null bs=300M count=1 2>&1; echo "rc=$?"';
    const limited = await run(cmd, { limits: { wall_time_sec: 10, memory_mb: 100 } });
    // a memory cgroup kills the process that goes over; RLIMIT_AS makes its allocation fail
    if (sb.enforced.memory_tree) expect(limited.oom_killed).toBe(true);
    else expect(limited.output).toMatch(/memory exhausted/);
    expect(limited.output).not.toContain('rc=0');
    const free = await run(cmd);
    expect(free.output).toContain('rc=0');
    expect(free.oom_killed).toBeUndefined();
  });

  it('enforces the CPU-time limit', async () => {
    expect(sb.enforced.cpu_time).toBe(true);
    const r = await run('while :; do :; done', { limits: { wall_time_sec: 10, cpu_time_sec: 1 } });
    expect(r.timed_out).toBe(false);
    expect(r.duration_ms).toBeLessThan(8000);
    expect(r.exit_code).not.toBe(0);
  });

  it('enforces the process limit', async () => {
    if (!sb.enforced.processes) return; // honest: this machine cannot (see enforced)
    const s = uniqueSleep();
    const r = await run(`for i in $(seq 200); do sleep ${s} & done; echo done`, { limits: { wall_time_sec: 10, processes: 20 } });
    expect(r.output).toMatch(/Cannot fork|Resource temporarily unavailable/);
    expect(await waitGone(`sleep ${s}`)).toEqual([]);
    // 20 processes really are allowed: the shell plus 19 sleeps.
    const ok = await run(`for i in $(seq 19); do sleep ${s} & done; echo done`, { limits: { wall_time_sec: 10, processes: 20 } });
    expect(ok.output).toBe('done\n');
  });

  it('leaves no cgroup behind', async () => {
    const caps = (await import('../../src/sandbox/host.js')).hostCaps();
    if (!caps.cgroup) return;
    const fs = await import('node:fs');
    await run('sleep 30 & true', { limits: { wall_time_sec: 5, processes: 5 } });
    // Idle cgroups are pooled for the next exec (cgroup.ts) and removed when this process exits:
    // what is left of this process's ones holds no process.
    for (const base of new Set(Object.values(caps.cgroup.bases))) {
      const mine = fs.readdirSync(base).filter((n) => n.startsWith(`${process.pid}-`));
      for (const d of mine) expect(fs.readFileSync(`${base}/${d}/cgroup.procs`, 'utf8'), d).toBe('');
    }
  });
});

describe('hostProcessesWith', () => {
  it('finds a live process (so the survivor checks above can fail)', async () => {
    const s = uniqueSleep();
    const { spawn } = await import('node:child_process');
    const child = spawn('sleep', [s]);
    await new Promise((r) => setTimeout(r, 100));
    expect(hostProcessesWith(`sleep ${s}`)).toEqual([child.pid]);
    child.kill('SIGKILL');
  });
});

describe('host private keys under /etc', () => {
  it('finds ssh host keys and every file of a private key directory, and nothing else', () => {
    const root = mkdtempSync(join(tmpdir(), 'outlast-keys-'));
    const ssh = join(root, 'ssh');
    const priv = join(root, 'private');
    mkdirSync(ssh);
    mkdirSync(priv);
    for (const f of ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub', 'ssh_config']) writeFileSync(join(ssh, f), 'x');
    writeFileSync(join(priv, 'server.pem'), 'x');
    expect(hostKeyFiles([ssh, priv, join(root, 'missing')]).sort()).toEqual([join(priv, 'server.pem'), join(ssh, 'ssh_host_ed25519_key')].sort());
  });
});
