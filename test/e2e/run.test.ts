// Whole-CLI tests: `outlast run`, `show`, `rebuild`, `resume` on real task directories, real
// sandboxes and a real SQLite file.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTrajectory } from '../../src/store/trajectory.js';
import { cli, cliSpawn, tmpdir, writeTree } from '../helpers/cli.js';

/** A task: make `answer.txt` hold 42. The verifier writes a Harbor-style reward file. */
function answerTask(root: string, solve: string): string {
  return writeTree(root, {
    'task.toml': '[task]\nname = "answer"\n\n[verifier]\ncommand = "bash /tests/test.sh"\ntimeout_sec = 30\n',
    'instruction.md': 'Write 42 into answer.txt.\n',
    'workspace/README': 'nothing here yet\n',
    'tests/test.sh': '#!/bin/bash\nif [ "$(cat answer.txt 2>/dev/null)" = 42 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n',
    'solution/solve.sh': solve,
  });
}

function rolloutDirs(home: string): string[] {
  const exps = fs.readdirSync(path.join(home, 'experiments'));
  return exps.flatMap((e) => {
    const d = path.join(home, 'experiments', e, 'rollouts');
    return fs.existsSync(d) ? fs.readdirSync(d).map((r) => path.join(d, r)) : [];
  });
}

describe('outlast run', () => {
  it('runs oracle and nop, records every phase, and shows the results', () => {
    const home = tmpdir();
    const task = answerTask(tmpdir(), '#!/bin/bash\necho 42 > answer.txt\n');
    const r = cli(['run', task, '--harness', 'oracle,nop'], { home });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 rollouts finished: 1 passed, 1 failed/);

    const show = cli(['show', '--json'], { home });
    const rows = JSON.parse(show.stdout).rollouts as { harness: string; outcome: string; score: number; passed: boolean }[];
    expect(rows.map((x) => [x.harness, x.outcome, x.score, x.passed]).sort()).toEqual([
      ['nop', 'completed', 0, false],
      ['oracle', 'completed', 1, true],
    ]);

    for (const dir of rolloutDirs(home)) {
      const { events, torn } = readTrajectory(path.join(dir, 'trajectory.jsonl'));
      expect(torn).toBeNull();
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
      const types = events.map((e) => (e.type === 'phase' ? `${e.phase}:${e.status}` : e.type));
      expect(types[0]).toBe('rollout.started');
      expect(types.at(-1)).toBe('rollout.finished');
      for (const p of ['prepare:done', 'harness:done', 'snapshot:done', 'verify:done', 'verifier.result']) expect(types).toContain(p);
      const started = events[0]!;
      if (started.type !== 'rollout.started') throw new Error('first event');
      expect(started.spec.task.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(started.sandbox.mode).toBe('bwrap');
      expect(started.sandbox.unsandboxed).toBe(false);
    }
  });

  it('grades a tampered workspace by the pristine tests only', () => {
    const home = tmpdir();
    // A "solution" that cheats instead of solving: fake reward files, an edited copy of the tests,
    // a fake test summary, and an attempt to write where the verifier keeps its reward.
    const cheat = [
      '#!/bin/bash',
      'mkdir -p logs/verifier tests',
      'echo 1 > logs/verifier/reward.txt',
      'echo 1 > reward.txt',
      "printf '#!/bin/bash\\necho 1 > /logs/verifier/reward.txt\\n' > tests/test.sh",
      'echo "10 passed, 0 failed"',
      'echo 1 > /logs/verifier/reward.txt 2>/dev/null || true',
      'echo 1 > /tests/test.sh 2>/dev/null || true',
      'echo 41 > answer.txt',
    ].join('\n');
    const task = answerTask(tmpdir(), cheat + '\n');
    const r = cli(['run', task, '--harness', 'oracle'], { home });
    expect(r.code).toBe(0);
    const rows = JSON.parse(cli(['show', '--json'], { home }).stdout).rollouts;
    expect(rows[0].score).toBe(0);
    expect(rows[0].passed).toBe(false);
    expect(fs.readFileSync(path.join(task, 'tests/test.sh'), 'utf8')).toContain('answer.txt');
  });

  it('records --sandbox none as unsandboxed', () => {
    const home = tmpdir();
    const task = answerTask(tmpdir(), '#!/bin/bash\necho 42 > answer.txt\n');
    const r = cli(['run', task, '--sandbox', 'none'], { home });
    expect(r.stderr).toMatch(/UNSANDBOXED/);
    const [dir] = rolloutDirs(home);
    const started = readTrajectory(path.join(dir!, 'trajectory.jsonl')).events[0]!;
    if (started.type !== 'rollout.started') throw new Error('first event');
    expect(started.sandbox.unsandboxed).toBe(true);
    expect(started.spec.sandbox).toBe('none');
    // Unsandboxed commands run on the host, where /solution and /tests cannot be mounted: the rollout
    // says so in one line instead of grading something else.
    const rows = JSON.parse(cli(['show', '--json'], { home }).stdout).rollouts;
    expect(rows[0].outcome).toBe('task_error');
    const finished = readTrajectory(path.join(dir!, 'trajectory.jsonl')).events.at(-1)!;
    if (finished.type !== 'rollout.finished') throw new Error('last event');
    expect(finished.reason).toMatch(/--sandbox none cannot mount .* at \/solution/);
  });

  it('survives kill -9 mid-experiment: logs parse, rebuild restores the database, resume finishes', async () => {
    const home = tmpdir();
    const task = answerTask(tmpdir(), '#!/bin/bash\nfor i in 1 2 3 4 5; do echo step $i; sleep 0.2; done\necho 42 > answer.txt\n');
    const child = cliSpawn(['run', task, '--repeats', '6', '--concurrency', '2'], { home });
    const exited = new Promise((r) => child.once('exit', r));
    // Wait until some rollouts have started, then kill the runner without warning.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const dirs = fs.existsSync(path.join(home, 'experiments')) ? rolloutDirs(home) : [];
      const finished = dirs.filter((d) => fs.existsSync(path.join(d, 'trajectory.jsonl')) && fs.readFileSync(path.join(d, 'trajectory.jsonl'), 'utf8').includes('rollout.finished'));
      if (finished.length >= 1 && dirs.length >= 3) break;
      if (Date.now() > deadline) throw new Error('rollouts did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;

    // Expected rows, read straight from the logs.
    const expected = new Map<string, { events: number; finished: boolean }>();
    for (const dir of rolloutDirs(home)) {
      const file = path.join(dir, 'trajectory.jsonl');
      if (!fs.existsSync(file)) continue; // killed between creating the rollout's directory and its log
      const res = readTrajectory(file);
      expect(res.bad).toEqual([]); // every line parses, except at most a torn last one
      expected.set(path.basename(dir), { events: res.events.length, finished: res.events.some((e) => e.type === 'rollout.finished') });
    }
    const finishedBefore = [...expected.values()].filter((x) => x.finished).length;
    expect(finishedBefore).toBeGreaterThanOrEqual(1);
    expect(finishedBefore).toBeLessThan(6);

    fs.rmSync(path.join(home, 'outlast.db'));
    for (const f of ['outlast.db-wal', 'outlast.db-shm']) fs.rmSync(path.join(home, f), { force: true });
    const rb = cli(['rebuild'], { home });
    expect(rb.code).toBe(0);
    const after = JSON.parse(cli(['show', '--json'], { home }).stdout).rollouts as { rollout_id: string; events: number; status: string }[];
    expect(after).toHaveLength(6);
    for (const row of after) {
      const exp = expected.get(row.rollout_id);
      expect(row.events).toBe(exp?.events ?? 0);
      // A rollout whose log was created but got no event before the kill is still pending.
      expect(row.status).toBe(!exp || exp.events === 0 ? 'pending' : exp.finished ? 'finished' : 'running');
    }

    const res = cli(['resume'], { home });
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    const final = JSON.parse(cli(['show', '--json'], { home }).stdout).rollouts as { status: string; passed: boolean }[];
    expect(final).toHaveLength(6);
    expect(final.every((x) => x.status === 'finished' && x.passed)).toBe(true);
  });
});

describe('outlast check', () => {
  it('finds every example task sound', () => {
    const home = tmpdir();
    const r = cli(['check', 'tasks/examples'], { home });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/all \d+ tasks sound/);
    expect(r.stdout).not.toMatch(/BROKEN/);
  });

  it('reports a task whose oracle fails and one that nop passes', () => {
    const home = tmpdir();
    const suite = tmpdir();
    answerTask(path.join(suite, 'bad-oracle'), '#!/bin/bash\necho 41 > answer.txt\n');
    writeTree(path.join(suite, 'passes-by-default'), {
      'task.toml': '[task]\nname = "passes-by-default"\n',
      'instruction.md': 'Anything.\n',
      'tests/test.sh': '#!/bin/bash\nexit 0\n',
      'solution/solve.sh': '#!/bin/bash\ntrue\n',
    });
    fs.writeFileSync(path.join(suite, 'bad-oracle', 'task.toml'), '[task]\nname = "bad-oracle"\n');
    const r = cli(['check', suite], { home });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/bad-oracle .*BROKEN: oracle fails/);
    expect(r.stdout).toMatch(/passes-by-default .*BROKEN: nop passes/);
    expect(r.stdout).toMatch(/2 of 2 tasks broken/);
  });
});

describe('outlast resume', () => {
  it('says which experiment directories cannot be resumed (killed before the plan was written)', () => {
    const home = tmpdir();
    fs.mkdirSync(path.join(home, 'experiments', 'exp-20261125-000000-dead'), { recursive: true });
    const r = cli(['resume'], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nothing to resume: no experiment under \/\S+\/experiments; 1 experiment directory was stopped before writing a plan/);
    expect(r.stdout).not.toMatch(/every rollout has finished/);
    expect(r.stderr).toMatch(/not resumable: .*exp-20261125-000000-dead\/experiment\.json: missing \(the run was stopped before it wrote its plan\)/);
    // named, it says the same of that one
    const named = cli(['resume', 'exp-20261125-000000-dead'], { home });
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/^outlast: nothing to resume in experiment "exp-20261125-000000-dead": .*experiment\.json: missing/m);
    // an empty home: no experiment, and where it looked
    const empty = cli(['resume'], { home: tmpdir() });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(/^nothing to resume: no experiment under \/\S+\/experiments$/m);
  });
});
