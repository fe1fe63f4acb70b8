// Loading native task directories: the examples, defaults, and what each field becomes.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTask } from '../../src/tasks/load.js';
import { DEFAULT_SANDBOX } from '../../src/tasks/schema.js';
import { cleanup, EXAMPLES, nativeTask, tmp } from './helpers.js';

afterAll(cleanup);

describe('example tasks', () => {
  it('fix-failing-test loads as a native task with a tool', async () => {
    const t = await loadTask(path.join(EXAMPLES, 'fix-failing-test'));
    expect(t.format).toBe('outlast');
    expect(t.name).toBe('fix-failing-test');
    expect(t.family).toBe('examples');
    expect(t.workdir).toBe('/workspace');
    expect(t.workspace_dir).toBe(path.join(EXAMPLES, 'fix-failing-test', 'workspace'));
    expect(t.tests_dir).toBe(path.join(EXAMPLES, 'fix-failing-test', 'tests'));
    expect(t.solution_dir).toBe(path.join(EXAMPLES, 'fix-failing-test', 'solution'));
    expect(t.instruction).toMatch(/Fix the failing test/);
    expect(t.limits).toEqual({ wall_time_sec: 900, turns: 40 });
    expect(t.agent_timeout_sec).toBe(600);
    expect(t.verifier).toEqual({ kind: 'command', command: 'bash /tests/test.sh', timeout_sec: 120, reward_range: [0, 1], score_from: 'reward' });
    expect(t.tools).toEqual([
      {
        name: 'run_tests',
        description: expect.stringMatching(/unit tests/),
        command: 'python3 -B -m unittest -v 2>&1 | tail -n 40',
        timeout_sec: 60,
        records_evaluation: false,
      },
    ]);
    expect(t.requires).toEqual({ gpu: false });
    expect(t.metadata).toMatchObject({ difficulty: 'easy', description: expect.any(String), tags: ['python', 'debugging', 'unittest'] });
    expect(t.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(t.ignored).toEqual([]);
  });

  it('implement-function loads with the default verifier command', async () => {
    const t = await loadTask(path.join(EXAMPLES, 'implement-function'));
    expect(t.name).toBe('implement-function');
    expect(t.verifier).toEqual({ kind: 'command', command: 'bash /tests/test.sh', timeout_sec: 120, reward_range: [0, 1], score_from: 'reward' });
    expect(t.agent_timeout_sec).toBe(600);
    expect(t.tools).toEqual([]);
  });

  it('every example has an executable solve.sh and test.sh', () => {
    for (const name of fs.readdirSync(EXAMPLES)) {
      for (const f of ['solution/solve.sh', 'tests/test.sh']) {
        const st = fs.statSync(path.join(EXAMPLES, name, f));
        expect(st.mode & 0o111, `${name}/${f}`).not.toBe(0);
      }
    }
  });
});

describe('native defaults', () => {
  it('fills in defaults for an almost empty task.toml', async () => {
    const dir = nativeTask({ 'task.toml': '' }, 'my-task');
    const t = await loadTask(dir);
    expect(t.name).toBe('my-task');
    expect(t.family).toBe(path.basename(path.dirname(dir)));
    expect(t.dir).toBe(dir);
    expect(t.limits).toEqual({});
    expect(t.agent_timeout_sec).toBe(600);
    expect(t.sandbox).toEqual({ ...DEFAULT_SANDBOX });
    expect(t.verifier).toEqual({ kind: 'command', command: 'bash /tests/test.sh', timeout_sec: 600, reward_range: [0, 1], score_from: 'auto' });
    expect(t.requires.gpu).toBe(false);
    expect(t.metadata).toEqual({});
  });

  it('takes every section when given', async () => {
    const dir = nativeTask({
      'task.toml': `
[task]
name = "full"
family = "fam"
description = "desc"
[task.metadata]
difficulty = "hard"
tags = ["a"]

[limits]
wall_time_sec = 10
working_time_sec = 5.5
turns = 3
tokens = 1000
cost_usd = 0.25

[agent]
timeout_sec = 30

[sandbox]
cpu_time_sec = 20
memory_mb = 512
processes = 64
file_size_mb = 16

[verifier]
command = "bash /tests/test.sh --fast"
timeout_sec = 45

[[tools]]
name = "evaluate"
description = "score the current attempt"
command = "python3 eval.py"
timeout_sec = 30
records_evaluation = true

[[tools]]
name = "lint"
command = "true"

[requires]
gpu = true
`,
    });
    const t = await loadTask(dir);
    expect(t.name).toBe('full');
    expect(t.family).toBe('fam');
    expect(t.metadata).toEqual({ difficulty: 'hard', tags: ['a'], description: 'desc' });
    expect(t.limits).toEqual({ wall_time_sec: 10, working_time_sec: 5.5, turns: 3, tokens: 1000, cost_usd: 0.25 });
    expect(t.agent_timeout_sec).toBe(30);
    expect(t.sandbox).toEqual({ cpu_time_sec: 20, memory_mb: 512, processes: 64, file_size_mb: 16 });
    expect(t.verifier).toEqual({ kind: 'command', command: 'bash /tests/test.sh --fast', timeout_sec: 45, reward_range: [0, 1], score_from: 'auto' });
    expect(t.tools).toEqual([
      { name: 'evaluate', description: 'score the current attempt', command: 'python3 eval.py', timeout_sec: 30, records_evaluation: true },
      { name: 'lint', description: '', command: 'true', timeout_sec: 300, records_evaluation: false },
    ]);
    expect(t.requires).toEqual({ gpu: true });
  });

  it('keeps kind-specific settings of non-command verifiers for their verifier to check', async () => {
    const dir = nativeTask({ 'task.toml': '[verifier]\nkind = "match"\nexpected = "42"\nmode = "exact"\n', 'tests/test.sh': null });
    const t = await loadTask(dir);
    expect(t.verifier).toEqual({ kind: 'match', timeout_sec: 600, expected: '42', mode: 'exact' });
  });

  it('accepts every verifier kind', async () => {
    for (const kind of ['command', 'speedup', 'match', 'rubric', 'memorization', 'human']) {
      const t = await loadTask(nativeTask({ 'task.toml': `[verifier]\nkind = "${kind}"\n` }));
      expect(t.verifier.kind).toBe(kind);
    }
  });

  it('has no workspace, tests or solution when the directories are absent', async () => {
    const dir = nativeTask({
      'task.toml': '[verifier]\ncommand = "test -f out.txt"\n',
      'workspace/a.txt': null,
      'tests/test.sh': null,
      'solution/solve.sh': null,
    });
    const t = await loadTask(dir);
    expect(t.workspace_dir).toBeNull();
    expect(t.tests_dir).toBeNull();
    expect(t.solution_dir).toBeNull();
  });

  it('accepts a relative path and returns an absolute dir', async () => {
    const dir = nativeTask();
    const rel = path.relative(process.cwd(), dir);
    const t = await loadTask(rel);
    expect(t.dir).toBe(dir);
  });

  it('loads a task whose directory name is not a valid task name when [task] name is set', async () => {
    const root = tmp();
    const dir = path.join(root, 'a task with spaces');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'task.toml'), '[task]\nname = "spaced"\n[verifier]\ncommand = "true"\n');
    fs.writeFileSync(path.join(dir, 'instruction.md'), 'x');
    expect((await loadTask(dir)).name).toBe('spaced');
  });
});
