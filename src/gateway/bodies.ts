// Recorded request and response bodies (`[gateway] record_bodies = true`): what a harness really
// sent and received, kept beside the rollout's log in `bodies/`, content-addressed. A request is
// stored as its messages (each once, by hash) chained like a linked list, so the prefix a long
// conversation repeats on every call is stored once, plus a manifest with the other fields; a
// response is stored as its text. Events reference them as `sha256:<hex>`.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const REF = /^sha256:([0-9a-f]{64})$/;

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The array of conversation items in a request body (`messages` or Responses' `input`), if any. */
function listKey(body: Record<string, unknown>): string | null {
  if (Array.isArray(body.messages)) return 'messages';
  if (Array.isArray(body.input)) return 'input';
  return null;
}

export class BodyStore {
  private readonly known = new Set<string>();
  /** The first write error, if any (recording then stops; the call itself is unaffected). */
  error: string | null = null;

  constructor(readonly dir: string) {}

  private put(text: string): string {
    const h = sha(text);
    if (!this.known.has(h)) {
      fs.mkdirSync(this.dir, { recursive: true });
      try {
        fs.writeFileSync(path.join(this.dir, h), text, { flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      this.known.add(h);
    }
    return h;
  }

  private guarded(fn: () => string): string | undefined {
    if (this.error) return undefined;
    try {
      return `sha256:${fn()}`;
    } catch (e) {
      this.error = (e as Error).message;
      return undefined;
    }
  }

  /** Store a request body; returns its reference (undefined when storing failed). */
  putRequest(body: Record<string, unknown>): string | undefined {
    return this.guarded(() => {
      const key = listKey(body);
      let head: string | null = null;
      const items = key ? (body[key] as unknown[]) : [];
      for (const item of items) head = this.put(JSON.stringify({ prev: head, item: this.put(JSON.stringify(item)) }));
      const fields = { ...body };
      if (key) delete fields[key];
      return this.put(JSON.stringify({ kind: 'request', list_key: key, list: head, items: items.length, fields }));
    });
  }

  /** Store a response body (JSON text or the SSE text as sent to the client). */
  putResponse(text: string): string | undefined {
    return this.guarded(() => this.put(JSON.stringify({ kind: 'response', text })));
  }
}

/** The body a reference names: a request body (object) or a response's text. Throws on a bad or missing reference. */
export function readRecordedBody(dir: string, ref: string): { kind: 'request'; body: Record<string, unknown> } | { kind: 'response'; text: string } {
  const m = REF.exec(ref);
  if (!m) throw new Error(`not a body reference: ${ref}`);
  const read = (h: string) => JSON.parse(fs.readFileSync(path.join(dir, h), 'utf8'));
  const top = read(m[1]!);
  if (top.kind === 'response') return { kind: 'response', text: top.text };
  const items: unknown[] = [];
  for (let node = top.list as string | null; node; ) {
    const n = read(node);
    items.push(read(n.item));
    node = n.prev;
  }
  items.reverse();
  return { kind: 'request', body: top.list_key ? { ...top.fields, [top.list_key]: items } : top.fields };
}
