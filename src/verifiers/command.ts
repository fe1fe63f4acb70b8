// The `command` verifier: runs the task's test command in a fresh sandbox, as the rollout's verifier
// identity, over a copy of the final workspace, with the task's pristine tests/ read-only at /tests,
// a fresh /logs/verifier only the verifier may write, and the agent-run helper (agent-broker.ts) for
// running the agent's code out of the grading process, as the agent.
//
// The score comes from `score_from` (docs/task-format.md):
//   reward     a reward file the command wrote: /logs/verifier/reward.txt (a number) or reward.json
//              ({"reward": x}, or an object with exactly one number); none written = 0
//   counts     the last "N passed, N failed" line of its output that the agent's code did not print
//   exit-code  its exit code (0 = pass)
//   auto       (default) the first of those that applies, in that order
// A reward must be a finite number in `reward_range` (default [0, 1]); a reward file that is not (a
// link, a FIFO, a directory, too big, garbage, out of range) scores 0 with the reason. A broken
// grade never beats an honest one: it scores min(0, the bottom of reward_range).
// What the trajectory keeps of the output has the hidden tests' lines redacted (redact.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { BROKER_MOUNT, BROKER_SOCKET, HELPER_BIN_MOUNT, HELPER_PYTHON_MOUNT, TESTS_MOUNT, VERIFIER_LOGS_MOUNT, VERIFIER_STATUS_MOUNT } from '../core/mounts.js';
import type { CommandVerifierConfig, Score, ScoreSource } from '../core/types.js';
import { BASE_ENV, type ExecResult, type Mount } from '../sandbox/sandbox.js';
import { AgentBroker, SOCKET_NAME } from './agent-broker.js';
import { AGENT_RUN_SCRIPT, OUTLAST_AGENT_PY } from './agent-run-python.js';
import { parseTestCounts } from './counts.js';
import { BASH_ENV_FILE, BASH_ENV_SCRIPT, readMissingCommands } from './missing-commands.js';
import { PYTHON_HARDENING, pycacheMounts } from './python-env.js';
import { redactorFor } from './redact.js';
import { outOfRange, readReward, type Reward } from './reward.js';
import { pristineTests, runOf, throwIfAborted, type Verifier, type VerifyContext, type VerifyOutcome } from './verifier.js';

export { parseTestCounts, type ParsedCounts } from './counts.js';
export { readReward } from './reward.js';

export const COMMAND_VERIFIER_VERSION = '2.0.0';

const DEFAULT_RANGE: [number, number] = [0, 1];
/** A unix socket path must fit in sun_path (108 bytes with its NUL); keep a margin. */
const MAX_SOCKET_PATH = 100;

/** What the agent-run broker saw, for scoring. */
interface AgentSide {
  phrases: ReadonlySet<string>;
  phrasesOverflow: boolean;
  refused?: string;
}

export class CommandVerifier implements Verifier {
  readonly kind = 'command';
  readonly version = COMMAND_VERIFIER_VERSION;
  private readonly range: [number, number];
  private readonly from: ScoreSource;

  constructor(private readonly config: CommandVerifierConfig) {
    this.range = config.reward_range ?? DEFAULT_RANGE;
    this.from = config.score_from ?? 'auto';
  }

  async verify(ctx: VerifyContext): Promise<VerifyOutcome> {
    const logsDir = path.join(ctx.scratch, 'logs-verifier');
    fs.rmSync(logsDir, { recursive: true, force: true });
    fs.mkdirSync(logsDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(logsDir, 0o700);
    await ctx.sandbox.adopt(logsDir);
    const statusDir = path.join(ctx.scratch, 'status');
    fs.rmSync(statusDir, { recursive: true, force: true });
    fs.mkdirSync(statusDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(statusDir, 0o700);
    await ctx.sandbox.adopt(statusDir);
    const mounts: Mount[] = [
      { host: logsDir, target: VERIFIER_LOGS_MOUNT, readonly: false },
      { host: statusDir, target: VERIFIER_STATUS_MOUNT, readonly: false },
    ];
    const tests = await pristineTests(ctx);
    if (tests) mounts.push({ host: tests, target: TESTS_MOUNT, readonly: true });
    mounts.push(...writeHelper(path.join(ctx.scratch, 'helper')), ...(await pycacheMounts()));
    const redactor = await redactorFor(tests);
    const redact = (s: string): string => redactor.redact(s).text;

    let broker: AgentBroker | null = null;
    let socketDir: string | null = null;
    const env: Record<string, string> = {
      ...PYTHON_HARDENING,
      OUTLAST_SEED: String(ctx.seed),
      PATH: `${HELPER_BIN_MOUNT}:${BASE_ENV.PATH}`,
      PYTHONPATH: HELPER_PYTHON_MOUNT,
      BASH_ENV: `${HELPER_BIN_MOUNT}/${BASH_ENV_FILE}`,
    };
    let res: ExecResult;
    try {
      if (ctx.agent) {
        socketDir = brokerDir(ctx.scratch);
        broker = await AgentBroker.start(
          { agent: ctx.agent, workspace: ctx.workspace, workdir: ctx.task.workdir, limits: ctx.task.sandbox, maxTimeoutSec: this.config.timeout_sec, redact },
          socketDir,
        );
        await ctx.sandbox.adopt(socketDir);
        mounts.push({ host: socketDir, target: BROKER_MOUNT, readonly: true });
        env.OUTLAST_AGENT_RUN = BROKER_SOCKET;
      }
      res = await ctx.sandbox.exec({
        command: this.config.command,
        workspace: ctx.workspace,
        workdir: ctx.task.workdir,
        mounts,
        env,
        limits: { wall_time_sec: this.config.timeout_sec, ...ctx.task.sandbox },
        signal: ctx.signal,
      });
    } finally {
      await broker?.close();
      if (socketDir && !socketDir.startsWith(ctx.scratch)) fs.rmSync(socketDir, { recursive: true, force: true });
    }
    // Stopped from outside: the killed run is not graded (the rollout is resumed and graded again).
    throwIfAborted(ctx.signal, res);
    // The sandbox could not run the agent's code at all: not the agent's doing.
    if (broker?.failure) throw new Error(`agent-run could not run the agent's code: ${broker.failure}`);

    // A test script that could not run its tests is no grade (missing-commands.ts).
    const missing = await readMissingCommands(statusDir, ctx.task.workdir);
    if (missing && 'environment' in missing && missing.environment.length) {
      const tail = redact(res.output).trimEnd().split('\n').slice(-5).join(' | ');
      throw new UserError(`the tests could not run: ${missing.environment.map((c) => `\`${c}\``).join(', ')} not installed here (command not found)${tail ? `; last output: ${tail}` : ''}`);
    }
    const reward = await readReward(logsDir);
    const agent: AgentSide = { phrases: broker?.phrases ?? new Set(), phrasesOverflow: broker?.phrasesOverflow ?? false, refused: broker?.refused };
    const score = missing && 'unreadable' in missing ? this.broken(res, `the verifier's report of missing commands ${missing.unreadable}`, redact) : this.score(res, reward, agent, redact);
    if (missing && 'agent' in missing && missing.agent.length) score.details = { ...score.details, missing_commands: missing.agent };
    const kept = redactor.redact(res.output);
    const run: VerifyOutcome['run'] = { ...runOf(res), output: kept.text };
    if (kept.lines) run.redacted_lines = kept.lines;
    if (broker && broker.calls > 0) {
      run.agent_runs = broker.runs;
      if (broker.calls > broker.runs.length) run.agent_runs_unrecorded = broker.calls - broker.runs.length;
    }
    return { score, run };
  }

  /** A grade the grading's own files broke: the bottom of the range, with the reason. */
  private broken(res: ExecResult, reason: string, redact: (s: string) => string): Score {
    return { ...this.base(), value: Math.min(0, this.range[0]), passed: false, details: { source: 'verifier-status', reason: redact(reason), exit_code: res.exit_code } };
  }

  private base(): Pick<Score, 'grader' | 'graded_at'> {
    return {
      grader: {
        verifier: this.kind,
        version: this.version,
        settings: { command: this.config.command, timeout_sec: this.config.timeout_sec, reward_range: this.range, score_from: this.from },
      },
      graded_at: new Date().toISOString(),
    };
  }

  private score(res: ExecResult, reward: Reward | null, agent: AgentSide, redact: (s: string) => string): Score {
    const exit = res.exit_code;
    const base = this.base();
    const fail = (source: string, reason: string, extra: Record<string, unknown> = {}): Score => ({
      ...base,
      value: Math.min(0, this.range[0]),
      passed: false,
      details: { source, reason: redact(reason), exit_code: exit, ...extra },
    });
    if (res.timed_out) return fail('timeout', `verifier command timed out after ${this.config.timeout_sec}s`);
    if (agent.refused) return fail('agent-run', `the workspace was not graded: ${agent.refused}`);
    const oom = res.oom_killed ? { oom_killed: true } : {};

    if (this.from === 'reward' || (this.from === 'auto' && reward)) {
      if (!reward) return fail('reward', `the verifier wrote no reward file (${VERIFIER_LOGS_MOUNT}/reward.txt or reward.json) and score_from = "reward"`, oom);
      if ('error' in reward) return fail(reward.file, reward.error, oom);
      const bad = outOfRange(reward.value, this.range);
      if (bad) return fail(reward.file, bad, oom);
      return { ...base, value: reward.value, passed: reward.value >= this.range[1], details: { source: reward.file, reward: reward.value, exit_code: exit } };
    }
    if (this.from === 'counts' || this.from === 'auto') {
      if (agent.phrasesOverflow) return fail('test-counts', "the agent's code printed too many test-count phrases for the counts to be told apart from its own", oom);
      const counts = parseTestCounts(res.output, agent.phrases);
      if (counts && counts.passed + counts.failed > 0) {
        const total = counts.passed + counts.failed;
        return { ...base, value: counts.passed / total, passed: counts.failed === 0 && exit === 0, details: { source: 'test-counts', ...counts, exit_code: exit } };
      }
      if (this.from === 'counts') return fail('test-counts', 'no "N passed, N failed" line from the tests in the verifier\'s output and score_from = "counts"', oom);
    }
    return { ...base, value: exit === 0 ? 1 : 0, passed: exit === 0, details: { source: 'exit-code', exit_code: exit, ...oom } };
  }
}

/** Write the helper (agent-run and the outlast_agent module) under `dir`; the mounts that show it. */
function writeHelper(dir: string): Mount[] {
  const bin = path.join(dir, 'bin');
  const py = path.join(dir, 'python');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(bin, { recursive: true, mode: 0o755 });
  fs.mkdirSync(py, { recursive: true, mode: 0o755 });
  for (const d of [dir, bin, py]) fs.chmodSync(d, 0o755);
  fs.writeFileSync(path.join(bin, 'agent-run'), AGENT_RUN_SCRIPT, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, BASH_ENV_FILE), BASH_ENV_SCRIPT, { mode: 0o644 });
  fs.writeFileSync(path.join(py, 'outlast_agent.py'), OUTLAST_AGENT_PY, { mode: 0o644 });
  return [
    { host: bin, target: HELPER_BIN_MOUNT, readonly: true },
    { host: py, target: HELPER_PYTHON_MOUNT, readonly: true },
  ];
}

/** A fresh directory for the broker's socket: under the scratch directory when the path is short enough, else a private temporary one. */
function brokerDir(scratch: string): string {
  const inScratch = path.join(scratch, 'broker');
  if (Buffer.byteLength(path.join(inScratch, SOCKET_NAME)) <= MAX_SOCKET_PATH) {
    fs.rmSync(inScratch, { recursive: true, force: true });
    fs.mkdirSync(inScratch, { mode: 0o700 });
    return inScratch;
  }
  const base = Buffer.byteLength(os.tmpdir()) < 60 ? os.tmpdir() : '/tmp';
  return fs.mkdtempSync(path.join(base, 'outlast-broker-'));
}
