// The rollout lifecycle: prepare → harness → snapshot → verify → finish. Every step is appended to
// the rollout's trajectory (fsync'd) before the next begins, so a crash at any moment leaves a log
// that says how far the rollout got; `outlast resume` continues from there.
import fs from 'node:fs';
import path from 'node:path';
import type { TrajectoryEvent } from '../core/events.js';
import type { Limits, Outcome, RolloutSpec, Score, Task } from '../core/types.js';
import { modelTotals } from '../core/totals.js';
import { isUserError } from '../core/errors.js';
import type { Harness, ModelAccess } from '../harnesses/harness.js';
import type { Gateway } from '../gateway/index.js';
import type { ModelEndpoint } from '../core/types.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { Layout } from '../store/layout.js';
import type { Store } from '../store/store.js';
import { TrajectoryWriter } from '../store/trajectory.js';
import { createVerifier } from '../verifiers/index.js';
import { versions } from './provenance.js';
import { copyWorkspace } from './workspace.js';

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
}

export interface RolloutResult {
  rollout_id: string;
  outcome: Outcome | null;
  score: Score | null;
  reason: string;
  /** True when the log already held a finished rollout and nothing ran. */
  already_finished: boolean;
  /** True when the rollout was stopped from outside before it finished. */
  interrupted: boolean;
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
  const log = new TrajectoryWriter(trajectory);
  let storeChain: Promise<void> = Promise.resolve();
  const index = (e: TrajectoryEvent, where: { offset: number; length: number }): void => {
    storeChain = storeChain.then(() => ctx.store.applyEvent(spec.experiment_id, spec.rollout_id, trajectory, e, where));
  };
  log.onEvent((e, where) => {
    index(e, where);
    ctx.onEvent?.(e);
  });
  const base: Omit<RolloutResult, 'outcome' | 'score' | 'reason'> = { rollout_id: spec.rollout_id, already_finished: false, interrupted: false };
  try {
    const prior = log.existing;
    const finished = prior.find((e) => e.type === 'rollout.finished');
    if (finished && finished.type === 'rollout.finished') {
      return { ...base, outcome: finished.outcome, score: finished.score, reason: finished.reason, already_finished: true };
    }
    return await lifecycle(ctx, log, prior);
  } finally {
    log.close();
    await storeChain;
  }
}

async function lifecycle(ctx: RolloutContext, log: TrajectoryWriter, prior: TrajectoryEvent[]): Promise<RolloutResult> {
  const { layout, spec, task, harness, sandbox } = ctx;
  const t0 = Date.now();
  const resumed = prior.length > 0;
  const rolloutDir = layout.rolloutDir(spec.experiment_id, spec.rollout_id);
  const workspace = layout.workspace(spec.experiment_id, spec.rollout_id);
  const base = { rollout_id: spec.rollout_id, already_finished: false };
  const modelEvents: TrajectoryEvent[] = [];
  log.onEvent((e) => {
    if (e.type === 'model.response') modelEvents.push(e);
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

  // prepare: a fresh copy of the task's starting workspace. Harnesses that cannot continue from a
  // half-finished workspace (oracle, nop) start over on resume.
  log.append({ type: 'phase', phase: 'prepare', status: 'started' });
  // A workspace is only worth keeping if an earlier prepare finished copying it (a crash mid-copy
  // leaves a partial one).
  const prepared = prior.some((e) => e.type === 'phase' && e.phase === 'prepare' && e.status === 'done');
  const keepWorkspace = resumed && prepared && harness.resumable === true && fs.existsSync(workspace);
  if (!keepWorkspace) {
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.mkdirSync(workspace, { recursive: true });
    if (task.workspace_dir) copyWorkspace(task.workspace_dir, workspace);
    if (resumed) {
      const why = harness.resumable ? 'the earlier attempt stopped before its workspace was ready' : `harness ${harness.name} cannot continue a half-finished workspace`;
      log.append({ type: 'note', level: 'info', message: `starting over from the task's workspace on resume: ${why}` });
    }
  }
  log.append({ type: 'phase', phase: 'prepare', status: 'done', detail: { workspace_kept: keepWorkspace } });

  // harness
  const stop = new AbortController();
  const outer = ctx.signal;
  const onOuterAbort = (): void => stop.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const limitSec = harnessTimeoutSec(task, spec.limits);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop.abort(new Error('harness wall-time limit'));
  }, (limitSec + HARNESS_GRACE_SEC) * 1000);
  timer.unref();
  log.append({ type: 'phase', phase: 'harness', status: 'started', detail: { harness: harness.name, timeout_sec: limitSec } });
  const th = Date.now();
  let model: ModelAccess | undefined;
  if (harness.needsModel) {
    if (!ctx.model) throw new Error(`harness ${harness.name} needs a model but the rollout has none`);
    const { gateway, endpoint } = ctx.model;
    const token = gateway.registerRollout({ rolloutId: spec.rollout_id, log, budget: { tokens: spec.limits.tokens, cost_usd: spec.limits.cost_usd } });
    model = { gateway_url: gateway.url, token, endpoint };
  }
  let outcome: Outcome;
  let reason: string;
  let toolCalls = 0;
  let turns = 0;
  try {
    const r = await harness.run({ task, workspace, sandbox, log, limits: spec.limits, seed: spec.seed, model, signal: stop.signal });
    ({ outcome, reason } = r);
    toolCalls = r.tool_calls;
    turns = r.turns;
    if (timedOut) {
      outcome = 'timeout';
      reason = `harness ran past its ${limitSec}s limit and was stopped`;
    }
  } catch (err) {
    outcome = timedOut ? 'timeout' : isUserError(err) ? 'task_error' : 'infra_error';
    reason = timedOut ? `harness ran past its ${limitSec}s limit and was stopped` : `harness failed: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
    if (model && ctx.model) ctx.model.gateway.unregister(model.token);
  }
  const harnessMs = Date.now() - th;
  if (outer?.aborted) {
    log.append({ type: 'note', level: 'warning', message: 'interrupted: the rollout was stopped before it finished; `outlast resume` continues it' });
    return { ...base, outcome: null, score: null, reason: 'interrupted', interrupted: true };
  }
  log.append({ type: 'phase', phase: 'harness', status: 'done', detail: { outcome, reason, duration_ms: harnessMs } });

  // snapshot + verify: a copy of the final workspace, graded in a fresh sandbox. Partial work of a
  // harness that timed out or ran out of budget is graded too; a broken task or infrastructure is not.
  let score: Score | null = null;
  const tv = Date.now();
  if (outcome !== 'task_error' && outcome !== 'infra_error') {
    const scratch = path.join(rolloutDir, 'verify');
    fs.rmSync(scratch, { recursive: true, force: true });
    try {
      log.append({ type: 'phase', phase: 'snapshot', status: 'started' });
      const copy = path.join(scratch, 'workspace');
      const snap = copyWorkspace(workspace, copy);
      log.append({ type: 'phase', phase: 'snapshot', status: 'done', detail: { ...snap } });

      log.append({ type: 'phase', phase: 'verify', status: 'started', detail: { verifier: task.verifier.kind } });
      const verifier = createVerifier(task.verifier, path.join(task.dir, 'task.toml'));
      const v = await verifier.verify({ task, workspace: copy, tests: task.tests_dir, scratch, sandbox, seed: spec.seed, signal: ctx.signal });
      score = v.score;
      log.append({ type: 'verifier.result', score: v.score, run: v.run });
      for (const [i, f] of (v.flags ?? []).entries()) log.append({ type: 'monitor.flag', flag_id: `verifier-${i + 1}`, monitor: `verifier:${verifier.kind}`, ...f });
      log.append({ type: 'phase', phase: 'verify', status: 'done', detail: { value: score.value, passed: score.passed } });
    } catch (err) {
      if (ctx.signal?.aborted) {
        log.append({ type: 'note', level: 'warning', message: 'interrupted during verification; `outlast resume` continues it' });
        return { ...base, outcome: null, score: null, reason: 'interrupted', interrupted: true };
      }
      outcome = isUserError(err) ? 'task_error' : 'infra_error';
      reason = `verification failed: ${(err as Error).message}`;
      log.append({ type: 'phase', phase: 'verify', status: 'failed', detail: { error: (err as Error).message } });
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  const spent = modelTotals([...prior, ...modelEvents]);
  const wall = Date.now() - t0;
  log.append({ type: 'phase', phase: 'finish', status: 'done' });
  log.append({
    type: 'rollout.finished',
    outcome,
    score,
    reason,
    totals: {
      wall_ms: wall,
      working_ms: Math.max(0, wall - spent.retry_wait_ms),
      harness_ms: harnessMs,
      verify_ms: Date.now() - tv,
      tool_calls: toolCalls,
      turns,
      usage: spent.usage,
      cost_usd: spent.cost_usd,
    },
  });
  return { ...base, outcome, score, reason, interrupted: false };
}
