// Request bodies parsed in proportion to what is new. A long conversation sends its whole history
// each time; the server remembers its last few bodies as scanned (src/core/json-prefix.ts) with their
// parsed list elements, and a body that extends one of them is parsed from where that one ends: the
// elements before are the same objects as last time (never mutated by the server, and memoised by
// the protocol modules' normalisers). A body the scan does not take is parsed whole (JSON.parse,
// whose error the client then sees).
import { type BodyScan, freshElements, scanBody } from '../../core/json-prefix.js';

/** Bodies remembered (a few rollouts sharing one server keep their own conversations). */
const ENTRIES = 4;

interface Entry {
  scan: BodyScan;
  elements: unknown[];
}

export class BodyReader {
  private entries: Entry[] = [];

  /** The body parsed (throws JSON.parse's error when it is not JSON); `listKey` names the conversation's list. */
  parse(raw: Buffer, listKey: string): unknown {
    const scan = scanBody(raw, [listKey], this.entries.map((e) => e.scan));
    let fresh: unknown[] | null = null;
    try {
      if (scan) fresh = freshElements(scan);
    } catch {
      fresh = null;
    }
    if (!scan || !fresh) return JSON.parse(raw.toString('utf8'));
    const from = scan.source >= 0 ? this.entries[scan.source]! : null;
    const elements = from && scan.fresh > 0 ? from.elements.slice(0, scan.fresh).concat(fresh) : fresh;
    const body: Record<string, unknown> = {};
    for (const m of scan.members) body[m.key] = scan.list && m.key === scan.list.key ? elements : scan.values.get(m.key);
    if (scan.list) {
      this.entries = [{ scan, elements }, ...this.entries.filter((e) => e !== from)];
      if (this.entries.length > ENTRIES) this.entries.length = ENTRIES;
    }
    return body;
  }
}
