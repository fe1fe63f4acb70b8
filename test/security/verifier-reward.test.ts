// Rewards the graded code forges or breaks (issue 9, class 6), through the real CLI: small tasks whose
// tests import the agent's module in-process (as most Harbor tasks do), so the agent's code writes
// /logs/verifier/reward.* itself; the oracle plays the agent. Out-of-range, non-finite, non-numeric,
// huge, linked, FIFO and directory reward files must each score 0 (the bottom of a negative
// reward_range) with the reason, never infra_error, never a hang; score_from decides what counts.
import { describe, expect, it } from 'vitest';
import { expectGraded, runOracles, writeSuite } from './helpers.js';

/** A task whose tests import the agent's sol.py in-process; the oracle writes sol.py = `sol`. */
function inProcess(sol: string, toml = '', after = ''): Record<string, string> {
  return {
    'task.toml': `[verifier]\ntimeout_sec = 120\n${toml}`,
    'workspace/.keep': '',
    'tests/test.sh': `#!/bin/bash\ncd /workspace && python3 -c 'import sys; sys.path.insert(0, "."); import sol'\n${after}`,
    'solution/solve.sh': `#!/bin/bash\ncat > sol.py <<'PY'\nimport os\nL = "/logs/verifier"\n${sol}\nPY\n`,
  };
}
const txt = (s: string) => inProcess(`open(L + "/reward.txt", "w").write(${JSON.stringify(s)})`);
const json = (s: string) => inProcess(`open(L + "/reward.json", "w").write(${JSON.stringify(s)})`);

const CASES: Record<string, { files: Record<string, string>; value: number; reason?: RegExp; passed?: boolean }> = {
  'huge-float': { files: txt('1e300\n'), value: 0, reason: /reward 1e\+300 is outside the task's reward_range \[0, 1\]/ },
  'nan': { files: txt('nan'), value: 0, reason: /reward\.txt holds "nan", not a number/ },
  'infinity': { files: txt('Infinity'), value: 0, reason: /not a number/ },
  'negative': { files: txt('-1'), value: 0, reason: /reward -1 is outside/ },
  'hex': { files: txt('0x1'), value: 0, reason: /not a number/ },
  'empty': { files: txt(''), value: 0, reason: /holds "", not a number/ },
  'json-string': { files: json('{"reward": "1"}'), value: 0, reason: /"reward" is a string, not a number/ },
  'json-overflow': { files: json('{"reward": 1e999}'), value: 0, reason: /not a finite number/ },
  'json-array': { files: json('[1, 1, 1]'), value: 0, reason: /no "reward" number/ },
  'huge-file': { files: inProcess('open(L + "/reward.txt", "w").write("1" * (8 * 1024 * 1024))'), value: 0, reason: /reward\.txt is 8388608 bytes, more than the 65536 allowed/ },
  'symlink-to-host-file': { files: inProcess('os.symlink("/etc/hostname", L + "/reward.txt")'), value: 0, reason: /reward\.txt is a symbolic link/ },
  'symlink-json': { files: inProcess('os.symlink("/proc/self/environ", L + "/reward.json")'), value: 0, reason: /reward\.json is a symbolic link/ },
  'fifo': { files: inProcess('os.mkfifo(L + "/reward.txt")'), value: 0, reason: /reward\.txt is not a regular file/ },
  'directory': { files: inProcess('os.mkdir(L + "/reward.json")'), value: 0, reason: /reward\.json is a directory/ },
  'range-ok': { files: inProcess('open(L + "/reward.txt", "w").write("50")', 'reward_range = [0, 100]\n'), value: 50, passed: false },
  'range-top': { files: inProcess('open(L + "/reward.txt", "w").write("100")', 'reward_range = [0, 100]\n'), value: 100, passed: true },
  'range-over': { files: inProcess('open(L + "/reward.txt", "w").write("150")', 'reward_range = [0, 100]\n'), value: 0, reason: /reward 150 is outside the task's reward_range \[0, 100\]/ },
  // a broken reward never beats an honest one: the bottom of a range below 0
  'negative-range-garbage': { files: inProcess('open(L + "/reward.txt", "w").write("lots")', 'reward_range = [-10, 10]\n'), value: -10, reason: /not a number/ },
  'reward-required-none-written': { files: inProcess('pass', 'score_from = "reward"\n'), value: 0, reason: /wrote no reward file .* score_from = "reward"/ },
  'counts-required-none-printed': { files: inProcess('print("all good")', 'score_from = "counts"\n'), value: 0, reason: /no "N passed, N failed" line .* score_from = "counts"/ },
  'exit-code-ignores-reward': { files: inProcess('open(L + "/reward.txt", "w").write("1")', 'score_from = "exit-code"\n', 'exit 1\n'), value: 0 },
};

describe('forged and broken reward files', () => {
  it('each scores as the task declares, with the reason, never infra_error or a hang', async () => {
    const res = await runOracles([writeSuite(Object.fromEntries(Object.entries(CASES).map(([k, c]) => [k, c.files])))]);
    expect([...res.keys()].sort()).toEqual(Object.keys(CASES).sort());
    for (const [name, c] of Object.entries(CASES)) {
      const g = res.get(name)!;
      expectGraded(g);
      expect(g.finished.score.value, name).toBe(c.value);
      expect(g.finished.score.passed, name).toBe(c.passed ?? false);
      if (c.reason) expect(String(g.finished.score.details.reason), name).toMatch(c.reason);
    }
  });
});
