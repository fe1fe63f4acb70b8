// No orphans: a runner killed with SIGKILL while it launches a sandbox leaves nothing running. A real
// `outlast run --harness outlast` (scripted model, real gateway, real bwrap) is killed 0–20 ms (seeded)
// after the `tool.call` of a command that would run for seconds, the window in which bwrap has not
// yet tied its processes to their parent; one second later no process of the rollout's sandbox may
// be left: none running as the rollout's agent uid (root mode) or as the runner's own user (user
// mode), none naming the run's directory in its command line, none in a cgroup of the dead runner.
// Root mode runs when the suite runs as root; user mode runs the runner as an ordinary uid (setpriv),
// or directly when the suite itself runs as a user.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import { rng } from '../../src/report/stats.js';
import { rolloutId } from '../../src/runner/experiment.js';
import { identityFor } from '../../src/sandbox/identity.js';
import { killAll, killAfterEvent, leftovers, type Leftover } from '../helpers/chaos.js';
import { BIN, ROOT, tmpdir, writeTree } from '../helpers/cli.js';

const CASES = 20;
const isRoot = process.getuid?.() === 0;
/** The ordinary user the user-mode runner runs as when the suite runs as root (no account uses it). */
const USER_UID = 64321;
/** In the agent's command line, so its shell is found wherever it runs. */
const MARK = 'orphan-probe-command';

/** First reply: a command that runs for seconds; then submit. */
function policy({ messages }: { messages: { role: string }[] }) {
  if (!messages.some((m) => m.role === 'tool')) return { tool_calls: [{ id: 'call_long', name: 'bash', arguments: { command: `sleep 8; echo ${MARK} > late.txt` } }] };
  return { tool_calls: [{ id: 'call_submit', name: 'submit', arguments: { summary: 'done' } }] };
}

describe('a runner killed while it launches a sandbox leaves no process behind', () => {
  let model: ScriptedModel;
  let base: string;
  /** Where the runner's code lives for the user-mode runs: the checkout when that user can read it, else a copy. */
  let app = ROOT;

  beforeAll(async () => {
    model = await startScriptedModel({ script: policy });
    base = tmpdir('outlast-orphans-');
    fs.chmodSync(base, 0o755);
    writeTree(base, {
      'models.toml': `[[models]]\nname = "prober"\nprotocol = "openai-chat"\nbase_url = "${model.url}/v1"\n`,
      'task/task.toml': '[task]\nname = "orphan-probe"\n[limits]\nwall_time_sec = 120\n',
      'task/instruction.md': 'Run the command, then submit.\n',
      'task/workspace/.keep': '',
      'task/tests/test.sh': '#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n',
    });
    if (isRoot) {
      execFileSync('chown', ['-R', `${USER_UID}:${USER_UID}`, base]);
      const readable = spawnSync('setpriv', [`--reuid=${USER_UID}`, `--regid=${USER_UID}`, '--clear-groups', process.execPath, '-e', `require('fs').readFileSync(${JSON.stringify(path.join(ROOT, 'node_modules/zod/package.json'))})`]);
      if (readable.status !== 0) {
        app = path.join(base, 'app');
        fs.mkdirSync(app);
        for (const d of ['bin', 'dist', 'node_modules', 'package.json']) execFileSync('cp', ['-a', '--reflink=auto', path.join(ROOT, d), path.join(app, d)]);
        execFileSync('chown', ['-R', `${USER_UID}:${USER_UID}`, app]);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await model?.close();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  const modes = isRoot ? (['root', 'user'] as const) : (['user'] as const);
  for (const mode of modes) {
    it(`${mode} mode: ${CASES} kills 0-20 ms after a tool call`, { timeout: 240_000 }, async () => {
      const rand = rng(mode === 'root' ? 20261201 : 20261202);
      const agentUid = identityFor(rolloutId('orphan-probe', 'outlast', 1, 'prober'), 'agent').uid;
      const found: { case: number; aim: number; offset: number; left: Leftover[] }[] = [];
      const offsets: number[] = [];
      let aimed = 0;
      for (let i = 0; i < CASES; i++) {
        const home = path.join(base, `home-${mode}-${i}`);
        fs.mkdirSync(home);
        const bin = app === ROOT ? BIN : path.join(app, 'bin/outlast.js');
        const args = [bin, '--home', home, 'run', path.join(base, 'task'), '--harness', 'outlast', '--model', 'prober', '--models', path.join(base, 'models.toml')];
        const asUser = mode === 'user' && isRoot;
        if (asUser) fs.chownSync(home, USER_UID, USER_UID);
        const child = asUser
          ? spawn('setpriv', [`--reuid=${USER_UID}`, `--regid=${USER_UID}`, '--clear-groups', process.execPath, ...args], { cwd: base, env: { PATH: process.env.PATH, HOME: base, CI: '1' }, stdio: 'ignore' })
          : spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, CI: '1' }, stdio: 'ignore' });
        const exited = new Promise((r) => child.once('exit', r));
        const aim = Math.floor(rand() * 21);
        const kill = await killAfterEvent(child, home, (e) => e.type === 'tool.call', aim);
        await exited;
        if (kill) {
          aimed++;
          offsets.push(kill.offset_ms);
        }
        await new Promise((r) => setTimeout(r, 1000));
        const left = leftovers({ uids: [mode === 'root' ? agentUid : asUser ? USER_UID : -1], marks: [home, MARK], runnerPid: child.pid });
        if (left.length) found.push({ case: i, aim, offset: kill?.offset_ms ?? -1, left });
        killAll(left);
      }
      expect(aimed, 'every run reached its tool call before it was killed').toBe(CASES);
      expect(found, `kill offsets (ms after the tool.call): ${offsets.join(', ')}`).toEqual([]);
      // The kills landed near where they were aimed (the launch window), not long after it; a loaded
      // machine delays some, so not all.
      expect(offsets.filter((o) => o <= 50).length, `offsets ${offsets.join(', ')}`).toBeGreaterThanOrEqual(CASES / 4);
    });
  }
});
