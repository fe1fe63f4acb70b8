// The other half of "what holds when outlast runs as root vs as a user" (docs/security.md): when
// this suite runs as root (as CI does), run outlast itself as an ordinary user (nobody) on a copy of
// the checkout, and check the sandbox walls hold in that mode too (user namespace, no dedicated uid).
// When the suite itself runs as a user, every other test already exercises that mode.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTrajectory } from '../../src/store/trajectory.js';
import { ROOT, tmpdir, writeTree } from '../helpers/cli.js';
import { isRoot } from './helpers.js';

const NOBODY = 65534;

describe.runIf(isRoot)('outlast run by an ordinary user', () => {
  let base: string;
  const run = (args: string[]) =>
    spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, path.join(base, 'app/bin/outlast.js'), '--home', path.join(base, 'home'), ...args], {
      cwd: base,
      env: { PATH: process.env.PATH, HOME: base, CI: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });

  beforeAll(() => {
    // a copy of what outlast needs to run, readable by that user wherever the checkout lives
    base = tmpdir('outlast-as-user-');
    const app = path.join(base, 'app');
    fs.mkdirSync(app);
    for (const d of ['bin', 'dist', 'node_modules', 'package.json']) execFileSync('cp', ['-a', '--reflink=auto', path.join(ROOT, d), path.join(app, d)]);
    writeTree(path.join(base, 'task'), {
      'task.toml': '[task]\nname = "walls"\n',
      'instruction.md': 'x\n',
      'workspace/README': 'x\n',
      'tests/test.sh': '#!/bin/bash\n[ -f done.txt ]\n',
      'solution/solve.sh':
        '#!/bin/bash\n{ id -u; echo x > /proc/sys/kernel/core_pattern; python3 -c "import ctypes; l=ctypes.CDLL(None); print(\'keyctl\', l.syscall(250, 0, -3, 0))"; cp /bin/true s; chmod u+s s; echo chmod=$?; } > report.txt 2>&1\ntouch done.txt\n',
    });
    execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, base]);
    fs.chmodSync(base, 0o755);
  }, 60_000);

  it('runs tasks in user-namespace sandboxes that still keep sysctls, keyrings and setuid out of reach', () => {
    const core = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const r = run(['run', path.join(base, 'task'), '--harness', 'oracle,nop']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const rollouts = path.join(base, 'home/experiments', fs.readdirSync(path.join(base, 'home/experiments'))[0]!, 'rollouts');
    const oracle = fs.readdirSync(rollouts).find((n) => n.includes('oracle'))!;
    const events = readTrajectory(path.join(rollouts, oracle, 'trajectory.jsonl')).events;
    const started = events[0]!;
    if (started.type !== 'rollout.started') throw new Error('no start');
    expect(started.sandbox.enforced).toMatchObject({ dedicated_uid: false, seccomp: true, network: true });
    expect(events.find((e) => e.type === 'rollout.finished')).toMatchObject({ outcome: 'completed', score: { passed: true } });
    const report = fs.readFileSync(path.join(rollouts, oracle, 'workspace/report.txt'), 'utf8');
    expect(report.split('\n')[0]).toBe(String(NOBODY)); // the user itself, mapped into the namespace
    expect(report).toMatch(/Permission denied/);
    expect(report).toMatch(/keyctl -1/);
    expect(report).toMatch(/chmod=1/);
    expect(fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(core);
    expect(fs.statSync(path.join(rollouts, oracle, 'workspace/report.txt')).uid).toBe(NOBODY);
  }, 120_000);
});
