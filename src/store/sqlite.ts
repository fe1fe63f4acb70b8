// SqliteStore: the default Store, one SQLite file through better-sqlite3.
//
// Several outlast processes may open the same file (`outlast view` reading while `outlast run`
// writes), so the database runs in WAL mode (readers never block the writer) with a busy timeout
// (writers wait for each other instead of failing with SQLITE_BUSY).
//
// Derivation rules (applyEvent) are idempotent: applying the same event again, or re-applying a
// whole log, leaves the same rows. That is what lets rebuild and live indexing agree, and lets a
// resumed runner re-index its log without double counting.
//   any event          → an event_index row (INSERT OR IGNORE by seq); events + 1 only when it was new
//   rollout.started    → status running, started_at (the first start's), spec fields; attempts + 1 when new
//   tool.result        → tool_calls + 1 (only when new, and not once finished)
//   verifier.result    → a scores row keyed by seq
//   rollout.finished   → status finished, outcome, score, passed, finished_at, totals (attempts from them when given)
// Status changes carry the seq that made them (status_seq): an event older than the one that set the
// current status never overrides it, so a re-applied start does not un-finish a rollout, while a
// resumed start (a later seq) does put it back to running.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../core/errors.js';
import type { TrajectoryEvent } from '../core/events.js';
import type { Layout } from './layout.js';
import { migrate } from './schema.js';
import type { EventIndexRow, ExperimentRecord, ExperimentRow, RolloutRow, ScoreRow, Store } from './store.js';

export interface SqliteStoreOptions {
  /** Where the runs live: gives pending rollouts their trajectory path before any event arrives. */
  layout?: Layout;
  /** How long a statement waits for another connection's write lock (default 10 s). */
  busyTimeoutMs?: number;
}

type Where = { offset: number; length: number };

export const DEFAULT_EVENT_PAGE = 200;
export const MAX_EVENT_PAGE = 5000;

/** SQL fragment: a status change by the event at @seq is allowed (it is not older than the current one). */
const NEWER = '(status_seq IS NULL OR status_seq <= @seq)';
const PK = 'experiment_id = @experiment_id AND rollout_id = @rollout_id';

function prepareAll(db: Database.Database) {
  return {
    putExperiment: db.prepare(
      `INSERT INTO experiments (id, created_at, record) VALUES (@id, @created_at, @record)
       ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, record = excluded.record`,
    ),
    // A re-put plan only refreshes rollouts that have not started (a started one knows its spec).
    planRollout: db.prepare(
      `INSERT INTO rollouts (experiment_id, rollout_id, ord, task, family, task_hash, harness, model, repeat, trajectory)
       VALUES (@experiment_id, @rollout_id, @ord, @task, @family, @task_hash, @harness, @model, @repeat, @trajectory)
       ON CONFLICT (experiment_id, rollout_id) DO UPDATE SET
         ord = excluded.ord,
         task = CASE WHEN status = 'pending' THEN excluded.task ELSE task END,
         family = CASE WHEN status = 'pending' THEN excluded.family ELSE family END,
         task_hash = CASE WHEN status = 'pending' THEN excluded.task_hash ELSE task_hash END,
         harness = CASE WHEN status = 'pending' THEN excluded.harness ELSE harness END,
         model = CASE WHEN status = 'pending' THEN excluded.model ELSE model END,
         repeat = CASE WHEN status = 'pending' THEN excluded.repeat ELSE repeat END,
         trajectory = CASE WHEN trajectory = '' THEN excluded.trajectory ELSE trajectory END`,
    ),
    trajectoryKey: db.prepare(`SELECT rk FROM trajectories WHERE experiment_id = ? AND rollout_id = ?`),
    newTrajectoryKey: db.prepare(`INSERT INTO trajectories (experiment_id, rollout_id) VALUES (?, ?) RETURNING rk`),
    typeCode: db.prepare(`SELECT code FROM event_types WHERE name = ?`),
    newTypeCode: db.prepare(`INSERT INTO event_types (name) VALUES (?) RETURNING code`),
    indexEvent: db.prepare(
      `INSERT OR IGNORE INTO event_index (rk, seq, type, line_offset, line_length) VALUES (@rk, @seq, @type, @offset, @length)`,
    ),
    // Already indexed: refresh the position (same values unless the log was rewritten).
    reindexEvent: db.prepare(`UPDATE event_index SET type = @type, line_offset = @offset, line_length = @length WHERE rk = @rk AND seq = @seq`),
    // Where each rollout's indexed part of its log ends (the end of its highest indexed line).
    indexedEnds: db.prepare(
      `SELECT t.rollout_id AS rollout_id,
         (SELECT ei.line_offset + ei.line_length FROM event_index ei WHERE ei.rk = t.rk ORDER BY ei.seq DESC LIMIT 1) AS end_byte
       FROM trajectories t WHERE t.experiment_id = ?`,
    ),
    ensureRollout: db.prepare(
      `INSERT OR IGNORE INTO rollouts (experiment_id, rollout_id, trajectory) VALUES (@experiment_id, @rollout_id, @trajectory)`,
    ),
    countEvent: db.prepare(
      `UPDATE rollouts SET events = events + 1, trajectory = @trajectory,
         tool_calls = CASE WHEN @tool AND status <> 'finished' THEN coalesce(tool_calls, 0) + 1 ELSE tool_calls END,
         attempts = CASE WHEN @start THEN coalesce(attempts, 0) + 1 ELSE attempts END
       WHERE ${PK}`,
    ),
    setTrajectory: db.prepare(`UPDATE rollouts SET trajectory = @trajectory WHERE ${PK}`),
    started: db.prepare(
      `UPDATE rollouts SET
         task = @task, family = @family, task_hash = @task_hash, harness = @harness, model = @model, repeat = @repeat,
         started_at = CASE WHEN started_at IS NULL OR started_at > @t THEN @t ELSE started_at END,
         outcome = CASE WHEN ${NEWER} THEN NULL ELSE outcome END,
         score = CASE WHEN ${NEWER} THEN NULL ELSE score END,
         passed = CASE WHEN ${NEWER} THEN NULL ELSE passed END,
         finished_at = CASE WHEN ${NEWER} THEN NULL ELSE finished_at END,
         wall_ms = CASE WHEN ${NEWER} THEN NULL ELSE wall_ms END,
         cost_usd = CASE WHEN ${NEWER} THEN NULL ELSE cost_usd END,
         status = CASE WHEN ${NEWER} THEN 'running' ELSE status END,
         status_seq = CASE WHEN ${NEWER} THEN @seq ELSE status_seq END
       WHERE ${PK}`,
    ),
    finished: db.prepare(
      `UPDATE rollouts SET status = 'finished', status_seq = @seq, outcome = @outcome, score = @score, passed = @passed,
         finished_at = @t, wall_ms = @wall_ms, tool_calls = @tool_calls, cost_usd = @cost_usd, attempts = coalesce(@attempts, attempts)
       WHERE ${PK} AND ${NEWER}`,
    ),
    score: db.prepare(
      `INSERT OR REPLACE INTO scores (experiment_id, rollout_id, seq, value, passed, verifier, verifier_version, graded_at, details)
       VALUES (@experiment_id, @rollout_id, @seq, @value, @passed, @verifier, @verifier_version, @graded_at, @details)`,
    ),
    experiments: db.prepare(`${EXPERIMENT_SELECT} ORDER BY e.created_at DESC, e.id DESC`),
    experiment: db.prepare(`${EXPERIMENT_SELECT} WHERE e.id = ?`),
    latest: db.prepare(`${EXPERIMENT_SELECT} ORDER BY e.created_at DESC, e.id DESC LIMIT 1`),
    rollouts: db.prepare(`SELECT * FROM rollouts WHERE experiment_id = ? ORDER BY ord IS NULL, ord, rollout_id`),
    scores: db.prepare(`SELECT * FROM scores WHERE experiment_id = ? ORDER BY rollout_id, seq`),
    events: db.prepare(
      `SELECT ei.seq, et.name AS type, ei.line_offset, ei.line_length FROM event_index ei JOIN event_types et ON et.code = ei.type
       WHERE ei.rk = @rk AND ei.seq >= @from ORDER BY ei.seq LIMIT @limit`,
    ),
    eventsOfType: db.prepare(
      `SELECT ei.seq, @name AS type, ei.line_offset, ei.line_length FROM event_index ei
       WHERE ei.rk = @rk AND ei.type = @type AND ei.seq >= @from ORDER BY ei.seq LIMIT @limit`,
    ),
  };
}

const EXPERIMENT_SELECT = `SELECT e.id, e.created_at, e.record,
  (SELECT count(*) FROM rollouts r WHERE r.experiment_id = e.id) AS rollouts,
  (SELECT count(*) FROM rollouts r WHERE r.experiment_id = e.id AND r.status = 'finished') AS finished
  FROM experiments e`;

type Statements = ReturnType<typeof prepareAll>;

export class SqliteStore implements Store {
  private readonly st: Statements;
  private closed = false;
  /** Trajectory keys and event type codes already looked up (rows never change once made, until clear()). */
  private readonly keys = new Map<string, number>();
  private readonly types = new Map<string, number>();

  private constructor(
    /** The database file. */
    readonly file: string,
    /** The open connection (for tests and maintenance; prefer the Store methods). */
    readonly db: Database.Database,
    private readonly layout: Layout | undefined,
  ) {
    this.st = prepareAll(db);
  }

  /** Open (creating it and its parent directories if needed) and migrate the database at `file`. */
  static open(file: string, opts: SqliteStoreOptions = {}): SqliteStore {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    let db: Database.Database | undefined;
    try {
      db = new Database(file);
      // Set the busy timeout first: switching to WAL and migrating may wait on another process.
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 10_000))}`);
      db.pragma('journal_mode = WAL');
      // NORMAL is durable across application crashes in WAL mode; the logs are the source of truth anyway.
      db.pragma('synchronous = NORMAL');
      migrate(db, file);
      return new SqliteStore(file, db, opts.layout);
    } catch (err) {
      db?.close();
      if (err instanceof Database.SqliteError && (err.code === 'SQLITE_NOTADB' || err.code === 'SQLITE_CORRUPT')) {
        throw new UserError(`${file}: not a usable outlast database (${err.message}); delete it and run \`outlast rebuild\``);
      }
      throw err;
    }
  }

  async putExperiment(rec: ExperimentRecord): Promise<void> {
    const tasks = new Map(rec.tasks.map((t) => [t.name, t]));
    this.db.transaction(() => {
      this.st.putExperiment.run({ id: rec.id, created_at: rec.created_at, record: JSON.stringify(rec) });
      rec.rollouts.forEach((r, ord) => {
        const task = tasks.get(r.task);
        this.st.planRollout.run({
          experiment_id: rec.id,
          rollout_id: r.rollout_id,
          ord,
          task: r.task,
          family: task?.family ?? '',
          task_hash: task?.hash ?? '',
          harness: r.harness,
          model: r.model ?? null,
          repeat: r.repeat,
          trajectory: this.layout ? this.layout.trajectory(rec.id, r.rollout_id) : '',
        });
      });
    })();
  }

  async applyEvent(experimentId: string, rolloutId: string, trajectory: string, e: TrajectoryEvent, where: Where): Promise<void> {
    this.db.transaction(() => this.applyOne(experimentId, rolloutId, trajectory, e, where))();
  }

  async applyEvents(
    experimentId: string,
    rolloutId: string,
    trajectory: string,
    events: readonly TrajectoryEvent[],
    positions: readonly Where[],
  ): Promise<void> {
    if (events.length !== positions.length) throw new Error(`applyEvents: ${events.length} events but ${positions.length} positions`);
    this.db.transaction(() => {
      for (let i = 0; i < events.length; i++) this.applyOne(experimentId, rolloutId, trajectory, events[i]!, positions[i]!);
    })();
  }

  /** The integer key of a trajectory (made on first use; inside the caller's transaction). */
  private rk(experimentId: string, rolloutId: string, create: boolean): number | null {
    const k = `${experimentId}\0${rolloutId}`;
    const hit = this.keys.get(k);
    if (hit !== undefined) return hit;
    const row = (this.st.trajectoryKey.get(experimentId, rolloutId) as { rk: number } | undefined) ?? (create ? (this.st.newTrajectoryKey.get(experimentId, rolloutId) as { rk: number }) : undefined);
    if (!row) return null;
    this.keys.set(k, row.rk);
    return row.rk;
  }

  /** The code of an event type (made on first use; inside the caller's transaction). */
  private typeCode(name: string, create: boolean): number | null {
    const hit = this.types.get(name);
    if (hit !== undefined) return hit;
    const row = (this.st.typeCode.get(name) as { code: number } | undefined) ?? (create ? (this.st.newTypeCode.get(name) as { code: number }) : undefined);
    if (!row) return null;
    this.types.set(name, row.code);
    return row.code;
  }

  /** The derivation rules for one event (see the top of this file). Runs inside a transaction. */
  private applyOne(experiment_id: string, rollout_id: string, trajectory: string, e: TrajectoryEvent, where: Where): void {
    const key = { experiment_id, rollout_id };
    const pos = { rk: this.rk(experiment_id, rollout_id, true), seq: e.seq, type: this.typeCode(e.type, true), offset: where.offset, length: where.length };
    const fresh = this.st.indexEvent.run(pos).changes > 0;
    if (fresh) {
      const count = { ...key, trajectory, tool: e.type === 'tool.result' ? 1 : 0, start: e.type === 'rollout.started' ? 1 : 0 };
      if (this.st.countEvent.run(count).changes === 0) {
        // An event for a rollout the plan did not list (or before putExperiment): give it a row.
        this.st.ensureRollout.run({ ...key, trajectory });
        this.st.countEvent.run(count);
      }
    } else {
      this.st.reindexEvent.run(pos);
      this.st.setTrajectory.run({ ...key, trajectory });
    }

    switch (e.type) {
      case 'rollout.started': {
        const s = e.spec;
        this.st.started.run({
          ...key,
          seq: e.seq,
          t: e.t,
          task: s.task.name,
          family: s.task.family,
          task_hash: s.task.hash,
          harness: s.harness.name,
          model: s.model?.name ?? null,
          repeat: s.repeat,
        });
        break;
      }
      case 'verifier.result':
        this.st.score.run({
          ...key,
          seq: e.seq,
          value: e.score.value,
          passed: e.score.passed ? 1 : 0,
          verifier: e.score.grader.verifier,
          verifier_version: e.score.grader.version,
          graded_at: e.score.graded_at,
          details: JSON.stringify(e.score.details ?? {}),
        });
        break;
      case 'rollout.finished':
        this.st.finished.run({
          ...key,
          seq: e.seq,
          t: e.t,
          outcome: e.outcome,
          score: e.score ? e.score.value : null,
          passed: e.score ? (e.score.passed ? 1 : 0) : null,
          wall_ms: e.totals.wall_ms,
          tool_calls: e.totals.tool_calls,
          cost_usd: e.totals.cost_usd,
          attempts: typeof e.totals.attempts === 'number' ? e.totals.attempts : null,
        });
        break;
      default:
        break;
    }
  }

  async listExperiments(): Promise<ExperimentRow[]> {
    return (this.st.experiments.all() as RawExperiment[]).map(toExperiment);
  }

  async getExperiment(id: string): Promise<ExperimentRow | null> {
    const r = this.st.experiment.get(id) as RawExperiment | undefined;
    return r ? toExperiment(r) : null;
  }

  async latestExperiment(): Promise<ExperimentRow | null> {
    const r = this.st.latest.get() as RawExperiment | undefined;
    return r ? toExperiment(r) : null;
  }

  async listRollouts(experimentId: string): Promise<RolloutRow[]> {
    return (this.st.rollouts.all(experimentId) as RawRollout[]).map(toRollout);
  }

  async getScores(experimentId: string): Promise<ScoreRow[]> {
    return (this.st.scores.all(experimentId) as RawScore[]).map(toScore);
  }

  async listEvents(
    experimentId: string,
    rolloutId: string,
    opts: { fromSeq?: number; limit?: number; type?: string } = {},
  ): Promise<EventIndexRow[]> {
    const from = Math.max(0, Math.floor(opts.fromSeq ?? 0));
    const limit = Math.min(MAX_EVENT_PAGE, Math.max(1, Math.floor(opts.limit ?? DEFAULT_EVENT_PAGE)));
    const rk = this.rk(experimentId, rolloutId, false);
    if (rk === null) return [];
    let rows: RawEvent[];
    if (opts.type === undefined) rows = this.st.events.all({ rk, from, limit }) as RawEvent[];
    else {
      const code = this.typeCode(opts.type, false);
      rows = code === null ? [] : (this.st.eventsOfType.all({ rk, type: code, name: opts.type, from, limit }) as RawEvent[]);
    }
    return rows.map((r) => ({ experiment_id: experimentId, rollout_id: rolloutId, seq: r.seq, type: r.type, offset: r.line_offset, length: r.line_length }));
  }

  async indexedEnds(experimentId: string): Promise<Map<string, number>> {
    const rows = this.st.indexedEnds.all(experimentId) as { rollout_id: string; end_byte: number | null }[];
    return new Map(rows.map((r) => [r.rollout_id, r.end_byte ?? 0]));
  }

  async atomically<T>(fn: () => Promise<T>): Promise<T> {
    // better-sqlite3 is synchronous: nothing else touches this connection while fn's awaits only
    // wait on this store, and nested transactions inside become savepoints.
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const r = await fn();
      this.db.exec('COMMIT');
      return r;
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
  }

  async clear(): Promise<void> {
    this.db.transaction(() => {
      for (const table of ['event_index', 'trajectories', 'event_types', 'scores', 'rollouts', 'experiments']) this.db.prepare(`DELETE FROM ${table}`).run();
    })();
    this.keys.clear();
    this.types.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

// Raw rows as SQLite returns them, and their mapping to the Store's row types.
interface RawExperiment {
  id: string;
  created_at: string;
  record: string;
  rollouts: number;
  finished: number;
}
type RawRollout = Omit<RolloutRow, 'passed'> & { passed: number | null; ord: number | null; status_seq: number | null };
type RawScore = Omit<ScoreRow, 'passed' | 'details'> & { passed: number; details: string };
interface RawEvent {
  seq: number;
  type: string;
  line_offset: number;
  line_length: number;
}

function toExperiment(r: RawExperiment): ExperimentRow {
  return { id: r.id, created_at: r.created_at, rollouts: r.rollouts, finished: r.finished, record: JSON.parse(r.record) as ExperimentRecord };
}

function toRollout(r: RawRollout): RolloutRow {
  return {
    experiment_id: r.experiment_id,
    rollout_id: r.rollout_id,
    task: r.task,
    family: r.family,
    task_hash: r.task_hash,
    harness: r.harness,
    model: r.model,
    repeat: r.repeat,
    status: r.status,
    outcome: r.outcome,
    score: r.score,
    passed: r.passed === null ? null : r.passed !== 0,
    started_at: r.started_at,
    finished_at: r.finished_at,
    wall_ms: r.wall_ms,
    tool_calls: r.tool_calls,
    cost_usd: r.cost_usd,
    attempts: r.attempts,
    events: r.events,
    trajectory: r.trajectory,
  };
}

function toScore(r: RawScore): ScoreRow {
  return {
    experiment_id: r.experiment_id,
    rollout_id: r.rollout_id,
    seq: r.seq,
    value: r.value,
    passed: r.passed !== 0,
    verifier: r.verifier,
    verifier_version: r.verifier_version,
    graded_at: r.graded_at,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}
