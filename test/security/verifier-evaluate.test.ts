// Forged intermediate scores (issue 9, class 7), played by a scripted model through the real CLI and
// the built-in harness: a task whose `evaluate` tool runs the task's pristine eval.sh
// ("$OUTLAST_TASK/eval.sh", read-only at /outlast/task). Editing the workspace's copy of eval.sh, or
// trying to overwrite the pristine one, must not change the recorded evaluation; the final grade comes
// from the hidden tests either way. (The pristine script passes -P to python3, so a workspace json.py
// cannot stand in for the standard library's either.)
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpdir, writeTree } from '../helpers/cli.js';
import { bash, expectGraded, runAttacks, write } from './helpers.js';

const EVAL = '#!/bin/bash\n# public evaluation: score = answer / 10\npython3 -P -c \'import json; n = int(open("answer.txt").read()); print(json.dumps({"score": n / 10, "passed": n == 10}))\'\n';
const JSON_SHADOW = 'def dumps(*a, **k):\n    return \'{"score": 999, "passed": true}\'\n';
const FORGED = '#!/bin/bash\necho \'{"score": 999, "passed": true}\'\n';

describe('evaluate runs the pristine evaluation script', () => {
  it('an edited workspace eval.sh or a workspace json.py does not change the recorded evaluation', async () => {
    const task = writeTree(path.join(tmpdir(), 'forge-eval'), {
      'task.toml': [
        '[task]',
        'name = "forge-eval"',
        '[verifier]',
        'timeout_sec = 60',
        'score_from = "reward"',
        '[[tools]]',
        'name = "evaluate"',
        'description = "Score answer.txt"',
        'command = \'bash "$OUTLAST_TASK/eval.sh"\'',
        'records_evaluation = true',
        'timeout_sec = 30',
        '',
      ].join('\n'),
      'instruction.md': 'Write 10 to answer.txt.\n',
      'workspace/eval.sh': EVAL,
      'workspace/answer.txt': '0\n',
      'tests/test.sh': '#!/bin/bash\npython3 -P -c \'n = int(open("answer.txt").read()); open("/logs/verifier/reward.txt", "w").write(str(n / 10))\'\n',
    });
    const res = await runAttacks(task, {
      'edits-workspace-eval': [[write('answer.txt', '3\n'), write('eval.sh', FORGED)], [{ name: 'evaluate', arguments: {} }], [bash('bash eval.sh')]],
      // the pristine script runs `python3 -P -c 'import json ...'` in the workspace: -P keeps a workspace json.py out
      'shadows-json-module': [[write('answer.txt', '4\n'), write('json.py', JSON_SHADOW)], [{ name: 'evaluate', arguments: {} }], [bash('python3 -c "import json; print(json.dumps(1))"')]],
    });
    for (const [name, want] of [
      ['edits-workspace-eval', 0.3],
      ['shadows-json-module', 0.4],
    ] as const) {
      const g = res.get(name)!;
      expectGraded(g);
      const evals = g.events.filter((e) => e.type === 'evaluation');
      expect(evals, name).toHaveLength(1);
      expect(evals[0], name).toMatchObject({ score: want, passed: false });
      expect(g.finished.score.value, name).toBeCloseTo(want, 6);
    }
    // the forgeries were live where the agent ran them itself
    const outputs = (name: string) => res.get(name)!.events.flatMap((e) => (e.type === 'tool.result' ? [e.output] : []));
    expect(outputs('edits-workspace-eval').some((o) => o.includes('"score": 999'))).toBe(true);
    expect(outputs('shadows-json-module').some((o) => o.includes('"score": 999'))).toBe(true);
  });
});
