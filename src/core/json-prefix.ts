// A request body read for what changed since the last one. A long conversation sends its whole
// history with every request, and each request's bytes start with the previous request's up to the
// end of one of its last list elements (the conversation's messages or input items). `scanBody` finds
// the top-level members of a JSON object body and the elements of its list member, resuming after the
// longest prefix it shares with a previous scan, so it reads only the new bytes. Values are parsed
// only for the top-level members other than the list (small, and needed); the list's new elements are
// parsed by `freshElements`. The prefix is trusted because its bytes are the ones the previous scan
// read in the same structural position. Null whenever anything is unexpected (a duplicate top-level
// key, a `__proto__` key, which a plain object cannot take as data, bytes that are not UTF-8,
// malformed structure): the caller then parses the body as a whole.
import { isUtf8 } from 'node:buffer';
import { BYTE, readKey, skipValue, skipWs } from './json-scan.js';

/** How many of the last element boundaries a scan keeps as resume points for the next one. */
export const RESUME_POINTS = 8;

export interface Member {
  key: string;
  /** Offset of the key's opening quote. */
  start: number;
  valueStart: number;
  /** Offset just past the value. */
  end: number;
}

export interface BodyScan {
  raw: Buffer;
  /** Top-level members in order, the list's among them. */
  members: Member[];
  /** Parsed values of the top-level members, all but the list's. Shared with later scans: never mutate. */
  values: Map<string, unknown>;
  /** The list scanned element by element (null when the body has none, e.g. a string `input`). */
  list: { key: string; member: Member; count: number } | null;
  /** Resume points: boundaries[i] is the offset just after element `base + i - 1` (or just after `[` when that is -1). */
  boundaries: number[];
  base: number;
  /** Elements before this index came from the previous scan; [freshStart, freshEnd) holds the others. */
  fresh: number;
  freshStart: number;
  freshEnd: number;
  /** Bytes of this body taken over from the previous scan without reading them (0 when none). */
  reused: number;
  /** Which of the previous scans it resumed from (an index into `prevs`), -1 when none. */
  source: number;
}

interface Cursor {
  pos: number;
  members: Member[];
  values: Map<string, unknown>;
  count: number;
  boundaries: number[];
  base: number;
}

/** The resume point of `prev` that `raw` shares the most bytes with, or null. */
function resumeFrom(raw: Buffer, prev: BodyScan): Cursor | null {
  if (!prev.list) return null;
  const b = prev.boundaries;
  const same = (from: number, to: number) => to <= raw.length && raw.compare(prev.raw, from, to, from, to) === 0;
  for (let i = b.length - 1; i >= 1; i--) {
    if (!same(b[i - 1]!, b[i]!)) continue;
    if (!same(0, b[i - 1]!)) return null;
    return cursorAt(prev, i);
  }
  return prev.base === 0 && same(0, b[0]!) ? cursorAt(prev, 0) : null;
}

function cursorAt(prev: BodyScan, i: number): Cursor {
  const listAt = prev.members.indexOf(prev.list!.member);
  const members = prev.members.slice(0, listAt);
  const values = new Map<string, unknown>();
  for (const m of members) values.set(m.key, prev.values.get(m.key));
  return { pos: prev.boundaries[i]!, members, values, count: prev.base + i, boundaries: prev.boundaries.slice(0, i + 1), base: prev.base };
}

/**
 * Scan `raw` (a JSON object) with `listKeys` naming the list member, resuming after the longest
 * prefix it shares with one of `prevs` (whose list has one of `listKeys` for key).
 */
export function scanBody(raw: Buffer, listKeys: readonly string[], prevs: readonly (BodyScan | null)[] = []): BodyScan | null {
  let cur: Cursor | null = null;
  let source = -1;
  prevs.forEach((prev, i) => {
    if (!prev?.list || !listKeys.includes(prev.list.key)) return;
    const c = resumeFrom(raw, prev);
    if (c && (!cur || c.pos > cur.pos)) [cur, source] = [c, i];
  });
  const reused = cur ? (cur as Cursor).pos : 0;
  if (!isUtf8(raw.subarray(reused))) return null;
  try {
    const from = source >= 0 ? prevs[source]! : null;
    const s = cur && from ? resumeList(raw, cur, from.list!.member, from, reused) : scanFromStart(raw, listKeys);
    if (s) s.source = source;
    return s;
  } catch {
    return null; // a member's value that JSON.parse refused
  }
}

function scanFromStart(raw: Buffer, listKeys: readonly string[]): BodyScan | null {
  let p = skipWs(raw, 0);
  if (raw[p] !== BYTE.OPEN_OBJ) return null;
  const cur: Cursor = { pos: skipWs(raw, p + 1), members: [], values: new Map(), count: 0, boundaries: [], base: 0 };
  if (raw[cur.pos] === BYTE.CLOSE_OBJ) return finish(raw, cur, null, cur.pos + 1, 0, 0, 0, 0);
  for (;;) {
    const k = readKey(raw, cur.pos);
    if (!k || k.key === '__proto__' || cur.members.some((m) => m.key === k.key)) return null;
    p = skipWs(raw, k.end);
    if (raw[p] !== BYTE.COLON) return null;
    const valueStart = skipWs(raw, p + 1);
    if (listKeys.includes(k.key) && raw[valueStart] === BYTE.OPEN_ARR) {
      const at = { key: k.key, start: cur.pos, valueStart, end: -1 };
      cur.pos = valueStart + 1;
      cur.boundaries = [cur.pos];
      return resumeList(raw, cur, at, null, 0);
    }
    const end = skipValue(raw, valueStart);
    if (end < 0) return null;
    cur.members.push({ key: k.key, start: cur.pos, valueStart, end });
    cur.values.set(k.key, JSON.parse(raw.toString('utf8', valueStart, end)));
    p = skipWs(raw, end);
    if (raw[p] === BYTE.CLOSE_OBJ) return finish(raw, cur, null, p + 1, 0, 0, 0, 0);
    if (raw[p] !== BYTE.COMMA) return null;
    cur.pos = skipWs(raw, p + 1);
  }
}

/** From a resume point inside the list: its remaining elements, then the members after it. */
function resumeList(raw: Buffer, cur: Cursor, at: Member, prev: BodyScan | null, reused: number): BodyScan | null {
  const fresh = cur.count;
  let p = skipWs(raw, cur.pos);
  let freshStart = -1;
  let freshEnd = -1;
  while (raw[p] !== BYTE.CLOSE_ARR) {
    if (cur.count > 0) {
      if (raw[p] !== BYTE.COMMA) return null;
      p = skipWs(raw, p + 1);
    }
    const end = skipValue(raw, p);
    if (end < 0) return null;
    if (freshStart < 0) freshStart = p;
    freshEnd = end;
    cur.count++;
    cur.boundaries.push(end);
    p = skipWs(raw, end);
  }
  const listMember: Member = { key: at.key, start: at.start, valueStart: at.valueStart, end: p + 1 };
  cur.members.push(listMember);
  const close = afterList(raw, cur, p + 1, prev);
  if (close < 0) return null;
  return finish(raw, cur, listMember, close, fresh, freshStart < 0 ? p : freshStart, freshStart < 0 ? p : freshEnd, reused);
}

/** The members after the list; returns the offset past the closing brace, or -1. */
function afterList(raw: Buffer, cur: Cursor, from: number, prev: BodyScan | null): number {
  let p = skipWs(raw, from);
  while (raw[p] !== BYTE.CLOSE_OBJ) {
    if (raw[p] !== BYTE.COMMA) return -1;
    const start = skipWs(raw, p + 1);
    const k = readKey(raw, start);
    if (!k || k.key === '__proto__' || cur.members.some((m) => m.key === k.key)) return -1;
    p = skipWs(raw, k.end);
    if (raw[p] !== BYTE.COLON) return -1;
    const valueStart = skipWs(raw, p + 1);
    const end = skipValue(raw, valueStart);
    if (end < 0) return -1;
    cur.members.push({ key: k.key, start, valueStart, end });
    cur.values.set(k.key, sameValue(raw, valueStart, end, k.key, prev) ?? JSON.parse(raw.toString('utf8', valueStart, end)));
    p = skipWs(raw, end);
  }
  return p + 1;
}

/** The previous scan's parsed value for `key` when its bytes are the same (tools, system prompts...). */
function sameValue(raw: Buffer, start: number, end: number, key: string, prev: BodyScan | null): unknown {
  const m = prev?.members.find((x) => x.key === key);
  if (!m || m.end - m.valueStart !== end - start || raw.compare(prev!.raw, m.valueStart, m.end, start, end) !== 0) return undefined;
  return prev!.values.get(key);
}

function finish(raw: Buffer, cur: Cursor, list: Member | null, close: number, fresh: number, freshStart: number, freshEnd: number, reused: number): BodyScan | null {
  if (skipWs(raw, close) !== raw.length) return null;
  const drop = Math.max(0, cur.boundaries.length - (RESUME_POINTS + 1));
  return {
    raw,
    members: cur.members,
    values: cur.values,
    list: list ? { key: list.key, member: list, count: cur.count } : null,
    boundaries: drop ? cur.boundaries.slice(drop) : cur.boundaries,
    base: cur.base + drop,
    fresh,
    freshStart,
    freshEnd,
    reused,
    source: -1,
  };
}

/** The list's elements this scan read (those after the reused prefix), parsed. Throws what JSON.parse throws. */
export function freshElements(scan: BodyScan): unknown[] {
  if (!scan.list || scan.freshEnd <= scan.freshStart) return [];
  return JSON.parse(`[${scan.raw.toString('utf8', scan.freshStart, scan.freshEnd)}]`) as unknown[];
}

/** The list's last element, parsed (null when the list is empty). */
export function lastElement(scan: BodyScan): unknown {
  if (!scan.list || scan.list.count === 0) return null;
  const b = scan.boundaries;
  const end = b[b.length - 1]!;
  let p = skipWs(scan.raw, b[b.length - 2] ?? scan.list.member.valueStart + 1);
  if (scan.raw[p] === BYTE.COMMA) p = skipWs(scan.raw, p + 1);
  return JSON.parse(scan.raw.toString('utf8', p, end));
}
