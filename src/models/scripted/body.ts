// Request bodies parsed in proportion to what is new. A long conversation sends its whole history
// each time; the server remembers its last few bodies as scanned (src/core/json-prefix.ts) with their
// parsed list elements, and a body that extends one of them is parsed from where that one ends: the
// elements before are the same objects as last time (never mutated by the server). What the server
// derives from a conversation's elements (its normalised messages, conversation.ts) is kept with the
// body for the next one to extend. A body the scan does not take is parsed whole (JSON.parse, whose
// error the client then sees).
import { type BodyScan, freshElements, scanBody } from '../../core/json-prefix.js';

/** Bodies remembered (a few rollouts sharing one server keep their own conversations). */
const ENTRIES = 4;

interface Entry {
  scan: BodyScan;
  elements: unknown[];
  derived: unknown;
}

/** A body parsed: how many of its list's elements are the previous body's, what was derived from that body, and where to keep what is derived from this one. */
export interface ReadBody {
  body: unknown;
  reused: number;
  prior: unknown;
  keep(derived: unknown): void;
}

export class BodyReader {
  private entries: Entry[] = [];

  /** The body parsed (throws JSON.parse's error when it is not JSON); `listKey` names the conversation's list. */
  parse(raw: Buffer, listKey: string): ReadBody {
    const scan = scanBody(raw, [listKey], this.entries.map((e) => e.scan));
    let fresh: unknown[] | null = null;
    try {
      if (scan) fresh = freshElements(scan);
    } catch {
      fresh = null;
    }
    if (!scan || !fresh) return { body: JSON.parse(raw.toString('utf8')), reused: 0, prior: undefined, keep: () => {} };
    const from = scan.source >= 0 ? this.entries[scan.source]! : null;
    const reused = from ? scan.fresh : 0;
    const elements = from && reused > 0 ? from.elements.slice(0, reused).concat(fresh) : fresh;
    const body: Record<string, unknown> = {};
    for (const m of scan.members) body[m.key] = scan.list && m.key === scan.list.key ? elements : scan.values.get(m.key);
    const entry: Entry = { scan, elements, derived: undefined };
    if (scan.list) {
      this.entries = [entry, ...this.entries.filter((e) => e !== from)];
      if (this.entries.length > ENTRIES) this.entries.length = ENTRIES;
    }
    return { body, reused, prior: from?.derived, keep: (d) => void (entry.derived = d) };
  }
}
