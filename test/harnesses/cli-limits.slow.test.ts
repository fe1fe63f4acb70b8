// An external CLI (Claude Code: the quickest to start) as the adversary would use it, and at its
// limits: its only way out is the gateway's socket (a listener on another loopback port, and the
// gateway's own TCP port, see no connection); it cannot write the installed CLI; a budget refusal
// by the gateway stops it as budget_exhausted whatever the CLI makes of the 403; at its time limit,
// and when the runner stops the rollout, no process of it is left running.
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { identityFor } from '../../src/sandbox/identity.js';
import { answerTask, runCli, startCliEnv, type CliEnv } from './cli-helpers.js';
import { cleanup, ofType } from './helpers.js';

const CLI = 'claude-code';
/** A command that would run for 16 minutes (Claude Code refuses a bare `sleep`). */
const SLEEPER = 'python3 -c "import time; time.sleep(977)"';
let env: CliEnv | null = null;
afterEach(async () => {
  await env?.close();
  env = null;
  cleanup();
});

/** Processes now running as the rollout's agent identity (root mode), or whose command line names the sandbox's CLI mount. */
function survivors(rolloutId: string): string[] {
  const uid = identityFor(rolloutId, 'agent').uid;
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const ruid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if ((process.getuid?.() === 0 && ruid === uid) || cmd.includes('/outlast/cli/') || cmd.includes('sleep(977)')) out.push(`${pid} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

function listener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = net.createServer((s) => {
    n++;
    s.destroy();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, connections: () => n, close: () => new Promise((r) => server.close(() => r())) })),
  );
}

describe(`${CLI} in the sandbox`, () => {
  it('reaches nothing but the gateway socket, and cannot write the installed CLI', async () => {
    const other = await listener();
    const probe = (what: string, port: number | string) => `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>&1; echo "connect ${what}: $?"`;
    // the policy reads its commands when it answers: the gateway's port is added once it listens
    const commands: string[] = [];
    env = await startCliEnv(commands);
    commands.push(probe('other', other.port), probe('gateway', new URL(env.gw.url).port), 'touch /outlast/cli/node_modules/x 2>&1; echo "write cli: $?"', 'printf "hello from the cli\\n" > answer.txt');
    const opened = env.gw.connections().open;
    const { result, events } = await runCli(env, CLI, await answerTask(), { upstream: 'anthropic' });
    await other.close();
    expect(result, result.reason).toMatchObject({ outcome: 'completed', score: { passed: true } });
    expect(other.connections()).toBe(0);
    const outputs = ofType(events, 'tool.result').map((e) => e.output);
    expect(outputs[0]).toMatch(/connect other: 1/);
    expect(outputs[1]).toMatch(/connect gateway: 1/);
    expect(outputs[2]).toMatch(/Read-only file system[\s\S]*write cli: 1/);
    // every model call came through the rollout's socket, none through the gateway's TCP port
    expect(env.gw.connections().open).toBe(opened);
    expect(ofType(events, 'model.response').length).toBeGreaterThan(0);
  }, 240_000);

  it('stops as budget_exhausted when the gateway refuses a call over budget', async () => {
    env = await startCliEnv(['printf "hello from the cli\\n" > answer.txt', 'echo 2', 'echo 3', 'echo 4', 'echo 5']);
    const task = await answerTask();
    // Claude Code's requests are ~48 KB, which the gateway holds as ~12k input tokens before it knows
    // better: a 14k budget admits a call or two, then refuses
    const { result, events } = await runCli(env, CLI, task, { upstream: 'anthropic', limits: { tokens: 14_000 } });
    const refused = ofType(events, 'model.request').filter((e) => e.refused?.kind === 'budget');
    expect(refused.length).toBeGreaterThan(0);
    expect(ofType(events, 'model.response').filter((e) => e.status === 200).length).toBeGreaterThan(0);
    expect(result.outcome).toBe('budget_exhausted');
    expect(result.reason).toContain(refused[0]!.refused!.message);
    // the workspace is graded as it is
    expect(result.score).not.toBeNull();
  }, 240_000);

  it('at its time limit the CLI is stopped and nothing of it keeps running', async () => {
    env = await startCliEnv([SLEEPER]);
    const task = await answerTask();
    const t0 = Date.now();
    const { result, events } = await runCli(env, CLI, task, { upstream: 'anthropic', limits: { wall_time_sec: 6 }, settings: { grace_sec: 2 } });
    const took = Date.now() - t0;
    expect(result.outcome).toBe('budget_exhausted');
    expect(result.reason).toMatch(/wall time limit reached/);
    expect(took).toBeLessThan(40_000);
    const rollout = ofType(events, 'rollout.started')[0]!.spec.rollout_id;
    expect(survivors(rollout)).toEqual([]);
  }, 240_000);

  it('when the runner stops the rollout, nothing of the CLI keeps running', async () => {
    env = await startCliEnv([SLEEPER]);
    const task = await answerTask();
    const stop = new AbortController();
    let rollout = '';
    let alive: string[] = [];
    const run = runCli(env, CLI, task, {
      upstream: 'anthropic',
      signal: stop.signal,
      settings: { grace_sec: 2 },
      onEvent: (e) => {
        if (e.type === 'rollout.started') rollout = e.spec.rollout_id;
        // the shell tool is running the sleeper once the first reply (with its call) is recorded
        if (e.type === 'model.response' && !stop.signal.aborted)
          setTimeout(() => {
            alive = survivors(rollout);
            stop.abort(new Error('stop'));
          }, 1500);
      },
    });
    const { result } = await run;
    expect(result.interrupted).toBe(true);
    // the check sees the CLI and its sleeper while they run, and nothing after
    expect(alive.some((p) => p.includes('sleep(977)'))).toBe(true);
    expect(survivors(rollout)).toEqual([]);
  }, 240_000);
});
