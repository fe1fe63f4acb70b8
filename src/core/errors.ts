// Errors a user can cause and fix. The CLI prints their message as one line and exits non-zero,
// without a stack trace. Anything that is not a UserError is a bug and is reported as one.

export class UserError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** True when the error is a user mistake with a ready one-line message. */
export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** Collapse whitespace so a message stays on one line. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Bytes as a short human figure: 512 B, 3.2 KiB, 8.0 MiB, 1.5 GiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.max(0, Math.round(n))} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * The disk (or quota) that outlast writes its runs to is full: a write of outlast's own (a
 * trajectory line, experiment.json, the database, a workspace copy) found no room. Nothing
 * recorded is lost: the rollouts stop unfinished, and `outlast resume` continues them once space is
 * free. Not a user mistake and not a bug: the CLI prints the message as one line and exits with
 * its own code (EXIT.storage, README's CLI section).
 */
export class DiskFull extends Error {
  /** The file or directory that could not be written. */
  readonly path: string;
  /** Bytes the failed write needed (at least), and bytes free on that filesystem when it failed (null: unknown). */
  readonly needed_bytes: number;
  readonly free_bytes: number | null;
  /** The underlying error code (ENOSPC, EDQUOT, SQLITE_FULL). */
  readonly code: string;
  constructor(o: { path: string; needed_bytes: number; free_bytes: number | null; code: string }) {
    const free = o.free_bytes === null ? '' : `, ${formatBytes(o.free_bytes)} free`;
    super(`disk full: could not write ${o.path} (${formatBytes(o.needed_bytes)} needed${free}; ${o.code})`);
    this.name = 'DiskFull';
    this.path = o.path;
    this.needed_bytes = o.needed_bytes;
    this.free_bytes = o.free_bytes;
    this.code = o.code;
  }
}

export function isDiskFull(err: unknown): err is DiskFull {
  return err instanceof DiskFull;
}
