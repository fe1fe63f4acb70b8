// Host-side handling of directory trees the agent made (its workspace): copying one (the snapshot the
// verifier grades, a task's starting workspace into a rollout) and removing one. Whatever the agent
// left there, these never follow a symlink, never open anything but a regular file (non-blocking,
// no-follow, type-checked after opening), never recurse (an explicit stack: no depth limit of their
// own), take names as bytes (non-UTF-8 names survive), and never block the event loop. What a copy
// refuses because of the tree's content (over the size or file-count quota, deeper or longer paths
// than the kernel can open) is a TreeRefused: the agent's doing, reported with the reason.
//
// Sparse files count at their apparent size (what a reader sees), so a terabyte of holes is over
// any quota instead of a terabyte written out densely.
import { spawnTree, spawner } from './spawner.js';
import { constants as C, promises as fs } from 'node:fs';
import path from 'node:path';
import type { WorkspaceQuota } from '../core/types.js';

/** What a tree may hold. */
export interface TreeLimits {
  /** Total apparent size of the regular files, in bytes. */
  maxBytes: number;
  /** Entries of any kind (files, directories, links, others). */
  maxEntries: number;
  /** Directory nesting below the root. */
  maxDepth: number;
  /** Length in bytes of any entry's path relative to the root. */
  maxPathBytes: number;
}

export const DEFAULT_TREE_LIMITS: TreeLimits = {
  maxBytes: 4 * 1024 ** 3,
  maxEntries: 200_000,
  maxDepth: 128,
  maxPathBytes: 3000,
};

/** The limits of a workspace under a task's quota (depth and path length as any tree a kernel can still open). */
export function quotaLimits(q: WorkspaceQuota): TreeLimits {
  return { ...DEFAULT_TREE_LIMITS, maxBytes: q.mb * 1024 * 1024, maxEntries: q.files };
}

export interface CopyReport {
  files: number;
  dirs: number;
  symlinks: number;
  /** Apparent bytes of the regular files. */
  bytes: number;
  /** Entries left out because they are not files, directories or links (FIFOs, sockets, devices). */
  skipped: string[];
  /** Symlinks left out by the copy's symlink policy. */
  dropped_links: string[];
  /** Files and directories whose setuid/setgid bit was cleared. */
  cleared_setid: number;
}

export interface CopyOptions {
  limits?: TreeLimits;
  /** Owner of every copied entry (lchown; needs root). Default: whoever runs outlast. */
  owner?: { uid: number; gid: number };
  /** Give the group the owner's permission bits (the verifier reaches the agent's files through the group). */
  groupLikeOwner?: boolean;
  /** Decides, once the whole tree is copied, which symlinks stay (see sandboxLinkPolicy). Default: all stay. */
  keepLink?: (linkRel: Buffer, copyRoot: string) => Promise<boolean>;
}

/** The tree breaks a limit or cannot be read as a tree: the doing of whoever made it (the agent). */
export class TreeRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TreeRefused';
  }
}

/** How many names a report lists before it only counts. */
const LIST_MAX = 20;
const CHUNK = 1024 * 1024;
const SLASH = Buffer.from('/');

function join(a: Buffer, b: Buffer): Buffer {
  return a.length === 0 ? b : Buffer.concat([a, SLASH, b]);
}

/** A byte path as text for a report (invalid UTF-8 shown with replacement characters). */
export function shownName(p: Buffer): string {
  return p.toString('utf8');
}

/** Codes that mean the tree itself is unreadable as a tree (not an infrastructure failure). */
const CONTENT_ERRORS = new Set(['ENAMETOOLONG', 'ELOOP', 'EILSEQ', 'EOVERFLOW']);

/** One entry the walk met, with its lstat. */
interface Visit {
  rel: Buffer;
  st: import('node:fs').Stats;
  depth: number;
}

/**
 * Walk the tree at `root` (iteratively, lstat only, names as bytes), checking `limits` as it goes
 * (TreeRefused as soon as one is broken), and call `visit` for every entry below the root, parents
 * before children; a directory is read after its visit returns.
 */
async function walkTree(root: Buffer, limits: TreeLimits, visit: (v: Visit) => Promise<void>): Promise<{ bytes: number; entries: number }> {
  let bytes = 0;
  let entries = 0;
  const stack: Array<{ rel: Buffer; depth: number }> = [{ rel: Buffer.alloc(0), depth: 0 }];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const ent of await fs.readdir(join(root, d.rel), { withFileTypes: true, encoding: 'buffer' })) {
      const rel = join(d.rel, ent.name as unknown as Buffer);
      if (++entries > limits.maxEntries) throw new TreeRefused(`the workspace holds more than ${limits.maxEntries} entries (files, directories and links)`);
      if (rel.length > limits.maxPathBytes) throw new TreeRefused(`the workspace has a path longer than ${limits.maxPathBytes} bytes: ${shownName(rel).slice(0, 80)}...`);
      const st = await fs.lstat(join(root, rel));
      if (st.isDirectory()) {
        if (d.depth + 1 > limits.maxDepth) throw new TreeRefused(`the workspace nests directories deeper than ${limits.maxDepth} levels`);
      } else if (st.isFile()) {
        bytes += st.size;
        if (bytes > limits.maxBytes) throw new TreeRefused(`the workspace holds more than ${formatBytes(limits.maxBytes)} (apparent size, sparse files counted in full)`);
      }
      await visit({ rel, st, depth: d.depth + 1 });
      if (st.isDirectory()) stack.push({ rel, depth: d.depth + 1 });
    }
  }
  return { bytes, entries };
}

/** Walk a tree only to check it against `limits`: its apparent bytes and entries, or TreeRefused. */
export async function measureTree(root: string, limits: TreeLimits): Promise<{ bytes: number; entries: number }> {
  return walkTree(Buffer.from(root), limits, async () => {});
}

/**
 * Copy the tree at `src` into a new directory `dst` (its parent must exist; `dst` must not).
 * Regular files, directories and symlinks (as links) are copied; anything else is skipped and
 * listed. Permission bits are kept without setuid/setgid/sticky. Over a limit: TreeRefused, and
 * nothing is left at `dst`.
 */
export async function copyTree(src: string, dst: string, opts: CopyOptions = {}): Promise<CopyReport> {
  const limits = opts.limits ?? DEFAULT_TREE_LIMITS;
  const r: CopyReport = { files: 0, dirs: 0, symlinks: 0, bytes: 0, skipped: [], dropped_links: [], cleared_setid: 0 };
  const srcRoot = Buffer.from(src);
  const dstRoot = Buffer.from(dst);
  const links: Buffer[] = [];
  const modeOf = (m: number): number => {
    if (m & 0o6000) r.cleared_setid++;
    let mode = m & 0o777;
    if (opts.groupLikeOwner) mode = (mode & ~0o070) | ((mode & 0o700) >> 3);
    return mode;
  };
  const own = async (p: Buffer): Promise<void> => {
    if (opts.owner) await fs.lchown(p, opts.owner.uid, opts.owner.gid);
  };
  try {
    const top = await fs.lstat(srcRoot);
    if (!top.isDirectory()) throw new TreeRefused(`${src} is not a directory`);
    // Check the whole tree before writing a byte: an agent that filled the disk is refused, not copied.
    await walkTree(srcRoot, limits, async () => {});
    await fs.mkdir(dstRoot, { mode: 0o700 });
    const dirModes: Array<{ rel: Buffer; mode: number }> = [{ rel: Buffer.alloc(0), mode: top.mode }];
    r.dirs++;
    const { bytes } = await walkTree(srcRoot, limits, async ({ rel, st }) => {
      const a = join(srcRoot, rel);
      const b = join(dstRoot, rel);
      if (st.isDirectory()) {
        await fs.mkdir(b, { mode: 0o700 });
        dirModes.push({ rel, mode: st.mode });
        r.dirs++;
      } else if (st.isFile()) {
        await copyFile(a, b, modeOf(st.mode));
        await own(b);
        r.files++;
      } else if (st.isSymbolicLink()) {
        await fs.symlink(await fs.readlink(a, { encoding: 'buffer' }), b);
        await own(b);
        links.push(rel);
        r.symlinks++;
      } else if (r.skipped.length < LIST_MAX) r.skipped.push(shownName(rel));
      else if (r.skipped.length === LIST_MAX) r.skipped.push('...');
    });
    r.bytes = bytes;
    // Directory modes last (a read-only directory must stay writable while it is filled), deepest first.
    for (const { rel, mode } of dirModes.reverse()) {
      const p = join(dstRoot, rel);
      await fs.chmod(p, modeOf(mode));
      await own(p);
    }
    if (opts.keepLink) {
      // judge every link on the whole copy first, then drop: the verdicts do not depend on the order
      const drop: Buffer[] = [];
      for (const rel of links) if (!(await opts.keepLink(rel, dst))) drop.push(rel);
      for (const rel of drop) {
        await fs.unlink(join(dstRoot, rel));
        r.symlinks--;
        if (r.dropped_links.length < LIST_MAX) r.dropped_links.push(shownName(rel));
      }
    }
    return r;
  } catch (err) {
    if (!(err instanceof TreeRefused) || (await fs.lstat(dstRoot).catch(() => null))) await removeTree(dst).catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    if (code && CONTENT_ERRORS.has(code)) throw new TreeRefused(`the workspace cannot be copied: ${(err as Error).message}`);
    if ((code === 'ENOSPC' || code === 'EDQUOT') && (await tookTheDisk(src))) {
      throw new TreeRefused(`the workspace filled the disk (${code}): there is no room left to copy it for grading`);
    }
    throw err;
  }
}

/** Copy one regular file without following a link or blocking on a FIFO; returns the bytes copied. */
async function copyFile(from: Buffer, to: Buffer, mode: number): Promise<number> {
  const src = await fs.open(from, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  try {
    const st = await src.stat();
    if (!st.isFile()) throw new TreeRefused(`${shownName(from)} changed while it was copied`);
    const dst = await fs.open(to, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, mode);
    try {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, st.size)));
      let total = 0;
      for (;;) {
        const { bytesRead } = await src.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        await dst.write(buf, 0, bytesRead);
        total += bytesRead;
      }
      await dst.chmod(mode);
      return total;
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

/** Free space (bytes, inodes) under which the disk counts as nearly full (a rollout's log and index still need room). */
export const LOW_DISK_BYTES = 64 * 1024 * 1024;
export const LOW_DISK_INODES = 2000;

/** True when the filesystem holding `p` has less than LOW_DISK_BYTES or LOW_DISK_INODES free. */
export async function diskNearlyFull(p: string): Promise<boolean> {
  try {
    const st = await fs.statfs(p);
    // a filesystem without an inode count (files = 0, e.g. btrfs) never runs out of inodes
    return st.bavail * st.bsize < LOW_DISK_BYTES || (st.files > 0 && st.ffree < LOW_DISK_INODES);
  } catch {
    return false;
  }
}

/**
 * Whether the tree at `dir` is what filled its disk: it holds at least as many bytes as are still
 * free, or as many entries as there are free inodes. Decides, when copying it failed for lack of
 * space, whether that is the doing of whoever filled it (the agent) or of a disk too small.
 */
export async function tookTheDisk(dir: string): Promise<boolean> {
  try {
    const st = await fs.statfs(dir);
    const used = await measureTree(dir, { maxBytes: Infinity, maxEntries: Infinity, maxDepth: Infinity, maxPathBytes: Infinity });
    return used.bytes >= st.bavail * st.bsize || (st.files > 0 && used.entries >= st.ffree);
  } catch {
    return false;
  }
}

/**
 * Remove a tree of any depth (rm -rf: it walks by file descriptor, unlike fs.rm), never following
 * links. Started by the spawner process when there is one (spawner.ts), so outlast's event loop does
 * not wait out a fork() of its whole heap.
 */
export async function removeTree(dir: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawnTree({ file: 'rm', args: ['-rf', '--one-file-system', '--', dir], stdin: '', cap: 4096 }, spawner(null));
    let code: number | null = null;
    child.on('error', reject);
    child.on('exit', (c: number | null) => (code = c));
    child.on('close', (c: { output: string }) => (code === 0 ? resolve() : reject(new Error(`cannot remove ${dir}: ${c.output.trim().split('\n')[0] || `rm exited ${code}`}`))));
  });
}

function formatBytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`;
}

/** The places a link in the verifier's copy may lead to, besides the workspace itself. */
const SYSTEM_ROOTS = ['/usr', '/etc', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
const SAFE_DEVICES = new Set(['/dev/null', '/dev/zero', '/dev/random', '/dev/urandom']);
const MAX_HOPS = 40;

/**
 * The symlink policy of the verifier's copy: a link stays only if, resolved the way the kernel will
 * resolve it inside the verifier's sandbox (every hop followed, `..` after a link taken from where the
 * link led), it ends inside the workspace, in the read-only system (/usr, /etc, ...), or at a harmless
 * device. A link into /tests, /logs, /proc, /outlast, / or anything else the verifier sees and the
 * agent did not is dropped: `output.txt -> /tests/expected_output.txt` cannot pass a comparison.
 */
export function sandboxLinkPolicy(workdir: string, systemRoot = '/'): (linkRel: Buffer, copyRoot: string) => Promise<boolean> {
  // Paths are handled as latin1 strings: one character per byte, so any name survives the round trip.
  const bytes = (s: string): string => Buffer.from(s).toString('latin1');
  const wd = bytes(workdir);
  const sys = bytes(systemRoot);
  const isSystem = (p: string): boolean => SYSTEM_ROOTS.some((r) => p === r || p.startsWith(`${r}/`));
  return async (linkRel, copyRoot) => {
    const root = bytes(copyRoot);
    const inside = (p: string): string | null => {
      if (p === wd) return root;
      if (p.startsWith(`${wd}/`)) return path.posix.join(root, p.slice(wd.length + 1));
      return null;
    };
    // Walk the components of the link's own path (real directories of the copy), then of each
    // target it leads to, keeping `cur` as the sandbox path resolved so far.
    let pending = path.posix.join(wd, linkRel.toString('latin1')).split('/').filter(Boolean);
    let cur = '/';
    let hops = 0;
    while (pending.length > 0) {
      const c = pending.shift()!;
      if (c === '.') continue;
      if (c === '..') {
        cur = path.posix.dirname(cur);
        continue;
      }
      const next = cur === '/' ? `/${c}` : `${cur}/${c}`;
      const host = inside(next) ?? (isSystem(next) ? path.posix.join(sys, next) : null);
      if (host === null) {
        if (pending.length === 0 && SAFE_DEVICES.has(next)) return true;
        if (next === '/dev' && pending.length > 0) {
          cur = next; // on the way to a device (judged at the next component)
          continue;
        }
        return false;
      }
      let st;
      try {
        st = await fs.lstat(Buffer.from(host, 'latin1'));
      } catch {
        cur = next; // missing: harmless wherever it stays
        continue;
      }
      cur = next;
      if (!st.isSymbolicLink()) continue;
      if (++hops > MAX_HOPS) return false;
      const target = (await fs.readlink(Buffer.from(host, 'latin1'), { encoding: 'buffer' })).toString('latin1');
      cur = target.startsWith('/') ? '/' : path.posix.dirname(cur);
      pending = [...target.split('/').filter(Boolean), ...pending];
    }
    return inside(cur) !== null || isSystem(cur) || SAFE_DEVICES.has(cur);
  };
}
