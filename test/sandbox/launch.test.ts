// The launcher that ties a sandbox to the life of the outlast process that starts it (launch.ts):
// its guard refuses to run anything once that process is gone, a whole sandbox dies when its
// launcher does (the outer PID namespace), and where the pieces are missing the sandbox still
// works, saying in `enforced` that this guarantee does not hold.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BwrapSandbox } from '../../src/sandbox/bwrap.js';
import { findBinary, hostCaps } from '../../src/sandbox/host.js';
import { createSandbox } from '../../src/sandbox/index.js';
import { launcher } from '../../src/sandbox/launch.js';
import { UnsandboxedSandbox } from '../../src/sandbox/none.js';
import { hostProcessesWith, tempDir, uniqueSleep, waitGone } from './helpers.js';

const caps = hostCaps();
const bwrap = findBinary('bwrap')!;
const ws = tempDir();
beforeAll(async () => new BwrapSandbox(bwrap, caps).adopt(ws));
afterAll(() => rmSync(ws, { recursive: true, force: true }));

function run(file: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn(file, args, { stdio: 'ignore' });
    c.on('close', (code) => resolve(code));
  });
}

describe.runIf(caps.setpriv && caps.unshare)('the launcher', () => {
  for (const ns of [true, false]) {
    it(`${ns ? 'with' : 'without'} a PID namespace: runs the command while its runner is there, refuses (125) when it is not`, async () => {
      const marker = join(ws, `ran-${ns}`);
      const script = 'exec "$@"';
      const ok = launcher(caps, script, ns);
      expect(await run(ok.file, [...ok.args, '/bin/sh', '-c', `echo > ${marker}`])).toBe(0);
      expect(existsSync(marker)).toBe(true);
      rmSync(marker);
      // A launcher whose runner is another process (as if this one had died before it was armed).
      const orphan = launcher(caps, script, ns, 1);
      expect(await run(orphan.file, [...orphan.args, '/bin/sh', '-c', `echo > ${marker}`])).toBe(125);
      expect(existsSync(marker)).toBe(false);
    });
  }

  it('passes on the exit status; if the program (the namespace init) is killed, ends too, not 0', async () => {
    const l = launcher(caps, 'exec "$@"', true);
    expect(await run(l.file, [...l.args, '/bin/sh', '-c', 'exit 7'])).toBe(7);
    // Killed from outside (as the OOM killer would): util-linux's unshare cannot re-raise SIGKILL on
    // itself and exits 1 instead (a message on stderr); killed any other way, with its signal.
    const c = spawn(l.file, [...l.args, '/bin/sh', '-c', 'sleep 30'], { stdio: 'ignore' });
    const closed = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => c.on('close', (code, sig) => resolve({ code, sig })));
    process.kill(await childOf(c.pid!), 'SIGKILL');
    const end = await closed;
    expect(end.sig === 'SIGKILL' || (end.code !== null && end.code !== 0), JSON.stringify(end)).toBe(true);
  });

  it('a sandbox dies with its launcher: SIGKILL to the launcher alone takes every process of it down', async () => {
    const s = uniqueSleep();
    const sb = new BwrapSandbox(bwrap, caps);
    const exec = sb.exec({ command: `setsid sleep ${s} & sleep ${s}`, workspace: ws, workdir: '/workspace', limits: { wall_time_sec: 30 } });
    // The process runTree spawned is the launcher (setpriv, exec'd into unshare): its argv names the sleep too.
    let launcherPid: number | undefined;
    for (let i = 0; i < 300 && (launcherPid === undefined || hostProcessesWith(`sleep ${s}`).length < 5); i++) {
      await new Promise((r) => setTimeout(r, 10));
      launcherPid = hostProcessesWith(`sleep ${s}`).find((p) => cmdline(p).startsWith(caps.unshare!));
    }
    expect(launcherPid).toBeDefined();
    expect(hostProcessesWith(`sleep ${s}`).length).toBeGreaterThanOrEqual(5); // launcher, bwrap ×2, two sleeps (one setsid'd)
    process.kill(launcherPid!, 'SIGKILL'); // only the launcher: no process-group or cgroup kill from here
    expect(await waitGone(`sleep ${s}`)).toEqual([]);
    await exec;
  });
});

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The first child of `pid` (polled until it has one). */
async function childOf(pid: number): Promise<number> {
  for (let i = 0; i < 300; i++) {
    try {
      const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      if (kids.length) return Number(kids[0]);
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} never had a child`);
}

describe('enforced.dies_with_runner', () => {
  it('holds for bwrap where setpriv and unshare work, not for unsandboxed commands', async () => {
    const sb = await createSandbox('bwrap');
    expect(sb.enforced.dies_with_runner).toBe(Boolean(caps.setpriv && caps.unshare));
    expect(new UnsandboxedSandbox(caps).enforced.dies_with_runner).toBe(false);
  });

  it('without unshare, bwrap launches as before and says so', async () => {
    const sb = new BwrapSandbox(bwrap, { ...caps, unshare: null });
    expect(sb.enforced.dies_with_runner).toBe(false);
    const r = await sb.exec({ command: 'echo hi', workspace: ws, workdir: '/workspace', limits: { wall_time_sec: 10 } });
    expect(r).toMatchObject({ exit_code: 0, output: 'hi\n' });
  });
});
