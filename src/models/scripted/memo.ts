// What the scripted model computes once per element of a conversation (normalised messages, prompt
// lines), kept on the element.
const memos = new Map<(m: any) => unknown, symbol>();

/**
 * `fn(m)` for a request body's element `m`, computed once per element object: a long conversation's
 * elements are the same objects from one request to the next (body.ts), so normalising a request
 * costs what is new in it. Kept on the element itself (a hidden property, not a weak map: a weak map
 * with an entry per element of a long conversation slows every garbage collection in proportion).
 * The results are shared between requests: nobody may change them.
 */
export function memo<T>(m: unknown, fn: (m: any) => T): T {
  if (m === null || typeof m !== 'object') return fn(m);
  let key = memos.get(fn);
  if (!key) memos.set(fn, (key = Symbol(fn.name)));
  const o = m as Record<symbol, T>;
  if (Object.hasOwn(o, key)) return o[key]!;
  const v = fn(m);
  Object.defineProperty(o, key, { value: v, enumerable: false });
  return v;
}
