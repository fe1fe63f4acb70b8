// The `command` verifier: runs the task's test command in a fresh sandbox over a copy of the final
// workspace, with the task's pristine tests/ mounted read-only at /tests and a fresh, empty
// /logs/verifier for Harbor-style reward files. The score comes from, in order:
//   1. a reward file the command wrote: /logs/verifier/reward.txt (a number) or reward.json
//      ({"reward": x}, or an object with exactly one numeric field);
//   2. the last "N passed, N failed" (or "N failed, N passed") line of its output;
//   3. its exit code (0 = pass).
// The reward directory lives outside the workspace, so nothing the agent wrote there counts.
import fs from 'node:fs';
import path from 'node:path';
import type { CommandVerifierConfig, Score } from '../core/types.js';
import { copyTree } from '../sandbox/tree.js';
import { runOf, type Verifier, type VerifyContext, type VerifyOutcome } from './verifier.js';

export const COMMAND_VERIFIER_VERSION = '1.0.0';

export interface ParsedCounts {
  passed: number;
  failed: number;
}

/** The last line of `output` that reports test counts, or null. */
export function parseTestCounts(output: string): ParsedCounts | null {
  const re = /^.*?\b(\d+) (passed|failed)(?:, (\d+) (passed|failed))?\b.*$/gm;
  let last: ParsedCounts | null = null;
  for (const m of output.matchAll(re)) {
    const counts: ParsedCounts = { passed: 0, failed: 0 };
    counts[m[2] as 'passed' | 'failed'] = Number(m[1]);
    if (m[3] !== undefined) counts[m[4] as 'passed' | 'failed'] = Number(m[3]);
    last = counts;
  }
  return last;
}

type Reward = { value: number; file: string } | { error: string; file: string };

/** Read a Harbor-style reward file from the verifier's private log directory, if one was written. */
export function readReward(logsDir: string): Reward | null {
  const txt = path.join(logsDir, 'reward.txt');
  const json = path.join(logsDir, 'reward.json');
  if (fs.existsSync(txt)) {
    const raw = fs.readFileSync(txt, 'utf8').trim();
    const v = Number(raw);
    if (raw === '' || !Number.isFinite(v)) return { error: `reward.txt holds ${JSON.stringify(raw.slice(0, 40))}, not a number`, file: 'reward.txt' };
    return { value: v, file: 'reward.txt' };
  }
  if (fs.existsSync(json)) {
    let obj: unknown;
    try {
      obj = JSON.parse(fs.readFileSync(json, 'utf8'));
    } catch {
      return { error: 'reward.json is not valid JSON', file: 'reward.json' };
    }
    if (typeof obj === 'number' && Number.isFinite(obj)) return { value: obj, file: 'reward.json' };
    if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
      const o = obj as Record<string, unknown>;
      if (typeof o.reward === 'number' && Number.isFinite(o.reward)) return { value: o.reward, file: 'reward.json' };
      const nums = Object.values(o).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      if (nums.length === 1) return { value: nums[0]!, file: 'reward.json' };
    }
    return { error: 'reward.json has no "reward" number', file: 'reward.json' };
  }
  return null;
}

export class CommandVerifier implements Verifier {
  readonly kind = 'command';
  readonly version = COMMAND_VERIFIER_VERSION;
  constructor(private readonly config: CommandVerifierConfig) {}

  async verify(ctx: VerifyContext): Promise<VerifyOutcome> {
    const logsDir = path.join(ctx.scratch, 'logs-verifier');
    fs.rmSync(logsDir, { recursive: true, force: true });
    fs.mkdirSync(logsDir, { recursive: true, mode: 0o700 });
    await ctx.sandbox.adopt(logsDir);
    const mounts = [{ host: logsDir, target: '/logs/verifier', readonly: false }];
    if (ctx.tests) {
      // a pristine copy the verifier's identity can read, whatever the task directory's modes
      const tests = path.join(ctx.scratch, 'tests');
      fs.rmSync(tests, { recursive: true, force: true });
      await copyTree(ctx.tests, tests);
      await ctx.sandbox.adopt(tests);
      mounts.push({ host: tests, target: '/tests', readonly: true });
    }
    const res = await ctx.sandbox.exec({
      command: this.config.command,
      workspace: ctx.workspace,
      workdir: ctx.task.workdir,
      mounts,
      env: { OUTLAST_SEED: String(ctx.seed) },
      limits: { wall_time_sec: this.config.timeout_sec, ...ctx.task.sandbox },
      signal: ctx.signal,
    });
    const run = runOf(res);
    return { score: this.score(res.exit_code, res.timed_out, res.output, readReward(logsDir)), run };
  }

  private score(exit: number | null, timedOut: boolean, output: string, reward: Reward | null): Score {
    const base = {
      grader: { verifier: this.kind, version: this.version, settings: { command: this.config.command, timeout_sec: this.config.timeout_sec } },
      graded_at: new Date().toISOString(),
    };
    if (timedOut) {
      return { ...base, value: 0, passed: false, details: { source: 'timeout', reason: `verifier command timed out after ${this.config.timeout_sec}s` } };
    }
    if (reward) {
      if ('error' in reward) return { ...base, value: 0, passed: false, details: { source: reward.file, reason: reward.error, exit_code: exit } };
      return { ...base, value: reward.value, passed: reward.value >= 1, details: { source: reward.file, reward: reward.value, exit_code: exit } };
    }
    const counts = parseTestCounts(output);
    if (counts && counts.passed + counts.failed > 0) {
      const total = counts.passed + counts.failed;
      return {
        ...base,
        value: counts.passed / total,
        passed: counts.failed === 0 && exit === 0,
        details: { source: 'test-counts', ...counts, exit_code: exit },
      };
    }
    return { ...base, value: exit === 0 ? 1 : 0, passed: exit === 0, details: { source: 'exit-code', exit_code: exit } };
  }
}
