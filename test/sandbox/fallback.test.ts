// Hosts with less to offer: no writable pids cgroup, no prlimit. `enforced` must say so, and the
// tree kill must still hold (PID namespace for bwrap, process group for the unsandboxed mode).
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BwrapSandbox } from '../../src/sandbox/bwrap.js';
import { findBinary, hostCaps } from '../../src/sandbox/host.js';
import { UnsandboxedSandbox } from '../../src/sandbox/none.js';
import { tempDir, uniqueSleep, waitGone } from './helpers.js';

const ws = tempDir();
// commands run as the anonymous sandbox identity when outlast runs as root: give it the workspace
beforeAll(async () => new BwrapSandbox(findBinary('bwrap') ?? '/usr/bin/bwrap', hostCaps()).adopt(ws));
afterAll(() => rmSync(ws, { recursive: true, force: true }));
const bare = { ...hostCaps(), cgroup: null, prlimit: null };
const bwrapPath = findBinary('bwrap');

describe('without cgroup or prlimit', () => {
  it('reports the limits it cannot enforce', () => {
    const sb = new UnsandboxedSandbox(bare);
    expect(sb.enforced.cpu_time).toBe(false);
    expect(sb.enforced.memory).toBe(false);
    expect(sb.enforced.file_size).toBe(false);
    expect(sb.enforced.processes).toBe(false);
    const withNproc = new UnsandboxedSandbox({ ...bare, prlimit: hostCaps().prlimit });
    // RLIMIT_NPROC is ignored for root, so only a non-root run may claim it.
    expect(withNproc.enforced.processes).toBe(!bare.isRoot && hostCaps().prlimit !== null);
  });

  it('bwrap still kills the whole tree (PID namespace)', async () => {
    if (!bwrapPath) return;
    const sb = new BwrapSandbox(bwrapPath, bare);
    const s = uniqueSleep();
    const r = await sb.exec({ command: `(sleep ${s} &); setsid sleep ${s} & sleep ${s}`, workspace: ws, workdir: '/w', limits: { wall_time_sec: 0.5 } });
    expect(r.timed_out).toBe(true);
    expect(await waitGone(`sleep ${s}`)).toEqual([]);
  });

  it('none mode still kills its process group, on timeout and after a normal exit', async () => {
    const sb = new UnsandboxedSandbox(bare);
    const s = uniqueSleep();
    const r = await sb.exec({ command: `(sleep ${s} &); sleep ${s} & echo ok`, workspace: ws, workdir: '/w', limits: { wall_time_sec: 5 } });
    expect(r.output).toBe('ok\n');
    expect(await waitGone(`sleep ${s}`)).toEqual([]);
    const t = await sb.exec({ command: `(sleep ${s} &); sleep ${s}`, workspace: ws, workdir: '/w', limits: { wall_time_sec: 0.5 } });
    expect(t.timed_out).toBe(true);
    expect(await waitGone(`sleep ${s}`)).toEqual([]);
  });

  it('runs concurrent execs independently', async () => {
    if (!bwrapPath) return;
    const sb = new BwrapSandbox(bwrapPath);
    const rs = await Promise.all(
      [1, 2, 3, 4].map((i) => sb.exec({ command: `echo ${i}`, workspace: ws, workdir: '/w', limits: { wall_time_sec: 10, processes: 8 } })),
    );
    expect(rs.map((r) => r.output)).toEqual(['1\n', '2\n', '3\n', '4\n']);
  });
});
