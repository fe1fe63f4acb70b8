// A test script that cannot run its tests is no grade (src/verifiers/missing-commands.ts): the TB2
// pattern (test.sh runs `uvx ... pytest`, uv is not installed here, and it writes reward 0) ends the
// rollout as task_error with the reason, for the oracle and nop alike, and `check` names the task
// unsound; a command the agent was to provide in its workspace is graded as usual; and the agent
// cannot turn its 0 into a void grade, or forge the report, from its own code.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastFinished } from '../../src/store/tail.js';
import { cli, tmpdir, writeTree } from '../helpers/cli.js';

const UVX_TEST = '#!/bin/bash\nuvx -p 3.11 -w pytest==8.4.1 pytest /tests/test_outputs.py -rA\nif [ $? -eq 0 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n';

function task(dir: string, name: string, test: string, solve = '#!/bin/bash\necho 42 > answer.txt\n'): string {
  return writeTree(path.join(dir, name), {
    'task.toml': `[task]\nname = "${name}"\n`,
    'instruction.md': 'Write 42 to answer.txt.\n',
    'workspace/.keep': '',
    'tests/test.sh': test,
    'tests/test_outputs.py': 'def test_answer():\n    assert open("answer.txt").read().strip() == "42"\n',
    'solution/solve.sh': solve,
  });
}

interface Row {
  harness: string;
  outcome: string;
  reason: string | null;
  score: { value: number; details?: Record<string, unknown> } | null;
}
/** The rollouts as `show --json` gives them, each with the full score of its log's last event. */
const rows = (home: string): Row[] =>
  (JSON.parse(cli(['show', '--json'], { home }).stdout) as { rollouts: Array<Row & { trajectory: string }> }).rollouts.map((r) => ({ ...r, score: lastFinished(r.trajectory)?.score ?? null }) as Row);

describe('tests that could not run are no grade', () => {
  it('uvx missing: the oracle and nop end task_error naming the command, the reward file notwithstanding', () => {
    const home = tmpdir();
    const dir = task(tmpdir(), 'needs-uvx', UVX_TEST);
    const r = cli(['run', dir, '--harness', 'oracle,nop'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const got = rows(home);
    expect(got).toHaveLength(2);
    for (const row of got) {
      expect(row.outcome, row.harness).toBe('task_error');
      expect(row.score).toBeNull();
      expect(row.reason).toMatch(/the tests could not run: `uvx` not installed here \(command not found\)/);
    }
    // run says why, not only "task_error"
    expect(r.stdout).toMatch(/task_error: .*`uvx` not installed here/);
    expect(r.stderr + r.stdout).toMatch(/done .*task_error .*`uvx` not installed here/);
  });

  it('check names the task unsound, with the reason, in one line', () => {
    const home = tmpdir();
    const suite = tmpdir();
    task(suite, 'needs-uvx', UVX_TEST);
    task(suite, 'sound', '#!/bin/bash\ngrep -qx 42 answer.txt\n');
    const r = cli(['check', suite], { home });
    expect(r.code).toBe(1);
    const line = r.stdout.split('\n').find((l) => l.includes('needs-uvx'))!;
    expect(line).toMatch(/BROKEN: oracle fails \(task_error: .*`uvx` not installed here/);
    expect(r.stdout.split('\n').find((l) => l.includes('sound'))).not.toMatch(/BROKEN/);
  });

  it('a missing command in a PATH the agent could fill (its workspace) is graded: the agent\'s 0', () => {
    const home = tmpdir();
    const dir = task(tmpdir(), 'own-tool', '#!/bin/bash\nexport PATH="$PWD/bin:$PATH"\nmytool > out.txt && grep -qx 42 out.txt\n', '#!/bin/bash\nmkdir -p bin; printf "#!/bin/sh\\necho 42\\n" > bin/mytool; chmod +x bin/mytool\n');
    expect(cli(['run', dir, '--harness', 'oracle,nop'], { home }).code).toBe(0);
    const byHarness = Object.fromEntries(rows(home).map((x) => [x.harness, x]));
    expect(byHarness.oracle).toMatchObject({ outcome: 'completed', score: { value: 1 } });
    expect(byHarness.nop).toMatchObject({ outcome: 'completed', score: { value: 0, details: { missing_commands: ['mytool'] } } });
  });

  it('the agent\'s code run by the tests through agent-run cannot report a missing command (or reach the report)', () => {
    const home = tmpdir();
    // The "solution" is the agent's code; the tests run it as the agent, out of their process.
    const solve = '#!/bin/bash\ncat > cheat.sh <<\'EOF\'\nprintf "uvx\\t/usr/bin\\n" >> /outlast/status/missing-commands 2>/dev/null; echo "status: $?"\nls -la /outlast 2>&1\nnosuchcommand_from_agent\nEOF\n';
    const dir = task(tmpdir(), 'forger', '#!/bin/bash\nagent-run bash cheat.sh\nexit 1\n', solve);
    cli(['run', dir, '--harness', 'oracle'], { home });
    const [row] = rows(home);
    // graded (a 0), not voided: the report was not reachable, and the agent's own shell has no handler
    expect(row).toMatchObject({ outcome: 'completed', score: { value: 0 } });
  });

  it('a broken report (the tests\' own code made it a link) is a broken grade, never a void one', () => {
    const home = tmpdir();
    const dir = task(tmpdir(), 'broken-report', '#!/bin/bash\nln -s /etc/passwd /outlast/status/missing-commands\nexit 1\n');
    cli(['run', dir, '--harness', 'oracle'], { home });
    const [row] = rows(home);
    expect(row).toMatchObject({ outcome: 'completed', score: { value: 0, details: { source: 'verifier-status', reason: expect.stringMatching(/symbolic link/) } } });
  });

  it('a test script run by sh (dash) is graded as it ends', () => {
    const home = tmpdir();
    const dir = task(tmpdir(), 'dash', '#!/bin/sh\nuvx pytest\n');
    fs.writeFileSync(path.join(dir, 'task.toml'), '[task]\nname = "dash"\n\n[verifier]\ncommand = "sh /tests/test.sh"\n');
    cli(['run', dir, '--harness', 'oracle'], { home });
    expect(rows(home)[0]).toMatchObject({ outcome: 'completed', score: { value: 0 } });
  });
});
