// The final workspace against the task's starting workspace, read from the host for the monitors:
// which files the agent added, changed or deleted, with their text and a diff hunk. The agent made
// these files, so they are read the way the host reads agent-made files (src/sandbox/agent-file.ts):
// never following a symlink (a link is reported as a link, with its target as text), never opening
// anything but a regular file (non-blocking, type-checked on the descriptor), each file and the whole
// walk size-capped, names as bytes, no recursion. What the caps leave unread is listed, not guessed.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { readAgentFile } from '../sandbox/agent-file.js';

export interface FileChange {
  /** Path relative to the workspace (bytes shown as UTF-8). */
  path: string;
  status: 'added' | 'modified' | 'deleted';
  kind: 'file' | 'symlink';
  /** The text after the change (a link: `-> target`); null when deleted or binary. */
  after: string | null;
  /** The new lines of the change (all lines of an added file; the changed region of a modified one). */
  added: string[];
  /** Line number (1-based, in `after`) of `added[0]`. */
  addedFrom: number;
  /** A unified-diff hunk of the change, capped (HUNK_LINES lines of HUNK_LINE_CHARS characters). */
  hunk: string;
  /** sha256 of the new content (null when deleted). */
  sha256: string | null;
  binary: boolean;
}

export interface WorkspaceDiff {
  changes: FileChange[];
  /** What was not compared, with why (over a cap, unreadable). */
  unread: string[];
}

export interface DiffLimits {
  /** Largest file read. */
  fileBytes: number;
  /** Bytes read over the whole diff (both trees). */
  totalBytes: number;
  /** Entries walked in each tree. */
  entries: number;
}

export const DIFF_LIMITS: DiffLimits = { fileBytes: 2 * 1024 * 1024, totalBytes: 64 * 1024 * 1024, entries: 50_000 };
export const HUNK_LINES = 40;
export const HUNK_LINE_CHARS = 240;
const UNREAD_MAX = 20;

type Entry = { kind: 'file' | 'symlink' | 'dir' | 'other'; size: number };

/** Walk a tree (iteratively, lstat only, never following a link): relative path → what it is. */
async function listTree(root: string, limit: number, unread: string[]): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  const stack: Buffer[] = [Buffer.alloc(0)];
  const rootBuf = Buffer.from(root);
  const join = (a: Buffer, b: Buffer): Buffer => (a.length === 0 ? b : Buffer.concat([a, Buffer.from('/'), b]));
  while (stack.length > 0) {
    const rel = stack.pop()!;
    let names: Buffer[];
    try {
      names = (await fs.readdir(rel.length ? join(rootBuf, rel) : rootBuf, { encoding: 'buffer' })) as Buffer[];
    } catch (err) {
      if (rel.length === 0 && (err as NodeJS.ErrnoException).code === 'ENOENT') return out;
      unread.push(`${rel.toString('utf8') || '.'} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      continue;
    }
    for (const name of names) {
      const r = join(rel, name);
      if (out.size >= limit) {
        unread.push(`entries past the first ${limit}`);
        return out;
      }
      const st = await fs.lstat(join(rootBuf, r)).catch(() => null);
      if (!st) continue;
      const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
      out.set(r.toString('utf8'), { kind, size: st.size });
      if (kind === 'dir') stack.push(r);
    }
  }
  return out;
}

/** The changes of `final` against `start` (null: an empty start). */
export async function diffWorkspace(start: string | null, final: string, limits: DiffLimits = DIFF_LIMITS): Promise<WorkspaceDiff> {
  const unread: string[] = [];
  const before = start ? await listTree(start, limits.entries, unread) : new Map<string, Entry>();
  const after = await listTree(final, limits.entries, unread);
  let budget = limits.totalBytes;
  const read = async (root: string, rel: string, e: Entry): Promise<Buffer | null> => {
    if (e.kind === 'symlink') return Buffer.from(`-> ${(await fs.readlink(`${root}/${rel}`).catch(() => '?'))}`);
    if (e.size > limits.fileBytes || e.size > budget) {
      unread.push(`${rel} (${e.size} bytes, over the ${e.size > limits.fileBytes ? 'per-file' : 'total'} cap)`);
      return null;
    }
    const f = await readAgentFile(`${root}/${rel}`, limits.fileBytes);
    if (!f.ok) {
      unread.push(`${rel} (${f.reason})`);
      return null;
    }
    budget -= f.size;
    return f.data;
  };
  const changes: FileChange[] = [];
  for (const [rel, e] of [...after].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (e.kind === 'dir') continue;
    if (e.kind === 'other') {
      unread.push(`${rel} (not a file, directory or link)`);
      continue;
    }
    const was = before.get(rel);
    const old = was && was.kind === e.kind ? was : undefined;
    if (old && old.kind === 'file' && e.kind === 'file' && old.size === 0 && e.size === 0) continue;
    const now = await read(final, rel, e);
    if (now === null) continue;
    const prev = old ? await read(start!, rel, old) : null;
    if (old && prev === null) continue;
    if (prev && prev.equals(now)) continue;
    changes.push(change(rel, prev ? 'modified' : 'added', e.kind === 'symlink' ? 'symlink' : 'file', prev, now));
  }
  for (const [rel, e] of before) {
    if ((e.kind === 'file' || e.kind === 'symlink') && !after.has(rel)) changes.push(change(rel, 'deleted', e.kind, null, null));
  }
  return { changes, unread: unread.length > UNREAD_MAX ? [...unread.slice(0, UNREAD_MAX), `and ${unread.length - UNREAD_MAX} more`] : unread };
}

const isBinary = (b: Buffer): boolean => b.subarray(0, 8192).includes(0);
const lines = (b: Buffer): string[] => b.toString('utf8').split('\n');
const cap = (s: string): string => (s.length > HUNK_LINE_CHARS ? `${s.slice(0, HUNK_LINE_CHARS)}…` : s);

/** One change: the region between the common first and last lines is the hunk (one O(n) pass). */
export function change(rel: string, status: FileChange['status'], kind: FileChange['kind'], prev: Buffer | null, now: Buffer | null): FileChange {
  const sha256 = now ? createHash('sha256').update(now).digest('hex') : null;
  const binary = (now !== null && isBinary(now)) || (prev !== null && isBinary(prev));
  if (binary || now === null) {
    const hunk = now === null ? `deleted ${rel}` : `binary, ${now.length} bytes`;
    return { path: rel, status, kind, after: null, added: [], addedFrom: 1, hunk, sha256, binary };
  }
  const a = prev ? lines(prev) : [];
  const b = lines(now);
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const removed = a.slice(p, a.length - s);
  const added = b.slice(p, b.length - s);
  const body = [...removed.map((l) => `-${cap(l)}`), ...added.map((l) => `+${cap(l)}`)];
  const shown = body.length > HUNK_LINES ? [...body.slice(0, HUNK_LINES), `… ${body.length - HUNK_LINES} more lines`] : body;
  const hunk = [`@@ -${p + 1},${removed.length} +${p + 1},${added.length} @@`, ...shown].join('\n');
  return { path: rel, status, kind, after: now.toString('utf8'), added, addedFrom: p + 1, hunk, sha256, binary: false };
}

/** A small hunk around line `line` (1-based) of a change's new text: the evidence of one match. */
export function hunkAround(c: FileChange, line: number, context = 2): string {
  if (c.after === null) return c.hunk;
  const b = c.after.split('\n');
  const from = Math.max(1, line - context);
  const to = Math.min(b.length, line + context);
  const body: string[] = [];
  for (let i = from; i <= to; i++) {
    const inAdded = i >= c.addedFrom && i < c.addedFrom + c.added.length;
    body.push(`${inAdded ? '+' : ' '}${cap(b[i - 1] ?? '')}`);
  }
  return [`@@ +${from},${to - from + 1} @@ ${c.path}`, ...body].join('\n');
}
