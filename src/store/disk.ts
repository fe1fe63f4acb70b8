// A full disk under outlast's own files: telling its errors apart (ENOSPC and EDQUOT from the
// file system, SQLITE_FULL from the database) and turning them into DiskFull (core/errors.ts), which
// names the path, the space the write needed and what is free there.
import fs from 'node:fs';
import path from 'node:path';
import { DiskFull } from '../core/errors.js';

const CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** True when `err` says the disk or quota is full (DiskFull itself included). */
export function isDiskFullError(err: unknown): boolean {
  if (err instanceof DiskFull) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CODES.has(code);
}

/** Bytes free (to an unprivileged writer) on the filesystem holding `p` or its nearest existing parent; null when unknown. */
export function freeBytes(p: string): number | null {
  for (let d = path.resolve(p); ; d = path.dirname(d)) {
    try {
      const st = fs.statfsSync(d);
      return st.bavail * st.bsize;
    } catch {
      if (d === path.dirname(d)) return null;
    }
  }
}

/**
 * `err` as a DiskFull when it is a full-disk error, else null. `where` is the path being written
 * when the error names none; `needed` the bytes the write needed (default: 1).
 */
export function asDiskFull(err: unknown, where: string, needed = 1): DiskFull | null {
  if (err instanceof DiskFull) return err;
  if (!isDiskFullError(err)) return null;
  const e = err as NodeJS.ErrnoException;
  const p = typeof e.path === 'string' ? e.path : where;
  return new DiskFull({ path: p, needed_bytes: Math.max(1, needed), free_bytes: freeBytes(p), code: String(e.code) });
}
