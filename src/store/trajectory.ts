// The trajectory JSONL file: the source of truth of a rollout. Appends are written whole before
// `append` returns (and synced to the disk in the background, or at once: see TrajectoryWriter), so
// after a crash every line is intact except at most the last one (a torn line), which readers
// tolerate and report; a write that fails (a full disk) leaves no fragment and closes the log to
// further appends.
import fs from 'node:fs';
import path from 'node:path';
import { checkEnvelope, type NewEvent, type TrajectoryEvent } from '../core/events.js';
import { asDiskFull } from './disk.js';

export interface ReadResult {
  events: TrajectoryEvent[];
  /** Byte offset and length of each event's line, parallel to `events`. */
  positions: { offset: number; length: number }[];
  /** Set when the last line was incomplete or unparseable (a write torn by a crash). */
  torn: { line: number; bytes: number; reason: string } | null;
  /** Lines other than the last that could not be parsed (should never happen; reported, not fatal). */
  bad: { line: number; reason: string }[];
  /** Byte length of the intact prefix of the file (where the next append should start). */
  intactBytes: number;
}

/** Parse the bytes of a trajectory file. */
export function parseTrajectory(data: Buffer | string): ReadResult {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const out: ReadResult = { events: [], positions: [], torn: null, bad: [], intactBytes: 0 };
  let pos = 0;
  let lineNo = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    const isLast = nl === -1;
    const end = isLast ? buf.length : nl;
    const line = buf.toString('utf8', pos, end);
    lineNo++;
    const next = isLast ? buf.length : nl + 1;
    if (line.trim() === '') {
      if (!isLast) out.intactBytes = next;
      pos = next;
      continue;
    }
    let reason: string | null = null;
    let value: unknown;
    try {
      value = JSON.parse(line);
      reason = checkEnvelope(value);
    } catch (e) {
      reason = `unparseable JSON (${(e as Error).message})`;
    }
    if (isLast) {
      // A last line without its newline is torn even if it happens to parse.
      out.torn = { line: lineNo, bytes: end - pos, reason: reason ?? 'no trailing newline' };
      break;
    }
    if (reason !== null) out.bad.push({ line: lineNo, reason });
    else {
      out.events.push(value as TrajectoryEvent);
      out.positions.push({ offset: pos, length: next - pos });
    }
    pos = next;
    out.intactBytes = next;
  }
  return out;
}

export function readTrajectory(file: string): ReadResult {
  return parseTrajectory(fs.readFileSync(file));
}

/**
 * Read a trajectory from byte `from` on (the start of a line, e.g. where its index ends): the
 * events after it, with positions in the whole file. Line numbers in `torn` and `bad` count from
 * the first line read. `from` past the end reads nothing.
 */
export function readTrajectoryFrom(file: string, from: number): ReadResult {
  if (from <= 0) return readTrajectory(file);
  const fd = fs.openSync(file, 'r');
  let buf: Buffer;
  try {
    const size = fs.fstatSync(fd).size;
    buf = Buffer.allocUnsafe(Math.max(0, size - from));
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, from + got);
      if (n === 0) break;
      got += n;
    }
    buf = buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
  const r = parseTrajectory(buf);
  return { ...r, positions: r.positions.map((p) => ({ offset: p.offset + from, length: p.length })), intactBytes: r.intactBytes + from };
}

/** The runner's sync mode: OUTLAST_FSYNC = batch (default) | always | never. */
export function fsyncMode(env: NodeJS.ProcessEnv = process.env): boolean | 'batch' {
  const v = env.OUTLAST_FSYNC;
  return v === 'always' ? true : v === 'never' ? false : 'batch';
}

/** Events synced before append returns in batch mode: the ends of a rollout, and its grade. */
const SYNC_NOW = new Set(['rollout.started', 'verifier.result', 'rollout.finished']);

/**
 * Bytes kept in reserve beside each open trajectory (`<file>.reserve`), given up when the disk fills.
 * What a rollout still records once the disk is full is its last tool result (capped output), its
 * grade and its end: 1 MiB holds fifteen tool results at the default 64 KiB cap. (It was 8 MiB:
 * writing 800 MB of zeros for a hundred concurrent rollouts cost 2 s of CPU and a burst of disk
 * writes; bench/RESULTS.md, "Concurrent rollouts".)
 */
export const RESERVE_BYTES = 1024 * 1024;
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

/**
 * Appends events to one rollout's trajectory, assigning `t` and `seq`. Opening an existing file
 * continues its sequence; a torn last line is cut off (and reported by `recovered`).
 *
 * The writer cannot lie: an append returns only once its whole line is written (a short write is
 * continued until the line is complete), and only then is its `seq` taken and its listeners told.
 * Written means the OS has it: a crash of outlast (kill -9, the OOM killer) loses nothing that was
 * acknowledged. Reaching the disk itself (against a crash of the machine) is `fsync`'s business: by
 * default ('batch') lines are synced in the background, grouped, at most one sync in flight, and
 * rollout.started, verifier.result and rollout.finished synchronously, so a machine crash loses at
 * most the last moments of a rollout (never its grade once recorded, never a line in the middle);
 * `fsync: true` syncs every line before append returns, blocking the event loop for each (many
 * concurrent rollouts then wait on the disk: bench/RESULTS.md, "Concurrent rollouts"). When a line cannot be written, what was written of it is cut off again, the seq
 * stays free, and the writer fails for good: it throws the same error from every later append and
 * tells its `onFailure` listeners once (the runner stops the rollout, unfinished and resumable). So
 * the log ends at its last durable event, exactly as a crash there would leave it: never a fragment
 * in the middle, never an acknowledged event lost, never a gap in the seqs.
 *
 * A full disk does not lose the end of a rollout: beside the file the writer keeps a reserve of
 * RESERVE_BYTES (`<file>.reserve`); when an append finds the disk full, the partly written line is
 * cut off, the reserve is given up and the append tried again, so what a rollout does up to its end
 * is recorded even after an agent filled the disk. Only when the reserve is gone too does the
 * writer fail, with a DiskFull error naming the file and the bytes the line needed.
 */
export class TrajectoryWriter {
  readonly file: string;
  private fd: number;
  private nextSeq: number;
  private closed = false;
  /** What opening found: the events already there and any torn line that was cut off. */
  readonly recovered: ReadResult;
  private listeners: ((e: TrajectoryEvent, where: { offset: number; length: number }) => void)[] = [];
  private failureListeners: ((err: Error) => void)[] = [];
  private failed: Error | null = null;
  /** Byte size of the file, i.e. the offset of the next line. */
  private size: number;

  /**
   * @param opts.fsync when lines reach the disk itself (not just the OS): `'batch'` (default) syncs
   *   in the background, grouped, the rollout's last events synchronously; `true` syncs every append
   *   before it returns; `false` leaves it to the OS. Every mode survives a crash of outlast (the OS
   *   has each line once append returns); they differ only after a crash of the machine (see above).
   * @param opts.reserve keep a disk reserve beside the file (see above; default false)
   */
  constructor(file: string, opts: { fsync?: boolean | 'batch'; reserve?: boolean } = {}) {
    this.file = file;
    this.fsync = opts.fsync ?? 'batch';
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (fs.existsSync(file)) {
      this.recovered = readTrajectory(file);
      if (this.recovered.torn) fs.truncateSync(file, this.recovered.intactBytes);
    } else {
      this.recovered = { events: [], positions: [], torn: null, bad: [], intactBytes: 0 };
    }
    const last = this.recovered.events[this.recovered.events.length - 1];
    this.nextSeq = last ? last.seq + 1 : 0;
    this.fd = fs.openSync(file, 'a');
    this.size = fs.fstatSync(this.fd).size;
    this.reserve = opts.reserve ? `${file}.reserve` : null;
    if (this.reserve) {
      try {
        if ((fs.statSync(this.reserve, { throwIfNoEntry: false })?.size ?? 0) < RESERVE_BYTES) fs.writeFileSync(this.reserve, Buffer.alloc(RESERVE_BYTES));
      } catch {
        fs.rmSync(this.reserve, { force: true }); // no room for a reserve now: go without
      }
    }
  }

  private readonly reserve: string | null;

  private readonly fsync: boolean | 'batch';
  /** Batch mode: a background sync is running / another is due after it. */
  private syncing = false;
  private syncDue = false;
  /** close() waits for a background sync before closing the fd (the sync must not meet a reused fd). */
  private closeWhenSynced = false;

  /** Events already in the file when it was opened. */
  get existing(): TrajectoryEvent[] {
    return this.recovered.events;
  }

  /** The seq the next append will take. */
  get seq(): number {
    return this.nextSeq;
  }

  /** True once close() was called (the rollout's owner is done with it). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Why the writer failed (every append since throws it), or null. */
  get failure(): Error | null {
    return this.failed;
  }

  /** Called after each append with the line's byte offset and length (store index, monitors, progress), in seq order. */
  onEvent(fn: (e: TrajectoryEvent, where: { offset: number; length: number }) => void): void {
    this.listeners.push(fn);
  }

  /** Called once, when an append first fails (the log is closed to appends from then on). */
  onFailure(fn: (err: Error) => void): void {
    this.failureListeners.push(fn);
  }

  append<E extends NewEvent>(e: E): TrajectoryEvent {
    if (this.closed) throw new Error(`trajectory ${this.file} is closed`);
    if (this.failed) throw this.failed;
    const seq = this.nextSeq;
    const full = { t: new Date().toISOString(), seq, ...e } as TrajectoryEvent;
    const line = Buffer.from(JSON.stringify(full) + '\n');
    try {
      this.writeLine(line);
    } catch (err) {
      throw this.fail(err, line.length);
    }
    // written in full (the OS holds it): now the seq is taken and the event exists
    this.nextSeq = seq + 1;
    if (this.fsync === 'batch') {
      if (SYNC_NOW.has(e.type)) this.syncNow();
      else this.syncSoon();
    }
    const where = { offset: this.size, length: line.length };
    this.size += line.length;
    this.notify(full, where);
    return full;
  }

  /** Events appended by a listener while others are told of an earlier one, told after it. */
  private told: Array<[TrajectoryEvent, { offset: number; length: number }]> = [];
  private telling = false;

  /**
   * Tell the listeners of an appended event. A listener may append (a monitor's flag): that event is
   * written at once (its seq taken) and told to every listener after the current one, so each
   * listener sees the events in seq order.
   */
  private notify(e: TrajectoryEvent, where: { offset: number; length: number }): void {
    this.told.push([e, where]);
    if (this.telling) return;
    this.telling = true;
    try {
      for (let next = this.told.shift(); next; next = this.told.shift()) for (const fn of this.listeners) fn(next[0], next[1]);
    } finally {
      // a listener that threw leaves the events not yet told for the next append to tell first
      this.telling = false;
    }
  }

  /** Write one whole line at the end, or nothing: a short write is continued; a failed one is cut off; a full disk spends the reserve once. */
  private writeLine(line: Buffer): void {
    for (let attempt = 0; ; attempt++) {
      try {
        let done = 0;
        while (done < line.length) {
          const n = fs.writeSync(this.fd, line, done, line.length - done);
          if (n <= 0) throw Object.assign(new Error(`short write to ${this.file}: ${done} of ${line.length} bytes`), { code: 'EIO' });
          done += n;
        }
        if (this.fsync === true) fs.fsyncSync(this.fd);
        return;
      } catch (err) {
        this.cutBack();
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (!DISK_FULL.has(code) || attempt > 0 || !this.reserve || !fs.existsSync(this.reserve)) throw err;
        fs.rmSync(this.reserve, { force: true });
      }
    }
  }

  /** Cut what a failed write left after the last whole line; throws when the file cannot be brought back. */
  private cutBack(): void {
    fs.ftruncateSync(this.fd, this.size);
    const now = fs.fstatSync(this.fd).size;
    if (now !== this.size) throw new Error(`${this.file}: a failed write could not be cut off (${now} bytes, expected ${this.size})`);
  }

  /** Fail for good with `err` (a full disk as DiskFull), telling the failure listeners once. */
  private fail(err: unknown, needed: number): Error {
    this.failed = asDiskFull(err, this.file, needed) ?? (err instanceof Error ? err : new Error(String(err)));
    for (const fn of this.failureListeners.splice(0)) fn(this.failed);
    return this.failed;
  }

  /** Batch mode: sync in the libuv thread pool, one at a time, another after it when lines came meanwhile. */
  private syncSoon(): void {
    if (this.syncing) {
      this.syncDue = true;
      return;
    }
    this.syncing = true;
    fs.fdatasync(this.fd, (err) => {
      this.syncing = false;
      if (this.closeWhenSynced) return fs.closeSync(this.fd);
      if (err && !this.failed) this.fail(err, 0);
      if (this.syncDue && !this.closed) {
        this.syncDue = false;
        this.syncSoon();
      }
    });
  }

  private syncNow(): void {
    try {
      fs.fdatasyncSync(this.fd);
      this.syncDue = false;
    } catch (err) {
      if (!this.failed) this.fail(err, 0);
    }
  }

  /** Close the file (after a last sync) and give the reserve's space back (a resumed writer makes a new one). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fsync === 'batch') {
      try {
        fs.fdatasyncSync(this.fd);
      } catch {
        /* what was written stays written; the next open reads it */
      }
    }
    if (this.syncing) this.closeWhenSynced = true;
    else fs.closeSync(this.fd);
    if (this.reserve) fs.rmSync(this.reserve, { force: true });
  }
}
