// The spawner process (src/sandbox/spawner.ts): sandboxed commands are started by a small helper
// process instead of by outlast itself (whose fork() would block its event loop for as long as its
// heap is large). The same commands give the same results either way; the launched tree's parent is
// the spawner; and the spawner, with everything it started, dies when its outlast process is killed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/sandbox/index.js';
import type { ExecOptions, Sandbox } from '../../src/sandbox/sandbox.js';
import { spawner } from '../../src/sandbox/spawner.js';
import { tempDir } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let sb: Sandbox;
let ws: string;
const run = (command: string, extra: Partial<ExecOptions> = {}) => sb.exec({ command, workspace: ws, workdir: '/workspace', limits: { wall_time_sec: 10 }, ...extra });

const ppidOf = (pid: number) => Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
/** Running (a zombie waiting for a reaper that is gone counts as dead). */
const alive = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
};

beforeAll(async () => {
  sb = await createSandbox('bwrap');
  ws = tempDir();
  await sb.adopt(ws);
});
afterAll(() => fs.rmSync(ws, { recursive: true, force: true }));

describe('spawner', () => {
  it('is used by default (the build has it), and the sandbox runs under it', async () => {
    const via = spawner(null);
    expect(via).not.toBeNull();
    // The shell inside reports its launcher chain's outer pid's parent through /proc of the host: we
    // only see the sandbox's own pids, so check from here: a long command's launcher is the spawner's child.
    const p = run('sleep 2; echo done');
    let launcherPid: number | undefined;
    for (let i = 0; i < 100 && launcherPid === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const kids = spawnSync('ps', ['-o', 'pid=', '--ppid', String(via!.pid)], { encoding: 'utf8' }).stdout.split('\n').map(Number).filter(Boolean);
      launcherPid = kids[0];
    }
    expect(launcherPid).toBeDefined();
    expect(ppidOf(launcherPid!)).toBe(via!.pid);
    expect((await p).output).toBe('done\n');
  });

  it('gives the same results as spawning directly: output, stdin, exit codes, timeouts, the output cap', async () => {
    const cases: [string, Partial<ExecOptions>][] = [
      ['echo 1; echo 2 >&2; cat; exit 7', { stdin: 'in\n' }],
      ['sleep 5', { limits: { wall_time_sec: 0.5 } }],
      ['head -c 3000000 /dev/zero | tr "\\0" x', { limits: { wall_time_sec: 10, output_bytes: 1000 } }],
    ];
    for (const [cmd, extra] of cases) {
      const viaSpawner = await run(cmd, extra);
      process.env.OUTLAST_SPAWNER = '0';
      const direct = await run(cmd, extra).finally(() => delete process.env.OUTLAST_SPAWNER);
      const pick = (r: typeof direct) => ({ exit_code: r.exit_code, timed_out: r.timed_out, output: r.output, truncated_bytes: r.truncated_bytes });
      expect(pick(viaSpawner), cmd).toEqual(pick(direct));
    }
  });

  it('dies, with what it started, when its outlast process is killed with -9', async () => {
    // A child process that runs a long sandboxed command through its own spawner, then is killed.
    const script = path.join(tempDir(), 'hold.mjs');
    fs.writeFileSync(
      script,
      `import { createSandbox } from '${ROOT}/dist/src/sandbox/index.js';\nimport { spawner } from '${ROOT}/dist/src/sandbox/spawner.js';\nconst sb = await createSandbox('bwrap');\nconst p = sb.exec({ command: 'sleep 60', workspace: '${ws}', workdir: '/workspace', limits: { wall_time_sec: 60 } });\nsetTimeout(() => console.log(JSON.stringify({ spawner: spawner(null).pid })), 500);\nawait p;\n`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => child.stdout!.once('data', (d) => resolve(String(d))));
    const { spawner: sp } = JSON.parse(line) as { spawner: number };
    // The sandbox may take a moment to start on a loaded machine.
    const children = () => spawnSync('ps', ['-o', 'pid=', '--ppid', String(sp)], { encoding: 'utf8' }).stdout.split('\n').map(Number).filter(Boolean);
    let tree = children();
    for (let i = 0; i < 100 && tree.length === 0; i++) tree = await new Promise<number[]>((r) => setTimeout(() => r(children()), 100));
    expect(tree.length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    expect(alive(sp), `spawner ${sp}: ${fs.existsSync(`/proc/${sp}/cmdline`) ? fs.readFileSync(`/proc/${sp}/cmdline`, "utf8") : ""}`).toBe(false);
    for (const p of tree) expect(alive(p), `tree ${p}`).toBe(false);
  });
});
