// The Verifier interface. A verifier grades a finished workspace; it never knows which harness ran.
// It always receives a *copy* of the final workspace and runs its checks in a fresh sandbox with a
// pristine copy of the task's tests/ (see runner/rollout.ts).
//
// An interrupt is never a grade: a verification stopped from outside (Ctrl-C, SIGTERM: ctx.signal)
// ends by throwing VerificationAborted, never by returning a score of the killed run. The runner
// then leaves the rollout unfinished, and `outlast resume` grades it again.
import path from 'node:path';
import type { MonitorFlagEvent, VerifierResultEvent } from '../core/events.js';
import type { Score, Task } from '../core/types.js';
import type { ExecResult, Sandbox } from '../sandbox/sandbox.js';
import { copyTree, removeTree } from '../sandbox/tree.js';

export interface VerifyContext {
  task: Task;
  /** Host path of a copy of the final workspace, private to this verification. */
  workspace: string;
  /** Host path of a pristine copy of the task's tests/ (or null when the task has none). */
  tests: string | null;
  /** A scratch directory private to this verification (e.g. for /logs/verifier). */
  scratch: string;
  /** The verifier's sandbox: every exec runs as the rollout's verifier identity. */
  sandbox: Sandbox;
  /**
   * The agent's sandbox, for running the agent's code out of the grading process (as the agent's
   * identity, without the verifier's mounts). Absent when the caller grades outside a rollout.
   */
  agent?: Sandbox;
  /** Seed for anything random the verifier draws (recorded with the score). */
  seed: number;
  /** Where a verifier may cache what it measures once per machine (default: the task cache, defaultCacheDir()). */
  cacheDir?: string;
  signal?: AbortSignal;
}

/** A flag a verifier raises for human review (the runner records it as a `monitor.flag` event). */
export type VerifierFlag = Omit<MonitorFlagEvent, 't' | 'seq' | 'type' | 'flag_id' | 'monitor'>;

export interface VerifyOutcome {
  score: Score;
  run: VerifierResultEvent['run'];
  /** Flags for human review (e.g. a score withheld as implausible). */
  flags?: VerifierFlag[];
}

export interface Verifier {
  readonly kind: string;
  readonly version: string;
  verify(ctx: VerifyContext): Promise<VerifyOutcome>;
}

/**
 * Thrown by a verifier whose verification was stopped from outside (ctx.signal aborted): the run it
 * would grade was killed, so there is nothing to grade. Distinct from a failed verification (an
 * error of the grading itself) and from a score of 0 (the agent's failure).
 */
export class VerificationAborted extends Error {
  constructor(reason?: unknown) {
    super(`the verification was interrupted${reason instanceof Error && reason.message ? ` (${reason.message})` : ''}`);
    this.name = 'VerificationAborted';
  }
}

/** True when `err` is an aborted verification. */
export function isVerificationAborted(err: unknown): err is VerificationAborted {
  return err instanceof VerificationAborted;
}

/** Throw VerificationAborted when the verification's signal has fired (call after each sandbox run and before scoring). */
export function throwIfAborted(signal: AbortSignal | undefined, res?: ExecResult): void {
  if (signal?.aborted || res?.aborted) throw new VerificationAborted(signal?.reason);
}

/** The part of a sandbox run that goes into the `verifier.result` event. */
export function runOf(res: ExecResult): VerifyOutcome['run'] {
  return { exit_code: res.exit_code, duration_ms: res.duration_ms, output: res.output, truncated_bytes: res.truncated_bytes, timed_out: res.timed_out };
}

/**
 * A pristine copy of the task's tests/ in the verification's scratch directory, handed to the
 * verifier's identity (it can read it whatever the task directory's modes), or null without tests/.
 */
export async function pristineTests(ctx: VerifyContext): Promise<string | null> {
  if (!ctx.tests) return null;
  const tests = path.join(ctx.scratch, 'tests');
  await removeTree(tests);
  await copyTree(ctx.tests, tests);
  await ctx.sandbox.adopt(tests);
  return tests;
}
