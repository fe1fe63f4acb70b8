// The SQLite schema of the store, as an ordered list of migrations. The database's `user_version`
// pragma holds how many have been applied; opening a database applies the missing ones inside one
// IMMEDIATE transaction, so two processes opening a fresh file at once cannot both migrate it.
//
// Every row here is derived from experiment.json files and trajectory JSONL files: when in doubt,
// delete the database and run `outlast rebuild`. To change the schema, append a migration (never
// edit an applied one) and keep the row mapping in sqlite.ts in step.
import type Database from 'better-sqlite3';
import { UserError } from '../core/errors.js';

const V1 = `
CREATE TABLE experiments (
  id          TEXT PRIMARY KEY,
  created_at  TEXT NOT NULL,
  record      TEXT NOT NULL               -- experiment.json, as JSON
);

-- One row per planned rollout (created 'pending' by putExperiment), updated by its events.
CREATE TABLE rollouts (
  experiment_id TEXT NOT NULL,
  rollout_id    TEXT NOT NULL,
  ord           INTEGER,                  -- position in experiment.json's plan (NULL: not planned)
  task          TEXT NOT NULL DEFAULT '',
  family        TEXT NOT NULL DEFAULT '',
  task_hash     TEXT NOT NULL DEFAULT '',
  harness       TEXT NOT NULL DEFAULT '',
  model         TEXT,
  repeat        INTEGER NOT NULL DEFAULT 0,
  status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'finished')),
  status_seq    INTEGER,                  -- seq of the event that set status (older events never override it)
  outcome       TEXT,
  score         REAL,
  passed        INTEGER,                  -- 0/1
  started_at    TEXT,
  finished_at   TEXT,
  wall_ms       INTEGER,
  tool_calls    INTEGER,
  cost_usd      REAL,
  events        INTEGER NOT NULL DEFAULT 0,
  trajectory    TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (experiment_id, rollout_id)
);

-- One row per verifier.result event.
CREATE TABLE scores (
  experiment_id    TEXT NOT NULL,
  rollout_id       TEXT NOT NULL,
  seq              INTEGER NOT NULL,
  value            REAL NOT NULL,
  passed           INTEGER NOT NULL,
  verifier         TEXT NOT NULL,
  verifier_version TEXT NOT NULL,
  graded_at        TEXT NOT NULL,
  details          TEXT NOT NULL,          -- JSON object
  PRIMARY KEY (experiment_id, rollout_id, seq)
) WITHOUT ROWID;

-- The event index: where each event's line lives in its trajectory file.
CREATE TABLE events (
  experiment_id TEXT NOT NULL,
  rollout_id    TEXT NOT NULL,
  seq           INTEGER NOT NULL,
  t             TEXT NOT NULL,
  type          TEXT NOT NULL,
  line_offset   INTEGER NOT NULL,
  line_length   INTEGER NOT NULL,
  PRIMARY KEY (experiment_id, rollout_id, seq)
) WITHOUT ROWID;
CREATE INDEX events_by_type ON events (experiment_id, rollout_id, type, seq);
`;

// V2: an event index no larger than it needs to be. V1 kept one row per event carrying both text
// keys, the time and the type name, twice (table and type index): about 200 bytes per event, as much
// as a log of short events. V2 keys each trajectory by a small integer (trajectories.rk) and each
// event type by a code (event_types), and drops the time (the line itself has it): a row is a few
// varints. Queries need no more: page a rollout's events by seq, or by type and seq, to the lines.
// Also: rollouts.attempts (1 + the resumes: counted from rollout.started events, and taken from
// rollout.finished's totals when they carry it; NULL for rows migrated from V1).
const V2 = `
CREATE TABLE trajectories (
  rk            INTEGER PRIMARY KEY,
  experiment_id TEXT NOT NULL,
  rollout_id    TEXT NOT NULL,
  UNIQUE (experiment_id, rollout_id)
);
CREATE TABLE event_types (
  code INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE event_index (
  rk          INTEGER NOT NULL,             -- trajectories.rk
  seq         INTEGER NOT NULL,
  type        INTEGER NOT NULL,             -- event_types.code
  line_offset INTEGER NOT NULL,
  line_length INTEGER NOT NULL,
  PRIMARY KEY (rk, seq)
) WITHOUT ROWID;
CREATE INDEX event_index_by_type ON event_index (rk, type, seq);
INSERT INTO trajectories (experiment_id, rollout_id) SELECT DISTINCT experiment_id, rollout_id FROM events ORDER BY experiment_id, rollout_id;
INSERT INTO event_types (name) SELECT DISTINCT type FROM events ORDER BY type;
INSERT INTO event_index (rk, seq, type, line_offset, line_length)
  SELECT t.rk, e.seq, et.code, e.line_offset, e.line_length
  FROM events e JOIN trajectories t USING (experiment_id, rollout_id) JOIN event_types et ON et.name = e.type;
DROP INDEX events_by_type;
DROP TABLE events;
ALTER TABLE rollouts ADD COLUMN attempts INTEGER;
`;

/** Migrations in order; migration i takes the database from version i to version i + 1. */
export const MIGRATIONS: readonly string[] = [V1, V2];

/** The schema version this build of outlast writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Bring `db` up to SCHEMA_VERSION. Throws a UserError when the file is newer than this build. */
export function migrate(db: Database.Database, file: string): void {
  const check = (): number => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new UserError(
        `${file}: database schema version ${current} is newer than this outlast understands (${SCHEMA_VERSION}); ` +
          'upgrade outlast, or delete the file and run `outlast rebuild`',
      );
    }
    return current;
  };
  // Up to date (the usual case): no write lock, so a reader opens even while a writer is busy.
  if (check() === SCHEMA_VERSION) return;
  db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated while we waited.
    const current = check();
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
