// Per rollout: the scans of its last request bodies (src/core/json-prefix.ts), so that the next
// request, which repeats the conversation so far and adds to it, is read from where they end. Two
// are kept: a harness's main conversation and one side conversation (a title or summary request)
// interleaved with it do not push each other out. Each holds its body's bytes until it is replaced.
import { type BodyScan, scanBody } from '../core/json-prefix.js';

/** Scans remembered per rollout. */
export const PREFIX_ENTRIES = 2;

export class PrefixCache {
  private entries: BodyScan[] = [];
  /** The last scan made and the entry it resumed from (that entry is what it replaces). */
  private last: { scan: BodyScan; from: BodyScan | undefined } | null = null;

  /** `raw` scanned, resumed after the longest prefix it shares with a remembered body; null when it must be parsed whole. */
  scan(raw: Buffer, listKey: string): BodyScan | null {
    const s = scanBody(raw, [listKey], this.entries);
    this.last = s ? { scan: s, from: this.entries[s.source] } : null;
    return s;
  }

  /** Remember a scan (of a body that was accepted) in place of the one it resumed from, else of the oldest. */
  remember(scan: BodyScan): void {
    if (!scan.list) return;
    const from = this.last?.scan === scan ? this.last.from : undefined;
    this.last = null;
    this.entries = [scan, ...this.entries.filter((e) => e !== from)];
    if (this.entries.length > PREFIX_ENTRIES) this.entries.length = PREFIX_ENTRIES;
  }

  /** Bytes held by the remembered bodies. */
  get bytes(): number {
    return this.entries.reduce((n, e) => n + e.raw.length, 0);
  }

  clear(): void {
    this.entries = [];
    this.last = null;
  }
}
