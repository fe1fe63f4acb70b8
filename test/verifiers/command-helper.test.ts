// The agent-run helper, through the real command verifier in real bwrap sandboxes set up as a rollout
// sets them up: who the agent's code runs as and what it sees, how output, status, stdin, timeouts and
// the working directory come back, what is recorded, and how the broker treats bad requests.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { asIdentity, copyTree, createSandbox, identityFor } from '../../src/sandbox/index.js';
import { loadTask } from '../../src/tasks/load.js';
import { createVerifier } from '../../src/verifiers/index.js';
import { tmpdir, writeTree } from '../helpers/cli.js';

const isRoot = process.getuid?.() === 0;

/** Grade `workspace` files with a task whose tests/test.sh is `script`. */
async function grade(script: string, opts: { workspace?: Record<string, string>; toml?: string; tests?: Record<string, string> } = {}) {
  const dir = writeTree(tmpdir(), {
    'task.toml': `[task]\nname = "helper"\n[verifier]\ntimeout_sec = 60\n${opts.toml ?? ''}`,
    'instruction.md': 'x\n',
    'tests/test.sh': `#!/bin/bash\n${script}\n`,
    ...Object.fromEntries(Object.entries(opts.tests ?? {}).map(([k, v]) => [`tests/${k}`, v])),
    ...Object.fromEntries(Object.entries(opts.workspace ?? { '.keep': '' }).map(([k, v]) => [`workspace/${k}`, v])),
  });
  const task = await loadTask(dir);
  const sandbox = await createSandbox('bwrap');
  const key = `helper-${path.basename(dir)}`;
  const agentId = identityFor(key, 'agent');
  const verifierId = identityFor(key, 'verifier');
  const scratch = tmpdir();
  const copy = path.join(scratch, 'workspace');
  await copyTree(task.workspace_dir!, copy, { owner: sandbox.enforced.dedicated_uid ? { uid: agentId.uid, gid: agentId.gid } : undefined, groupLikeOwner: true });
  const out = await createVerifier(task.verifier).verify({
    task,
    workspace: copy,
    tests: task.tests_dir,
    scratch,
    sandbox: asIdentity(sandbox, verifierId),
    agent: asIdentity(sandbox, agentId),
    seed: 1,
  });
  return { ...out, agentId, verifierId };
}

describe('agent-run', () => {
  it("runs a command as the agent, without the verifier's mounts, and returns its stdout, stderr, status and stdin", async () => {
    const { run, agentId, verifierId } = await grade(
      [
        `out=$(printf 'from-stdin' | agent-run sh -c 'cat; echo " uid=$(id -u)"; echo to-stderr >&2; for p in /tests /logs/verifier /outlast/broker /outlast/bin; do [ -e $p ] && echo "SEES $p" >&2; done; exit 3' 2>/tmp/err)`,
        'echo "rc=$? out=[$out] err=[$(cat /tmp/err)] verifier-uid=$(id -u)"',
      ].join('\n'),
    );
    const uid = isRoot ? agentId.uid : process.getuid!();
    expect(run.output).toContain(`rc=3 out=[from-stdin uid=${uid}] err=[to-stderr]`);
    expect(run.output).not.toMatch(/SEES/);
    if (isRoot) expect(run.output).toContain(`verifier-uid=${verifierId.uid}`);
    expect(run.agent_runs).toEqual([expect.objectContaining({ command: expect.stringMatching(/^sh -c /), exit_code: 3, timed_out: false, stdout_bytes: `from-stdin uid=${uid}\n`.length, stderr_bytes: 10 })]);
  });

  it('kills a call at its timeout (status 124), runs in the current directory when it is inside the workspace, and reports 128+n for a signal', async () => {
    const { run } = await grade(
      [
        'agent-run --timeout 1 sleep 30; echo "timeout-rc=$?"',
        'mkdir -p sub && cd sub && echo "pwd=$(agent-run pwd)"',
        'cd /tmp && echo "outside=$(agent-run pwd)"',
        "agent-run sh -c 'kill -9 $$'; echo \"signal-rc=$?\"",
      ].join('\n'),
    );
    expect(run.output).toContain('timeout-rc=124');
    expect(run.output).toContain('pwd=/workspace/sub');
    expect(run.output).toContain('outside=/workspace');
    expect(run.output).toContain('signal-rc=137');
    expect(run.agent_runs?.[0]).toMatchObject({ timed_out: true, exit_code: null });
  });

  it('is refused, with status 125 and a reason, for bad requests and where there is no broker', async () => {
    const { run } = await grade(
      [
        'OUTLAST_AGENT_RUN=/nowhere.sock agent-run true; echo "no-broker-rc=$?"',
        'agent-run --timeout 0 true; echo "bad-timeout-rc=$?"',
        'agent-run; echo "no-command-rc=$?"',
        `python3 - <<'PY'`,
        'import socket',
        'for req in [b"not json\\n", b\'{"v": 1, "argv": []}\\n\', b\'{"v": 1, "argv": ["true"], "stdin_bytes": 99999999999}\\n\', b"x" * 70000]:',
        '    s = socket.socket(socket.AF_UNIX); s.connect("/outlast/broker/agent-run.sock"); s.sendall(req); s.shutdown(socket.SHUT_WR)',
        '    print("reply:", s.recv(4096).decode().strip())',
        'PY',
      ].join('\n'),
    );
    expect(run.output).toMatch(/agent-run: cannot reach outlast's agent-run broker at \/nowhere.sock .*\nno-broker-rc=125/);
    expect(run.output).toContain('bad-timeout-rc=125');
    expect(run.output).toContain('no-command-rc=125');
    expect(run.output).toContain('reply: {"ok":false,"error":"the request header is not JSON"}');
    expect(run.output).toContain('reply: {"ok":false,"error":"argv must be a non-empty list of strings"}');
    expect(run.output).toMatch(/reply: \{"ok":false,"error":"stdin is limited to \d+ bytes"\}/);
    expect(run.output).toMatch(/reply: \{"ok":false,"error":"the request header is longer than \d+ bytes"\}/);
  });

  it('serves concurrent calls (a bounded number at once) and records every one', async () => {
    const { run } = await grade('for i in 1 2 3 4 5 6 7 8; do (agent-run sh -c "sleep 0.3; echo call-$i" > /tmp/out-$i) & done; wait; cat /tmp/out-*');
    for (let i = 1; i <= 8; i++) expect(run.output).toContain(`call-${i}`);
    expect(run.agent_runs).toHaveLength(8);
    expect(run.agent_runs!.every((r) => r.exit_code === 0)).toBe(true);
  });

  it("removes links to the verifier's files that the agent's code made during the verification", async () => {
    const { run } = await grade(
      [
        "agent-run sh -c 'ln -s /tests/expected.txt out.txt; ln -s /logs/verifier/reward.txt r.txt; mkfifo pipe; ln -s data.txt own.txt; echo mine > data.txt'",
        'ls -1 | sort | tr "\\n" " "; echo',
        'cat out.txt 2>&1 | head -1',
      ].join('\n'),
      { tests: { 'expected.txt': 'SECRET-EXPECTED\n' } },
    );
    expect(run.output).toContain('data.txt own.txt \n');
    expect(run.output).not.toMatch(/out\.txt r\.txt|pipe/);
    expect(run.output).not.toContain('SECRET-EXPECTED');
  });

  it('runs Python hardened, the standard library from its byte code and the workspace from source, in the verifier and in agent-run', async () => {
    const probe = `import importlib.util, json, os, sys; print("safe=%d prefix=%s stdlib-cached=%s" % (sys.flags.safe_path, sys.pycache_prefix, os.path.exists(importlib.util.cache_from_source(json.__file__))))`;
    const { run } = await grade(`python3 -c '${probe}'\nagent-run python3 -c '${probe}'`);
    expect(run.output).toBe('safe=1 prefix=/outlast/pycache stdlib-cached=True\n'.repeat(2));
  });

  it('calls Python functions out of process with outlast_agent (a whole batch in one call; a case that kills the process runs alone)', async () => {
    const { score, run } = await grade('exec python3 -P /tests/grade.py', {
      toml: 'score_from = "reward"\n',
      tests: {
        'grade.py': [
          'from outlast_agent import Case, Iter, Call, grade',
          'raise SystemExit(grade("m", [',
          '    Case("add").equal("add", [1, 2], 3).equal("add", [(1,), (2,)], [1, 2]),',
          '    Case("iter").equal("total", [Iter([1, 2, 3])], 6),',
          '    Case("nested").equal("add", [Call("add", [1, 1]), 1], 3),',
          '    Case("raises").raises("add", [1, "x"], "TypeError"),',
          '    Case("mutates").unchanged("pop", [[1, 2]]),',
          '    Case("always-equal").equal("sneaky", [], 42),',
          '    Case("exits").equal("leave", [], 1),',
          '    Case("after").approx("add", [0.1, 0.2], 0.3),',
          ']))',
        ].join('\n'),
      },
      workspace: {
        'm.py': [
          'import os',
          'print("import-time chatter")',
          'def add(a, b): return a + b',
          'def total(xs): return sum(xs)',
          'def pop(xs): xs.pop(); return 0',
          'class Yes:',
          '    def __eq__(self, other): return True',
          'def sneaky(): return Yes()',
          'def leave(): os._exit(0)',
        ].join('\n'),
      },
    });
    expect(run.output).toContain('ok   add\nok   iter\nok   nested\nok   raises\nFAIL mutates: pop changed its arguments\nFAIL always-equal: sneaky returned a Yes, not plain data');
    expect(run.output).toMatch(/FAIL exits: the agent's code ended the process/);
    expect(run.output).toContain('ok   after\n5 passed, 3 failed');
    expect(score).toMatchObject({ value: 0.625, passed: false, details: { source: 'reward.json' } });
    // the batch, then the case whose result went missing, alone
    expect(run.agent_runs!.length).toBeGreaterThanOrEqual(2);
    expect(run.output).not.toContain('import-time chatter');
  });
});
