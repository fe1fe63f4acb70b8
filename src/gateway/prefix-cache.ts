// Per rollout: the scans of its last request bodies (src/core/json-prefix.ts), so that the next
// request, which repeats the conversation so far and adds to it, is read from where they end. Two
// are kept: a harness's main conversation and one side conversation (a title or summary request)
// interleaved with it do not push each other out. Bodies are read into the rollout's pool of reused
// buffers (body-pool.ts); a remembered scan holds its body's buffer until it is replaced.
import { type BodyScan, scanBody } from '../core/json-prefix.js';
import { BodyPool, PooledSink } from './body-pool.js';
import type { BodySink } from './stages/body.js';

/** Scans remembered per rollout. */
export const PREFIX_ENTRIES = 2;

export class PrefixCache {
  private entries: BodyScan[] = [];
  private readonly pool = new BodyPool();
  /** The last scan made and the entry it resumed from (that entry is what it replaces). */
  private last: { scan: BodyScan; from: BodyScan | undefined } | null = null;

  /** Where to read the rollout's next request body. */
  sink(): BodySink {
    return new PooledSink(this.pool);
  }

  /** `raw` scanned, resumed after the longest prefix it shares with a remembered body; null when it must be parsed whole. */
  scan(raw: Buffer, listKey: string): BodyScan | null {
    const s = scanBody(raw, [listKey], this.entries);
    this.last = s ? { scan: s, from: this.entries[s.source] } : null;
    return s;
  }

  /** Remember a scan (of a body that was accepted) in place of the one it resumed from, else of the oldest. */
  remember(scan: BodyScan): void {
    if (!scan.list || this.entries.includes(scan)) return;
    const from = this.last?.scan === scan ? this.last.from : undefined;
    this.last = null;
    const next = [scan, ...this.entries.filter((e) => e !== from)].slice(0, PREFIX_ENTRIES);
    this.pool.hold(scan.raw);
    for (const e of this.entries) if (!next.includes(e)) this.pool.release(e.raw);
    this.entries = next;
  }

  /** Bytes held by the remembered bodies. */
  get bytes(): number {
    return this.entries.reduce((n, e) => n + e.raw.length, 0);
  }

  clear(): void {
    for (const e of this.entries) this.pool.release(e.raw);
    this.entries = [];
    this.last = null;
  }
}
