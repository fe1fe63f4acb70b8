// Opening the store. SQLite (a file beside the runs) is the default and the only backend today.
import type { Layout } from './layout.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

/**
 * Open the store for the runs under `layout`. This is the one place a backend is chosen: a team
 * store will come in here later, e.g. an `OUTLAST_DATABASE_URL=postgres://…` (or a config entry)
 * selecting a PostgreSQL implementation of the same Store interface, with the JSONL logs still
 * the source of truth. Nothing else should construct a store directly.
 */
export async function openStore(layout: Layout): Promise<Store> {
  return SqliteStore.open(layout.db, { layout });
}

export { SqliteStore, type SqliteStoreOptions, DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE } from './sqlite.js';
export { catchUp, rebuild, type RebuildProgress, type RebuildReport } from './rebuild.js';
export { parseExperimentRecord, experimentRecordSchema } from './record.js';
export { SCHEMA_VERSION } from './schema.js';
export type * from './store.js';
