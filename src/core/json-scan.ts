// A small structural scanner over JSON bytes: where a value starts and ends, without building it.
// It checks only the structure it walks (brackets, string quotes, where a value may end); what lies
// inside a value is checked by whoever parses that value's bytes (JSON.parse). Every function returns
// -1 (or null) on anything it does not expect, and its callers then take their slow, exact path.
// Iterative, so hostile nesting cannot exhaust the stack; nesting deeper than MAX_DEPTH is
// "unexpected" too (the exact path decides whether such a body can be handled at all).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;

/** The deepest nesting a scanned value may have. */
export const MAX_DEPTH = 256;

/** JSON's whitespace (space, tab, LF, CR), nothing else. */
export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The offset of the first non-whitespace byte at or after `p` (buf.length at the end). */
export function skipWs(buf: Uint8Array, p: number): number {
  while (p < buf.length && isWs(buf[p]!)) p++;
  return p;
}

/** The offset just past the string whose opening quote is at `p`, or -1. */
export function skipString(buf: Uint8Array, p: number): number {
  const n = buf.length;
  p++;
  while (p < n) {
    const c = buf[p++]!;
    if (c === QUOTE) return p;
    if (c === BACKSLASH) p++;
  }
  return -1;
}

/** Whether `c` may follow a scalar (a number or a literal): a delimiter or whitespace. */
function endsScalar(c: number): boolean {
  return c === COMMA || c === CLOSE_OBJ || c === CLOSE_ARR || isWs(c);
}

/** The offset just past the value that starts at `p` (no leading whitespace), or -1. */
export function skipValue(buf: Uint8Array, p: number): number {
  const n = buf.length;
  if (p >= n) return -1;
  const first = buf[p]!;
  if (first === QUOTE) return skipString(buf, p);
  if (first !== OPEN_OBJ && first !== OPEN_ARR) {
    if (endsScalar(first) || first === COLON) return -1;
    while (p < n && !endsScalar(buf[p]!)) p++;
    return p;
  }
  let depth = 0;
  while (p < n) {
    const c = buf[p]!;
    if (c === QUOTE) {
      p = skipString(buf, p);
      if (p < 0) return -1;
      continue;
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (++depth > MAX_DEPTH) return -1;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      if (--depth === 0) return p + 1;
    }
    p++;
  }
  return -1;
}

/** An object key at `p` (its opening quote): the decoded key and the offset past its closing quote. */
export function readKey(buf: Buffer, p: number): { key: string; end: number } | null {
  if (buf[p] !== QUOTE) return null;
  const end = skipString(buf, p);
  if (end < 0) return null;
  let plain = true;
  for (let i = p + 1; i < end - 1; i++) {
    const c = buf[i]!;
    if (c === BACKSLASH || c < 0x20) {
      plain = false;
      break;
    }
  }
  if (plain) return { key: buf.toString('utf8', p + 1, end - 1), end };
  try {
    return { key: JSON.parse(buf.toString('utf8', p, end)) as string, end };
  } catch {
    return null;
  }
}

export const BYTE = { QUOTE, COMMA, COLON, OPEN_OBJ, CLOSE_OBJ, OPEN_ARR, CLOSE_ARR } as const;
