// Sandbox sessions (src/sandbox/session.ts), with real bwrap: each command of a long-lived sandbox
// gets what a fresh exec would give it (output, exit code, cwd, identity, a fresh /tmp, nothing left
// running from before), and what the agent can do to the executor costs only its own results.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, openSession } from '../../src/sandbox/index.js';
import type { Sandbox, SandboxSession, SessionCommand } from '../../src/sandbox/sandbox.js';
import { TreeSession } from '../../src/sandbox/session.js';
import { hostProcessesWith, tempDir, uniqueSleep, waitGone } from './helpers.js';

let sb: Sandbox;
let ws: string;
const open: SandboxSession[] = [];
const session = (limits: Record<string, number> = {}): SandboxSession => {
  const s = openSession(sb, { workspace: ws, workdir: '/workspace', limits: { wall_time_sec: 1, ...limits } });
  open.push(s);
  return s;
};
const cmd = (command: string, extra: Partial<SessionCommand> = {}): SessionCommand => ({ command, wall_time_sec: 10, ...extra });

beforeAll(async () => {
  sb = await createSandbox('bwrap');
  ws = tempDir();
  await sb.adopt(ws);
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

describe('sandbox sessions: each command as a fresh exec would run it', () => {
  it('is a long-lived sandbox (bwrap has sessions) and gives the same results as exec', async () => {
    const s = session();
    expect(s).toBeInstanceOf(TreeSession);
    for (const c of ['pwd; id -u; id -g; echo "$HOME $OUTLAST_WORKDIR"; echo err >&2; exit 3', 'cat; echo "stdin gave $?"', 'ls -a /tmp /dev/shm; hostname; ulimit -n', 'echo $0 $#; exit 0']) {
      const a = await s.exec(cmd(c));
      const b = await sb.exec({ command: c, workspace: ws, workdir: '/workspace', limits: { wall_time_sec: 10 } });
      expect({ exit: a.exit_code, out: a.output, sig: a.signal }).toEqual({ exit: b.exit_code, out: b.output, sig: b.signal });
    }
  });

  it('leaves nothing running after a command: background, setsid and double-forked children are gone before the next', async () => {
    const s = session();
    const tag = uniqueSleep();
    const r = await s.exec(cmd(`sleep ${tag} & setsid sleep ${tag} & (sleep ${tag} &) ; nohup sh -c 'while :; do echo late; sleep 0.01; done' >/dev/null 2>&1 & echo started`));
    expect(r.output).toBe('started\n');
    expect(await waitGone(tag, 3000)).toEqual([]);
    // Inside, the next command sees none of them: only bwrap's init, the executor, its own shell and ps.
    const next = await s.exec(cmd('ps -e -o comm='));
    expect(next.output.trim().split('\n').sort()).toEqual(['bwrap', 'ps', 'sh', 'sh']);
  });

  it('a background writer cannot put words in the next command\'s output', async () => {
    const s = session();
    // A writer still running on the other CPU when it is killed can finish one more write: the
    // executor waits for it to be gone before it ends the command (found with 1 run in 4 failing).
    for (let i = 0; i < 20; i++) {
      await s.exec(cmd(`(while :; do echo FORGED; done) & (while :; do echo FORGED >&2; done) & sleep 0.01; echo mine`));
      expect((await s.exec(cmd(`echo clean ${i}`))).output).toBe(`clean ${i}\n`);
    }
  });

  it('gives every command a fresh /tmp and /dev/shm, and the workdir as its cwd', async () => {
    const s = session();
    await s.exec(cmd('echo x > /tmp/a; mkdir -p /tmp/d/e; echo y > /dev/shm/b; mkdir sub; cd sub; export GONE=1'));
    const r = await s.exec(cmd('ls -A /tmp /dev/shm; pwd; echo "[$GONE]"; rmdir sub'));
    expect(r.output).toBe('/dev/shm:\n\n/tmp:\n/workspace\n[]\n');
  });

  it('a workdir the agent locked itself out of fails every command with 125, as an exec does', async () => {
    const s = session();
    await s.exec(cmd('mkdir -p "/workspace/a dir"'));
    const inner = openSession(sb, { workspace: `${ws}/a dir`, workdir: '/work space', limits: { wall_time_sec: 1 } });
    open.push(inner);
    expect(await inner.exec(cmd('pwd; chmod 000 .'))).toMatchObject({ output: '/work space\n', exit_code: 0 });
    const locked = await inner.exec(cmd('ls'));
    const exec = await sb.exec({ command: 'ls', workspace: `${ws}/a dir`, workdir: '/work space', limits: { wall_time_sec: 10 } });
    expect({ code: locked.exit_code, out: locked.output }).toEqual({ code: exec.exit_code, out: exec.output });
    expect(locked.exit_code).toBe(125);
    await s.exec(cmd('chmod 755 "/workspace/a dir"; rmdir "/workspace/a dir"'));
  });

  it('adds a command\'s own environment to it only', async () => {
    const s = session();
    expect((await s.exec(cmd('echo "$A|$B"', { env: { A: "it's", B: '$(id)' } }))).output).toBe("it's|$(id)\n");
    expect((await s.exec(cmd('echo "$A|$B"'))).output).toBe('|\n');
  });

  it('caps each command\'s output on its own', async () => {
    const s = session();
    const big = await s.exec(cmd('head -c 100000 /dev/zero | tr "\\0" a; echo; echo end', { output_bytes: 1000 }));
    expect(big.truncated_bytes).toBeGreaterThan(90_000);
    expect(big.output.endsWith('end\n')).toBe(true);
    expect(await s.exec(cmd('echo small'))).toMatchObject({ output: 'small\n', truncated_bytes: 0 });
  });
});

describe('sandbox sessions: limits', () => {
  it('kills a command at its wall time with everything it started, and the next command runs', async () => {
    const s = session();
    const tag = uniqueSleep();
    const t = performance.now();
    const r = await s.exec(cmd(`echo before; sleep ${tag} & sleep ${tag}`, { wall_time_sec: 1 }));
    expect(r).toMatchObject({ timed_out: true, exit_code: null, signal: 'SIGKILL', output: 'before\n' });
    expect(performance.now() - t).toBeLessThan(5000);
    expect(await waitGone(tag)).toEqual([]);
    expect(await s.exec(cmd('echo next'))).toMatchObject({ output: 'next\n', exit_code: 0, timed_out: false });
  });

  it('aborts a command on its signal, and an aborted signal runs nothing', async () => {
    const s = session();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await s.exec(cmd('sleep 30', { signal: ac.signal }));
    expect(r).toMatchObject({ aborted: true, exit_code: null });
    const again = await s.exec(cmd('touch /workspace/ran', { signal: ac.signal }));
    expect(again.aborted).toBe(true);
    expect(readdirSync(ws)).not.toContain('ran');
  });

  it('reports an OOM kill for the command that hit the session\'s memory limit, not the next', async () => {
    if (!sb.enforced.memory_tree) return expect(sb.enforced.memory_tree).toBe(false); // no memory cgroup here
    const s = session({ memory_mb: 100 });
    const r = await s.exec(cmd('dd if=/dev/zero of=/dev/null bs=300M count=1 2>&1; echo "rc=$?"'));
    expect(r.oom_killed).toBe(true);
    expect(r.output).not.toContain('rc=0');
    expect((await s.exec(cmd('echo fine'))).oom_killed).toBeUndefined();
  });
});

describe('sandbox sessions: attacked from inside', () => {
  it('an agent that kills the executor ends only that command; the next runs in a new session', async () => {
    const s = session();
    // The executor's death takes the sandbox's PID namespace down with it: the command dies too.
    const r = await s.exec(cmd('echo before; kill -9 -1; sleep 0.2; echo after'));
    expect(r.output).toBe('before\n');
    expect(r.exit_code).not.toBe(0);
    expect(await s.exec(cmd('echo again'))).toMatchObject({ output: 'again\n', exit_code: 0 });
  });

  it('cannot read the command stream (fd 3) or write around its own output (fd 4)', async () => {
    const s = session();
    const r = await s.exec(cmd('ls /proc/self/fd | sort -n | tr "\\n" " "; cat <&3; echo "fd3 $?"; echo x >&4; echo "fd4 $?"'));
    expect(r.output).toMatch(/^0 1 2 3 /); // 3 is ls's own directory handle
    expect(r.output).toMatch(/fd3 [12]/);
    expect(r.output).toMatch(/fd4 [12]/);
  });

  it('never sees the end-marker nonce, and a forged marker does not end its command', async () => {
    const s = session() as TreeSession;
    const r = await s.exec(cmd('cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null | tr "\\0" "\\n"; env; cat /outlast/session/* 2>/dev/null'));
    const nonce = (s as unknown as { nonce: string }).nonce;
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(r.output).not.toContain(nonce);
    const forged = await s.exec(cmd(`printf '\\n%s 2 0\\n' 0123456789abcdef0123456789abcdef; echo still running; exit 7`));
    expect(forged).toMatchObject({ exit_code: 7 });
    expect(forged.output).toContain('still running');
  });

  it('runs as the same unprivileged identity as an exec, and leaves nothing on the host after close', async () => {
    const s = session();
    const tag = uniqueSleep();
    const inSession = await s.exec(cmd('id -u; id -G'));
    const inExec = await sb.exec({ command: 'id -u; id -G', workspace: ws, workdir: '/workspace', limits: { wall_time_sec: 10 } });
    expect(inSession.output).toBe(inExec.output);
    await s.exec(cmd(`sleep ${tag} &`));
    const dir = (s as unknown as { dir: string }).dir;
    expect(hostProcessesWith(dir).length).toBeGreaterThan(0); // the session's bwrap, alive between commands
    await s.close();
    expect(await waitGone(dir)).toEqual([]);
    expect(hostProcessesWith(tag)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('sandbox sessions: without a sandbox of their own', () => {
  it('--sandbox none runs each command as an exec', async () => {
    const none = await createSandbox('none');
    const s = openSession(none, { workspace: ws, workdir: '/workspace', limits: { wall_time_sec: 1 } });
    expect(s).not.toBeInstanceOf(TreeSession);
    expect(await s.exec(cmd('echo "$A"', { env: { A: 'none' } }))).toMatchObject({ output: 'none\n', exit_code: 0 });
    await s.close();
  });
});
