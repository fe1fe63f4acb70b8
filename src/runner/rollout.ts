// The rollout lifecycle: prepare → harness → snapshot → verify → finish. Every step is appended to
// the rollout's trajectory (fsync'd) before the next begins, so a crash at any moment leaves a log
// that says how far the rollout got; `outlast resume` continues from there.
import fs from 'node:fs';
import path from 'node:path';
import type { TrajectoryEvent } from '../core/events.js';
import type { Limits, Outcome, RolloutSpec, Score, Task } from '../core/types.js';
import { AttemptClock } from '../core/attempts.js';
import { WaitClock, outagePatienceMs } from '../core/outage.js';
import { modelTotals } from '../core/totals.js';
import { isDiskFull, isUserError, oneLine } from '../core/errors.js';
import type { Harness, ModelAccess } from '../harnesses/harness.js';
import type { Gateway } from '../gateway/index.js';
import type { ModelEndpoint } from '../core/types.js';
import { asIdentity } from '../sandbox/bound.js';
import { identityFor } from '../sandbox/identity.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { copyTree, removeTree } from '../sandbox/tree.js';
import type { Layout } from '../store/layout.js';
import type { Store } from '../store/store.js';
import { TrajectoryWriter, fsyncMode } from '../store/trajectory.js';
import { claimLog } from '../store/owner.js';
import { asDiskFull, isDiskFullError } from '../store/disk.js';
import { isVerificationAborted } from '../verifiers/verifier.js';
import { MonitorHost, builtinMonitor, type Monitor } from '../monitors/index.js';
import { diskRoom, gradeWorkspace } from './grade.js';
import { HarnessTimer } from './harness-timer.js';
import { finishedHarness, largestRoom, recordUnmetered } from './prior.js';
import { versions } from './provenance.js';

export interface RolloutContext {
  layout: Layout;
  store: Store;
  spec: RolloutSpec;
  task: Task;
  harness: Harness;
  sandbox: Sandbox;
  /** The gateway and endpoint, for harnesses that talk to a model. */
  model?: { gateway: Gateway; endpoint: ModelEndpoint };
  /** Stops the rollout from outside (Ctrl-C); the rollout is left unfinished, to be resumed. */
  signal?: AbortSignal;
  /** Every event appended to the trajectory, as it is appended (for live progress). */
  onEvent?: (e: TrajectoryEvent) => void;
  /** Continue a rollout whose log says it finished `infra_error` (`outlast resume` does by default). */
  retryInfra?: boolean;
  /** The monitors that watch it (default: the built-in rules; none: `[]`), made fresh for each attempt. */
  monitors?: () => Monitor[];
}

export interface RolloutResult {
  rollout_id: string;
  outcome: Outcome | null;
  score: Score | null;
  reason: string;
  /** True when the log already held a finished rollout and nothing ran. */
  already_finished: boolean;
  /** True when the rollout was stopped before it finished (Ctrl-C, a full disk): `outlast resume` continues it. */
  interrupted: boolean;
  /**
   * Set when what stopped it was the rollout's own storage: the disk was full (a DiskFull) or its
   * trajectory could not be written. `reason` then carries the error's one line.
   */
  halted?: Error;
  /** Set when the store (derived) could not take some of its events, e.g. on a full disk. */
  index_error?: string;
}

/** Extra seconds the runner waits past a harness's own time limit before it kills it. */
const HARNESS_GRACE_SEC = 30;

/** The harness's wall-time limit: the rollout's wall-time limit when set, else the task's agent timeout. */
function harnessTimeoutSec(task: Task, limits: Limits): number {
  return limits.wall_time_sec ?? task.agent_timeout_sec;
}

export async function runRollout(ctx: RolloutContext): Promise<RolloutResult> {
  const { layout, spec } = ctx;
  const trajectory = layout.trajectory(spec.experiment_id, spec.rollout_id);
  let log: TrajectoryWriter;
  try {
    log = new TrajectoryWriter(trajectory, { reserve: true, fsync: fsyncMode() });
  } catch (err) {
    const full = asDiskFull(err, trajectory);
    if (!full) throw err;
    return { rollout_id: spec.rollout_id, outcome: null, score: null, reason: full.message, already_finished: false, interrupted: true, halted: full };
  }
  // while this process writes the log, nobody else appends to it (outlast review waits: src/store/owner.ts)
  const release = claimLog(trajectory);
  // The store is derived from the log: an event it cannot take now (a full disk) waits in a backlog,
  // tried again before the next one and at the end; the log itself keeps everything.
  let storeChain: Promise<void> = Promise.resolve();
  const backlog: Array<{ e: TrajectoryEvent; where: { offset: number; length: number } }> = [];
  let indexError: Error | null = null;
  const flush = async (): Promise<void> => {
    scheduled = false;
    // All that waits in one transaction where the store can (events come in bursts: a turn's
    // assistant, tool call and result; a commit each cost more than the rows).
    if (backlog.length > 1 && ctx.store.applyEvents) {
      const batch = backlog.slice();
      try {
        await ctx.store.applyEvents(spec.experiment_id, spec.rollout_id, trajectory, batch.map((b) => b.e), batch.map((b) => b.where));
        backlog.splice(0, batch.length);
        indexError = null;
        return;
      } catch {
        // one at a time below, to take what the store can take and keep the rest
      }
    }
    while (backlog.length > 0) {
      const { e, where } = backlog[0]!;
      try {
        await ctx.store.applyEvent(spec.experiment_id, spec.rollout_id, trajectory, e, where);
      } catch (err) {
        indexError = err as Error;
        return;
      }
      backlog.shift();
      indexError = null;
    }
  };
  let scheduled = false;
  const index = (e: TrajectoryEvent, where: { offset: number; length: number }): void => {
    backlog.push({ e, where });
    if (scheduled) return;
    scheduled = true;
    storeChain = storeChain.then(() => new Promise<void>((r) => setImmediate(r))).then(flush);
  };
  log.onEvent((e, where) => {
    index(e, where);
    ctx.onEvent?.(e);
  });
  const base: Omit<RolloutResult, 'outcome' | 'score' | 'reason'> = { rollout_id: spec.rollout_id, already_finished: false, interrupted: false };
  let result: RolloutResult;
  try {
    const prior = log.existing;
    // The last finish counts: a rollout that ended infra_error may have been continued since.
    const finished = prior.findLast((e) => e.type === 'rollout.finished');
    const final = finished?.type === 'rollout.finished' && !(finished.outcome === 'infra_error' && ctx.retryInfra);
    result =
      final && finished.type === 'rollout.finished'
        ? { ...base, outcome: finished.outcome, score: finished.score, reason: finished.reason, already_finished: true }
        : await lifecycle(ctx, log, prior);
  } finally {
    log.close();
    release();
    await storeChain;
    await flush();
  }
  if (indexError) result.index_error = `the store could not index it (${(indexError as Error).message}); its log is complete: run \`outlast rebuild\``;
  return result;
}

async function lifecycle(ctx: RolloutContext, log: TrajectoryWriter, prior: TrajectoryEvent[]): Promise<RolloutResult> {
  const base = { rollout_id: ctx.spec.rollout_id, already_finished: false };
  // One switch stops the whole rollout from outside: Ctrl-C (ctx.signal), or its log failing (a full
  // disk). Either way it ends unfinished, for `outlast resume`, never with a grade of the stopped run.
  const halt = new AbortController();
  const onOuterAbort = (): void => halt.abort(ctx.signal?.reason);
  if (ctx.signal?.aborted) onOuterAbort();
  else ctx.signal?.addEventListener('abort', onOuterAbort, { once: true });
  log.onFailure((err) => halt.abort(err));
  const halted = (cause: Error, where: string): RolloutResult => {
    if (!halt.signal.aborted) halt.abort(cause);
    try {
      log.append({ type: 'note', level: 'warning', message: `stopped ${where}: ${cause.message}; \`outlast resume\` continues it` });
    } catch {
      /* the log itself is what failed: it ends at its last whole event */
    }
    return { ...base, outcome: null, score: null, reason: oneLine(cause.message), interrupted: true, halted: cause };
  };
  /** The rollout was stopped from outside (or its log failed) at `where`: leave it unfinished. */
  const interrupted = (where: string): RolloutResult => {
    const storage = log.failure ?? (isDiskFull(halt.signal.reason) ? halt.signal.reason : null);
    if (storage) return halted(storage, where);
    log.append({ type: 'note', level: 'warning', message: `interrupted ${where}; \`outlast resume\` continues it` });
    return { ...base, outcome: null, score: null, reason: 'interrupted', interrupted: true };
  };
  try {
    return await attempt(ctx, log, prior, halt.signal, interrupted);
  } catch (err) {
    // outlast's own writes found the disk full (the log, the workspace copy, the verifier's scratch):
    // not the agent's failure and not the end of the rollout
    const full = log.failure ?? asDiskFull(err, ctx.layout.rolloutDir(ctx.spec.experiment_id, ctx.spec.rollout_id));
    if (full) return halted(full, 'where it was');
    throw err;
  } finally {
    ctx.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** One attempt of the rollout, from its start event to its finish (or to a stop, via `interrupted`). */
async function attempt(
  ctx: RolloutContext,
  log: TrajectoryWriter,
  prior: TrajectoryEvent[],
  signal: AbortSignal,
  interrupted: (where: string) => RolloutResult,
): Promise<RolloutResult> {
  const { layout, spec, task, harness, sandbox } = ctx;
  const resumed = prior.length > 0;
  const rolloutDir = layout.rolloutDir(spec.experiment_id, spec.rollout_id);
  const workspace = layout.workspace(spec.experiment_id, spec.rollout_id);
  const base = { rollout_id: spec.rollout_id, already_finished: false };
  // Totals span every attempt: the log's earlier ones, then this one as it goes.
  const clock = new AttemptClock();
  for (const e of prior) clock.observe(e);
  const modelEvents: TrajectoryEvent[] = [];
  // Who runs what: the harness (and the agent's code) as the rollout's agent, the grading code as its
  // verifier (distinct unprivileged uids when outlast runs as root; see src/sandbox/identity.ts).
  const agentId = identityFor(spec.rollout_id, 'agent');
  const agentSandbox = asIdentity(sandbox, agentId);
  const verifierSandbox = asIdentity(sandbox, identityFor(spec.rollout_id, 'verifier'));
  const waitEvents: TrajectoryEvent[] = []; // what WaitClock folds (outages, retry waits, restarts)
  log.onEvent((e) => {
    clock.observe(e);
    if (e.type === 'model.response' || e.type === 'model.unmetered') modelEvents.push(e);
    if (e.type === 'model.response' || e.type === 'outage.wait' || e.type === 'outage.end' || e.type === 'rollout.started') waitEvents.push(e);
  });

  log.append({
    type: 'rollout.started',
    spec,
    versions: versions(),
    sandbox: { mode: sandbox.mode, unsandboxed: sandbox.unsandboxed, enforced: { ...sandbox.enforced } },
    ...(resumed ? { resumed: true } : {}),
  });
  if (log.recovered.torn) {
    log.append({ type: 'note', level: 'warning', message: `a torn last line (${log.recovered.torn.bytes} bytes, ${log.recovered.torn.reason}) was cut from the log on resume` });
  }
  // monitors watch from here on (src/monitors/host.ts), after replaying what the log already holds
  const monitors = new MonitorHost(log, ctx.monitors ? ctx.monitors() : [builtinMonitor()], spec.rollout_id);
  monitors.start(prior);
  // calls the stop caught in flight: never metered, recorded now with an estimate
  if (resumed) recordUnmetered(log, prior, ctx.model?.endpoint);
  // An earlier attempt that finished the harness and was stopped while grading: only the grading is
  // left, on the workspace the harness left (the harness is not run again).
  const harnessEnd = resumed ? finishedHarness(prior) : null;
  const gradeOnly = harnessEnd !== null && fs.existsSync(workspace);

  // prepare: a fresh copy of the task's starting workspace. Harnesses that cannot continue from a
  // half-finished workspace (oracle, nop) start over on resume.
  log.append({ type: 'phase', phase: 'prepare', status: 'started' });
  // A workspace is only worth keeping if an earlier prepare finished copying it (a crash mid-copy
  // leaves a partial one).
  const prepared = prior.some((e) => e.type === 'phase' && e.phase === 'prepare' && e.status === 'done');
  const keepWorkspace = gradeOnly || (resumed && prepared && harness.resumable === true && fs.existsSync(workspace));
  if (!keepWorkspace) {
    await removeTree(workspace);
    if (task.workspace_dir) await copyTree(task.workspace_dir, workspace);
    else fs.mkdirSync(workspace, { recursive: true });
    await agentSandbox.adopt(workspace);
    if (resumed) {
      const why = harness.resumable ? 'the earlier attempt stopped before its workspace was ready' : `harness ${harness.name} cannot continue a half-finished workspace`;
      log.append({ type: 'note', level: 'info', message: `starting over from the task's workspace on resume: ${why}` });
    }
  }
  // the room the agent has: told apart later whether a full disk was its doing (grade.ts)
  const room = largestRoom(prior, diskRoom(workspace));
  log.append({ type: 'phase', phase: 'prepare', status: 'done', detail: { workspace_kept: keepWorkspace, ...(room ? { room } : {}) } });
  if (signal.aborted) return interrupted('before the harness started');

  let outcome: Outcome;
  let reason: string;
  let toolCalls = 0;
  let turns = 0;
  if (gradeOnly) {
    ({ outcome, reason, tool_calls: toolCalls, turns } = harnessEnd);
    log.append({ type: 'note', level: 'info', message: `the harness finished in an earlier attempt (${outcome}): grading its workspace again` });
  } else {
    const r = await runHarnessPhase(ctx, log, agentSandbox, workspace, signal);
    if (signal.aborted) return interrupted('before it finished');
    ({ outcome, reason, tool_calls: toolCalls, turns } = r);
    log.append({ type: 'phase', phase: 'harness', status: 'done', detail: { outcome, reason, duration_ms: r.duration_ms, tool_calls: toolCalls, turns } });
  }

  // the final workspace against the task's, for the monitors (host-side, no-follow, capped reads)
  await monitors.inspect(task.workspace_dir, workspace);
  if (signal.aborted) return interrupted('before grading');

  // snapshot + verify: a copy of the final workspace, graded in a fresh sandbox. Partial work of a
  // harness that timed out or ran out of budget is graded too; a broken task or infrastructure is not.
  // A verification stopped from outside is no grade: the rollout stays unfinished, to be graded again.
  let score: Score | null = null;
  if (outcome !== 'task_error' && outcome !== 'infra_error') {
    const scratch = path.join(rolloutDir, 'verify');
    try {
      score = await gradeWorkspace({ task, workspace, scratch, verifier: verifierSandbox, agent: agentSandbox, seed: spec.seed, log, signal, room });
    } catch (err) {
      if (signal.aborted || isVerificationAborted(err)) return interrupted('during verification');
      if (log.failure || isDiskFullError(err)) throw err; // a full disk: stopped, not graded (see lifecycle)
      outcome = isUserError(err) ? 'task_error' : 'infra_error';
      reason = `verification failed: ${(err as Error).message}`;
      log.append({ type: 'phase', phase: 'verify', status: 'failed', detail: { error: (err as Error).message } });
    } finally {
      await removeTree(scratch).catch(() => {});
    }
  }

  log.append({ type: 'phase', phase: 'finish', status: 'done' });
  const spent = modelTotals([...prior, ...modelEvents]);
  const times = clock.times(Date.now());
  const waits = new WaitClock();
  for (const e of [...prior, ...waitEvents]) waits.observe(e);
  const outageMs = waits.outageMs(Date.now());
  log.append({
    type: 'rollout.finished',
    outcome,
    score,
    reason,
    totals: {
      wall_ms: times.wall_ms,
      working_ms: Math.max(0, times.wall_ms - waits.retryWaitMs - outageMs),
      outage_ms: outageMs,
      harness_ms: times.harness_ms,
      verify_ms: times.verify_ms,
      attempts: times.attempts,
      tool_calls: toolCalls,
      turns,
      usage: spent.usage,
      cost_usd: spent.cost_usd,
      ...(spent.unmetered.calls ? { unmetered: spent.unmetered } : {}),
    },
  });
  return { ...base, outcome, score, reason, interrupted: false };
}

/** The harness phase: run the harness under its wall-time limit (and the rollout's stop signal). */
async function runHarnessPhase(
  ctx: RolloutContext,
  log: TrajectoryWriter,
  agentSandbox: Sandbox,
  workspace: string,
  signal: AbortSignal,
): Promise<{ outcome: Outcome; reason: string; tool_calls: number; turns: number; duration_ms: number }> {
  const { spec, task, harness } = ctx;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const limitSec = harnessTimeoutSec(task, spec.limits);
  let timedOut = false;
  // Provider outages do not count against the limit (the harness waits them out): nor here.
  const timer = new HarnessTimer((limitSec + HARNESS_GRACE_SEC) * 1000, outagePatienceMs(spec.limits), () => {
    timedOut = true;
    stop.abort(new Error('harness wall-time limit'));
  });
  log.onEvent((e) => timer.observe(e));
  log.append({ type: 'phase', phase: 'harness', status: 'started', detail: { harness: harness.name, timeout_sec: limitSec } });
  const th = Date.now();
  let model: ModelAccess | undefined;
  if (harness.needsModel) {
    if (!ctx.model) throw new Error(`harness ${harness.name} needs a model but the rollout has none`);
    const { gateway, endpoint } = ctx.model;
    const token = gateway.registerRollout({ rolloutId: spec.rollout_id, log, budget: { tokens: spec.limits.tokens, cost_usd: spec.limits.cost_usd } });
    model = { gateway_url: gateway.url, token, endpoint, listenUnix: (file) => gateway.listenUnix(file) };
  }
  try {
    const r = await harness.run({ task, workspace, sandbox: agentSandbox, log, limits: spec.limits, seed: spec.seed, model, signal: stop.signal });
    if (timedOut) return { ...r, outcome: 'timeout', reason: `harness ran past its ${limitSec}s limit and was stopped`, duration_ms: Date.now() - th };
    return { outcome: r.outcome, reason: r.reason, tool_calls: r.tool_calls, turns: r.turns, duration_ms: Date.now() - th };
  } catch (err) {
    if (timedOut) return { outcome: 'timeout', reason: `harness ran past its ${limitSec}s limit and was stopped`, tool_calls: 0, turns: 0, duration_ms: Date.now() - th };
    // the rollout's own disk is full: a stop, not the harness's failure
    if (!signal.aborted && isDiskFullError(err)) throw err;
    return { outcome: isUserError(err) ? 'task_error' : 'infra_error', reason: `harness failed: ${(err as Error).message}`, tool_calls: 0, turns: 0, duration_ms: Date.now() - th };
  } finally {
    timer.stop();
    signal.removeEventListener('abort', onAbort);
    if (model && ctx.model) ctx.model.gateway.unregister(model.token);
  }
}
