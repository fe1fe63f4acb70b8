// The Store interface: rows derived from experiment.json files and trajectory events. SQLite
// (sqlite.ts) is the default; a PostgreSQL implementation can satisfy the same interface later,
// which is why every method is async.
import type { TrajectoryEvent } from '../core/events.js';
import type { Limits, ModelEndpoint, Outcome, SandboxMode } from '../core/types.js';

/** The experiment.json record, written when an experiment starts. */
export interface ExperimentRecord {
  id: string;
  created_at: string;
  /** The command line that created it, for provenance. */
  argv: string[];
  outlast_version: string;
  tasks: { name: string; family: string; dir: string; hash: string }[];
  harnesses: string[];
  models: string[];
  repeats: number;
  concurrency: number;
  sandbox: SandboxMode;
  rollouts: { rollout_id: string; task: string; harness: string; model: string | null; repeat: number }[];
  /** The model endpoints the experiment's agent harnesses use (key *names* only, never keys), and the
   *  gateway settings, so a resume talks to the same endpoints the same way. */
  /** Settings of each harness given on the command line (`--set`), by harness name. */
  harness_settings?: Record<string, Record<string, unknown>>;
  /** Limits given on the command line, overriding every task's own. */
  limits?: Limits;
  model_config?: { file: string | null; endpoints: ModelEndpoint[]; gateway: Record<string, unknown> };
}

export interface ExperimentRow {
  id: string;
  created_at: string;
  rollouts: number;
  finished: number;
  record: ExperimentRecord;
}

export interface RolloutRow {
  experiment_id: string;
  rollout_id: string;
  task: string;
  family: string;
  task_hash: string;
  harness: string;
  model: string | null;
  repeat: number;
  /** `pending` (not started), `running` (started, not finished) or `finished`. */
  status: 'pending' | 'running' | 'finished';
  outcome: Outcome | null;
  score: number | null;
  passed: boolean | null;
  started_at: string | null;
  finished_at: string | null;
  wall_ms: number | null;
  tool_calls: number | null;
  cost_usd: number | null;
  /** Attempts so far (1 + the resumes); null when unknown (rows migrated from an older database). */
  attempts: number | null;
  events: number;
  trajectory: string;
}

export interface ScoreRow {
  experiment_id: string;
  rollout_id: string;
  /** Sequence number of the verifier.result event it came from (a resumed rollout may be graded twice). */
  seq: number;
  value: number;
  passed: boolean;
  verifier: string;
  verifier_version: string;
  graded_at: string;
  details: Record<string, unknown>;
}

/** One indexed event: where its line lives in the JSONL file, so a viewer can page through it (its time and content are in the line). */
export interface EventIndexRow {
  experiment_id: string;
  rollout_id: string;
  seq: number;
  type: string;
  offset: number;
  length: number;
}

export interface Store {
  /** Insert or replace an experiment (and its planned rollouts as `pending`). */
  putExperiment(rec: ExperimentRecord): Promise<void>;
  /** Derive rows from one event of one rollout; `where` is the event's line in the JSONL file. */
  applyEvent(experimentId: string, rolloutId: string, trajectory: string, e: TrajectoryEvent, where: { offset: number; length: number }): Promise<void>;
  /**
   * Optional batch form of applyEvent (e.g. one transaction): the same rows as calling applyEvent on
   * each event in order. `positions` is parallel to `events`, as readTrajectory returns them.
   */
  applyEvents?(
    experimentId: string,
    rolloutId: string,
    trajectory: string,
    events: readonly TrajectoryEvent[],
    positions: readonly { offset: number; length: number }[],
  ): Promise<void>;
  listExperiments(): Promise<ExperimentRow[]>;
  getExperiment(id: string): Promise<ExperimentRow | null>;
  /** The most recently created experiment, or null. */
  latestExperiment(): Promise<ExperimentRow | null>;
  listRollouts(experimentId: string): Promise<RolloutRow[]>;
  getScores(experimentId: string): Promise<ScoreRow[]>;
  /**
   * For each rollout of the experiment with indexed events: the byte offset where the indexed part
   * of its log ends (after its highest indexed line). `catchUp` reads a log only past it.
   */
  indexedEnds(experimentId: string): Promise<Map<string, number>>;
  /** Page through a rollout's event index by sequence number. */
  listEvents(experimentId: string, rolloutId: string, opts?: { fromSeq?: number; limit?: number; type?: string }): Promise<EventIndexRow[]>;
  /** Run `fn` so that other readers see either none or all of its writes (rebuild uses it, so a
   *  viewer never sees a half-rebuilt database and a crash mid-rebuild leaves the old one). */
  atomically?<T>(fn: () => Promise<T>): Promise<T>;
  /** Remove every row (used by rebuild before re-deriving). */
  clear(): Promise<void>;
  close(): Promise<void>;
}
