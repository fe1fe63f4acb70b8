// Whole-CLI tests of `outlast report --by harness` (the real binary, built to dist/ by `npm test`):
// a real experiment of oracle and nop (real bwrap sandboxes, real verifier, real SQLite store) on
// three tasks with two repeats, and the one-line errors for a report that has nothing to compare.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportSchema, type Report } from '../../src/report/schema.js';
import { cli, tmpdir, writeTree } from '../helpers/cli.js';
import { EXP_SOLO, EXP_X, generateHarnessFixture } from '../fixtures/report/harnesses.js';

/** A task whose verifier passes when answer.txt holds 42; the oracle's solution writes `solve`. */
function task(root: string, name: string, solve: string, start = 'nothing here yet\n'): string {
  return writeTree(path.join(root, name), {
    'task.toml': `[task]\nname = "${name}"\n\n[verifier]\ncommand = "bash /tests/test.sh"\ntimeout_sec = 30\n`,
    'instruction.md': 'Write 42 into answer.txt.\n',
    'workspace/answer.txt': start,
    'tests/test.sh': '#!/bin/bash\nif [ "$(cat answer.txt 2>/dev/null)" = 42 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n',
    'solution/solve.sh': `#!/bin/bash\necho ${solve} > answer.txt\n`,
  });
}

let runHome: string;
let fxHome: string;

beforeAll(async () => {
  fxHome = tmpdir('outlast-by-harness-cli-');
  await generateHarnessFixture(fxHome);
  runHome = tmpdir('outlast-by-harness-run-');
  const root = tmpdir('outlast-by-harness-tasks-');
  // solved: the oracle solves it, nop does not. broken: the reference solution is wrong, both fail.
  // already: the starting workspace passes, so nop passes too (a task passed by default).
  const dirs = [task(root, 'solved', '42'), task(root, 'broken', '41'), task(root, 'already', '42', '42\n')];
  const r = cli(['run', ...dirs, '--harness', 'oracle,nop', '--repeats', '2'], { home: runHome, timeoutMs: 300_000 });
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.code).toBe(0);
}, 320_000);

describe('outlast report --by harness on a real oracle × nop experiment', () => {
  it('gives the consistency numbers worked out by hand', () => {
    const r = cli(['report', '--by', 'harness', '--format', 'json', '--resamples', '300'], { home: runHome });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep: Report = reportSchema.parse(JSON.parse(r.stdout));
    expect(rep.by_harness).toHaveLength(1);
    const b = rep.by_harness![0]!;
    // oracle and nop run without a model: one block, model null, in --harness order.
    expect(b.model).toBeNull();
    expect(b.harnesses).toEqual(['oracle', 'nop']);
    expect(b.common_tasks).toEqual(['already', 'broken', 'solved']);
    // task means: oracle already 1, broken 0, solved 1 → 2/3; nop 1, 0, 0 → 1/3
    const [o, n] = b.per_harness;
    expect(o!.score.mean).toBeCloseTo(2 / 3, 12);
    expect(n!.score.mean).toBeCloseTo(1 / 3, 12);
    expect(o!.score.n_rollouts).toBe(6);
    expect(b.spread.range).toBeCloseTo(1 / 3, 12);
    // the oracle runs solution/solve.sh as one tool call; nop makes none; neither calls a model
    expect(o!.means).toMatchObject({ tool_calls: 1, cost_usd: 0, model_calls: 0 });
    expect(n!.means).toMatchObject({ tool_calls: 0, cost_usd: 0, model_calls: 0 });
    // rank: oracle > nop on solved, tied on the other two; W = (1 − 0)² / (3·1) = 1/3, nothing reversed
    expect(b.rank).toEqual({ tasks: 3, kendall_w: expect.closeTo(1 / 3, 12), contradicting: 0, all_tied: 2, agreement: 1 });
    const p = b.pairs[0]!;
    // verdicts: already P/P, broken F/F, solved P/F → agreement 2/3;
    // κ: pa = 2/3, pb = 1/3 → pₑ = 2/9 + 2/9 = 4/9; κ = (2/3 − 4/9)/(1 − 4/9) = 0.4
    expect(p.verdicts).toEqual({ both_pass: 1, a_pass_b_fail: 1, a_fail_b_pass: 0, both_fail: 1 });
    expect(p.agreement).toBeCloseTo(2 / 3, 12);
    expect(p.kappa).toBeCloseTo(0.4, 12);
    // Δ score (nop − oracle): 0, 0, −1 → −1/3; Δ tool calls −1
    expect(p.score_diff.mean).toBeCloseTo(-1 / 3, 12);
    expect(p.diff.tool_calls).toBe(-1);
  });

  it('prints the terminal table and writes the HTML section', () => {
    const t = cli(['report', '--by', 'harness'], { home: runHome });
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('Across harnesses: no model (3 tasks, all 3 matched)');
    expect(t.stdout).toMatch(/oracle\s+nop\s+3\s+-0\.333\s+\[\S+ \S+\]\s+66\.7%\s+0\.400\s/);
    expect(t.stdout).toContain('Kendall W 0.333');
    expect(t.stdout).toContain('Provenance');
    const out = path.join(runHome, 'h.html');
    expect(cli(['report', '--by', 'harness', '--format', 'html', '--out', out], { home: runHome }).code).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toContain('data-section="by-harness"');
    expect(html).toContain('data-group="- | oracle | nop" data-field="kappa">0.400<');
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\/|@import|url\(/i);
  });
});

describe('outlast report --by harness: user mistakes and edge cases', () => {
  it('refuses in one line when every model ran one harness', () => {
    const r = cli(['report', EXP_SOLO, '--by', 'harness'], { home: fxHome });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`experiment ${EXP_SOLO} ran one harness per model (m1: outlast): --by harness compares two or more harnesses`);
    expect(r.stdout).toBe('');
  });

  it('refuses an unknown dimension in one line', () => {
    const r = cli(['report', EXP_X, '--by', 'model'], { home: fxHome });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('can only be harness');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('groups mixed models per model and warns about tasks a harness lacks', () => {
    const r = cli(['report', EXP_X, '--by', 'harness', '--format', 'json', '--resamples', '200'], { home: fxHome });
    expect(r.code).toBe(0);
    const rep = reportSchema.parse(JSON.parse(r.stdout));
    expect(rep.by_harness!.map((b) => [b.model, b.harnesses])).toEqual([
      ['m1', ['outlast', 'claude-code', 'codex']],
      ['m2', ['outlast', 'codex']],
    ]);
    const t = cli(['report', EXP_X, '--by', 'harness'], { home: fxHome });
    expect(t.stdout).toContain('warning: --by harness: m1 × codex has no scored rollout on 1 task(s) (t5)');
    expect(t.stdout).toContain('codex lacks t5; claude-code lacks t3');
    // without --by the report is the plain one, by_harness null
    const plain = JSON.parse(cli(['report', EXP_X, '--format', 'json', '--resamples', '50'], { home: fxHome }).stdout);
    expect(plain.by_harness).toBeNull();
  });
});
