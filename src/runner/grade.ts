// The grading step of a rollout: snapshot the final workspace (a copy the verifier may not change
// back), then run the task's verifier on it in a fresh sandbox. What the agent left that cannot be
// graded (over its quota, nested too deep, a disk it filled) is scored 0 with the reason here: the
// agent's failure, never an infrastructure error. A disk the agent did not fill (full before or
// after the verifier ran) is no grade either: DiskFull, and the rollout stops, resumable.
import fs from 'node:fs';
import path from 'node:path';
import { DiskFull, isDiskFull } from '../core/errors.js';
import type { Score, Task } from '../core/types.js';
import type { SandboxIdentity } from '../sandbox/identity.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { TrajectoryWriter } from '../store/trajectory.js';
import { copyTree, diskNearlyFull, measureTree, quotaLimits, removeTree, sandboxLinkPolicy, tookTheDisk, TreeRefused } from '../sandbox/tree.js';
import { createVerifier } from '../verifiers/index.js';
import { isVerificationAborted, throwIfAborted, VerificationAborted } from '../verifiers/verifier.js';

export interface GradeContext {
  task: Task;
  /** The rollout's final workspace and a scratch directory of its own (both on the host). */
  workspace: string;
  scratch: string;
  /** Views of the sandbox as the rollout's verifier and as its agent. */
  verifier: Sandbox;
  agent: Sandbox & { identity: SandboxIdentity };
  seed: number;
  log: TrajectoryWriter;
  signal?: AbortSignal;
  /** The room the agent started with (see agentFilledTheDisk); unknown: any workspace holding what is free took the disk. */
  room?: DiskRoom;
}

/**
 * Grade the workspace; throws only for failures that are not the agent's (the caller decides infra
 * vs task), and VerificationAborted when `signal` stopped it (nothing is graded then).
 */
export async function gradeWorkspace(g: GradeContext): Promise<Score> {
  const { task, log } = g;
  const verifier = createVerifier(task.verifier, path.join(task.dir, 'task.toml'));
  const refused = async (reason: string): Promise<Score> => {
    const why = `the final workspace was not graded: ${reason}`;
    log.append({ type: 'phase', phase: 'snapshot', status: 'failed', detail: { error: reason } });
    if (await diskNearlyFull(g.workspace)) {
      // not graded, and it leaves no room for the rest of the run: give the disk back
      await removeTree(g.workspace);
      log.append({ type: 'note', level: 'warning', message: `the workspace was removed after grading it failed, to free the full disk (${reason})` });
    }
    const score: Score = { value: 0, passed: false, details: { source: 'snapshot', reason: why }, grader: { verifier: verifier.kind, version: verifier.version, settings: {} }, graded_at: new Date().toISOString() };
    log.append({ type: 'verifier.result', score, run: { exit_code: null, duration_ms: 0, output: why, truncated_bytes: 0, timed_out: false } });
    return score;
  };
  log.append({ type: 'phase', phase: 'snapshot', status: 'started' });
  const full = await starvedDisk(g);
  if (full) throw full;
  const copy = path.join(g.scratch, 'workspace');
  let snap;
  try {
    await removeTree(g.scratch);
    fs.mkdirSync(g.scratch, { recursive: true });
    // The agent's files, owned by the agent, shared with the verifier through the rollout's group;
    // links that would lead the verifier's code to files the agent never had are left out.
    snap = await copyTree(g.workspace, copy, {
      limits: quotaLimits(task.workspace_quota),
      owner: g.agent.enforced.dedicated_uid ? { uid: g.agent.identity.uid, gid: g.agent.identity.gid } : undefined,
      groupLikeOwner: true,
      keepLink: sandboxLinkPolicy(task.workdir),
    });
  } catch (err) {
    // refused for lack of room on a disk the agent did not fill: a full disk, not the agent's 0
    if (err instanceof TreeRefused) {
      const full = await starvedDisk(g);
      if (full) throw full;
      return refused(err.reason);
    }
    if (await agentFilledTheDisk(err, g.workspace, g.room)) return refused(`the workspace filled the disk (${(err as NodeJS.ErrnoException).code})`);
    throw err;
  }
  log.append({ type: 'phase', phase: 'snapshot', status: 'done', detail: { ...snap } });
  const before = await starvedDisk(g);
  if (before) throw before;
  log.append({ type: 'phase', phase: 'verify', status: 'started', detail: { verifier: task.verifier.kind } });
  try {
    const v = await verifier.verify({ task, workspace: copy, tests: task.tests_dir, scratch: g.scratch, sandbox: g.verifier, agent: g.agent, seed: g.seed, signal: g.signal });
    // An interrupt is never a grade, whatever a verifier returned for the run it saw killed.
    throwIfAborted(g.signal);
    // Nor is a verification that ran out of disk it did not fill: its writes (a reward file, a build)
    // may have failed. The rollout stops, resumable, and is graded again once there is room.
    const after = await starvedDisk(g);
    if (after) throw after;
    log.append({ type: 'verifier.result', score: v.score, run: v.run });
    // what the verifier could not decide alone (e.g. a speedup past this machine's limit) goes to a person
    for (const [i, f] of (v.flags ?? []).entries()) log.append({ type: 'monitor.flag', flag_id: `verifier-${i + 1}`, monitor: `verifier:${verifier.kind}`, ...f });
    log.append({ type: 'phase', phase: 'verify', status: 'done', detail: { value: v.score.value, passed: v.score.passed } });
    return v.score;
  } catch (err) {
    if (g.signal?.aborted && !isVerificationAborted(err)) throw new VerificationAborted(g.signal.reason);
    if (isDiskFull(err)) throw err;
    if (!g.signal?.aborted && (await agentFilledTheDisk(err, g.workspace, g.room))) return refused(`the workspace filled the disk (${(err as NodeJS.ErrnoException).code}): the verifier had no room to run`);
    throw err;
  }
}

/** Less room than this left under the verification's scratch directory means its disk is full. */
export const MIN_GRADING_FREE_BYTES = 1024 * 1024;
export const MIN_GRADING_FREE_INODES = 64;

/**
 * A DiskFull when the disk under the verification is full (less than MIN_GRADING_FREE_BYTES or
 * MIN_GRADING_FREE_INODES left) and the agent's workspace is not what filled it (see
 * agentFilledTheDisk: at least half of the room it started with); null otherwise, or when the room
 * the agent started with is unknown.
 */
async function starvedDisk(g: GradeContext): Promise<DiskFull | null> {
  const now = diskRoom(g.scratch);
  if (!now || !g.room) return null;
  const lowBytes = now.bytes < MIN_GRADING_FREE_BYTES;
  if (!lowBytes && !(now.inodes > 0 && now.inodes < MIN_GRADING_FREE_INODES)) return null;
  // the agent's files: its workspace, and the copy the grading runs on (which the agent's code can
  // write to when the tests run it): an agent that fills the disk from inside its grading gets its grade
  if (await workspaceTookRoom([g.workspace, g.scratch], g.room)) return null;
  return new DiskFull({ path: g.scratch, needed_bytes: lowBytes ? MIN_GRADING_FREE_BYTES - now.bytes : 1, free_bytes: now.bytes, code: 'ENOSPC' });
}

/** The trees (the agent's) hold at least half of the room the agent started with (bytes or inodes). */
async function workspaceTookRoom(trees: string[], room: DiskRoom): Promise<boolean> {
  let bytes = 0;
  let entries = 0;
  for (const t of trees) {
    if (!fs.existsSync(t)) continue;
    try {
      const used = await measureTree(t, UNLIMITED);
      bytes += used.bytes;
      entries += used.entries;
    } catch {
      return true;
    }
  }
  return bytes * 2 >= room.bytes || (room.inodes > 0 && entries * 2 >= room.inodes);
}

/**
 * A full disk (or quota) that the agent's own workspace filled: the workspace holds what is left
 * free (tookTheDisk) and, when the room the agent started with is known, at least half of it (bytes
 * or inodes). A disk that something else filled is not the agent's doing even though any workspace
 * then "holds more than is free": that stops the rollout (a full disk, resumable), it is no grade.
 */
async function agentFilledTheDisk(err: unknown, workspace: string, room: DiskRoom | undefined): Promise<boolean> {
  const code = (err as NodeJS.ErrnoException).code;
  if ((code !== 'ENOSPC' && code !== 'EDQUOT') || !(await tookTheDisk(workspace))) return false;
  return !room || (await workspaceTookRoom([workspace], room));
}

const UNLIMITED = { maxBytes: Infinity, maxEntries: Infinity, maxDepth: Infinity, maxPathBytes: Infinity };

/** Free space on the workspace's filesystem when the agent began: bytes, and inodes (0: not counted). */
export interface DiskRoom {
  bytes: number;
  inodes: number;
}

/** The room on `dir`'s filesystem now, or undefined when it cannot be told. */
export function diskRoom(dir: string): DiskRoom | undefined {
  try {
    const st = fs.statfsSync(dir);
    return { bytes: st.bavail * st.bsize, inodes: st.files > 0 ? st.ffree : 0 };
  } catch {
    return undefined;
  }
}
