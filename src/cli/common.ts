// Shared pieces of the CLI commands: option parsing, the home directory and store, error exits.
import { InvalidArgumentError } from 'commander';
import { UserError } from '../core/errors.js';
import { Layout, defaultHome } from '../store/layout.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/store.js';
import type { SandboxMode } from '../core/types.js';
import path from 'node:path';

/** Exit codes of the `outlast` command (documented in README.md). */
export const EXIT = {
  ok: 0,
  /** Rollouts ran but something is wrong: a task is broken (check), a rollout hit infra_error/task_error (run). */
  failures: 1,
  /** A user mistake: bad arguments, bad task directory, missing tool. */
  usage: 2,
  /** A bug in outlast. */
  internal: 3,
  /** The disk under the home directory is full (or a log could not be written): nothing recorded is lost; free space, then `outlast resume`. */
  storage: 4,
  interrupted: 130,
} as const;

export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1, got "${v}"`);
    return n;
  };
}

export function sandboxMode(v: string): SandboxMode {
  if (v !== 'bwrap' && v !== 'none') throw new InvalidArgumentError(`must be "bwrap" or "none", got "${v}"`);
  return v;
}

export interface HomeOptions {
  home?: string;
}

export function layoutFor(opts: HomeOptions): Layout {
  return new Layout(opts.home ? path.resolve(opts.home) : defaultHome());
}

export async function withStore<T>(layout: Layout, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(layout);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The experiment named on the command line, or the latest one. */
export async function resolveExperiment(store: Store, id: string | undefined) {
  if (id) {
    const e = await store.getExperiment(id);
    if (!e) throw new UserError(`no experiment "${id}" (see \`outlast list\`)`);
    return e;
  }
  const latest = await store.latestExperiment();
  if (!latest) throw new UserError('no experiments yet: start one with `outlast run <task-dir>`');
  return latest;
}
