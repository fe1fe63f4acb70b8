// Attack class 8 of docs/security.md: a malicious task. A task directory is untrusted input: links out
// of it are refused before anything runs, and its own scripts (verifier, oracle) run in the sandbox
// as unprivileged identities like the agent's code, so a task cannot reach the host either.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliAsync, tmpdir } from '../helpers/cli.js';
import { isRoot, runOracle, task } from './helpers.js';

async function refused(t: string, link: string): Promise<void> {
  const r = await cliAsync(['run', t, '--harness', 'oracle'], { home: tmpdir('outlast-attack-home-') });
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(link);
  expect(lines[0]).toMatch(/outside the task directory/);
}

describe('class 8: malicious task directories', () => {
  it('tests/ linked to a host directory is refused before anything runs', async () => {
    const t = task({});
    fs.rmSync(path.join(t, 'tests'), { recursive: true });
    fs.symlinkSync('/etc', path.join(t, 'tests'));
    await refused(t, 'tests');
  });

  it('solution/ linked to /root is refused', async () => {
    const t = task({});
    fs.symlinkSync('/root', path.join(t, 'solution'));
    await refused(t, 'solution');
  });

  it('a workspace file linked to a host secret is refused', async () => {
    const t = task({});
    fs.symlinkSync('/etc/shadow', path.join(t, 'workspace/shadow'));
    await refused(t, 'workspace/shadow');
  });

  it('`outlast check` refuses it the same way', async () => {
    const t = task({ 'solution/solve.sh': '#!/bin/bash\ntouch done.txt\n' });
    fs.symlinkSync('../../../../../../etc/passwd', path.join(t, 'tests/passwd'));
    const r = await cliAsync(['check', t], { home: tmpdir('outlast-attack-home-') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tests\/passwd: a symbolic link to .*outside the task directory/);
  });

  it.runIf(isRoot)('a solution only root can read is refused before it runs, with the fix', async () => {
    const t = task({ 'solution/solve.sh': '#!/bin/bash\ntouch done.txt\n' });
    fs.chmodSync(path.join(t, 'solution/solve.sh'), 0o700);
    const r = await cliAsync(['run', t, '--harness', 'oracle'], { home: tmpdir('outlast-attack-home-') });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/solve\.sh is not readable by other users.*chmod -R o\+rX/);
  });

  it("a task's verifier runs unprivileged in the sandbox: it cannot read host secrets or change the host", async () => {
    const loot = path.join(tmpdir('outlast-loot-'), 'loot.txt');
    const t = task({
      'solution/solve.sh': '#!/bin/bash\ntouch done.txt\n',
      'tests/test.sh': `#!/bin/bash\n{ id -u; cat /etc/shadow; ls /root; echo x > /proc/sys/kernel/core_pattern; echo pwned > ${loot}; } > /logs/verifier/out.txt 2>&1\ncat /logs/verifier/out.txt\n[ -f done.txt ]\n`,
    });
    const core = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const o = await runOracle(t);
    expect(o.finished?.outcome).toBe('completed');
    const output = o.events.find((e) => e.type === 'verifier.result');
    const text = output && output.type === 'verifier.result' ? output.run.output : '';
    if (isRoot) expect(Number(text.split('\n')[0])).not.toBe(0);
    expect(text).not.toMatch(/root:[^:]*:\d+/);
    expect(fs.existsSync(loot)).toBe(false);
    expect(fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(core);
  }, 60_000);
});
