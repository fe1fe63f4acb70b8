// Hidden test sources kept out of the trajectory. The verifier's output (and the command lines of the
// agent-run calls it made) may show lines of the task's tests/ files: a traceback quoting a test, or
// agent code that printed a test file it could read. Before the output is recorded, every output line
// that equals a tests/ line, or holds a long one, is replaced by a marker. Scoring reads the output
// as it was; only what is kept is redacted.
//
// Cost: building the index reads the tests/ text once (a few hundred KiB: a Set and a Map); redacting
// 64 KiB of output takes one Set lookup per line plus one Map lookup per character position. Output
// made to hit many long test lines' keys at once (periodic text against tests/ lines sharing long
// prefixes) spends a bounded number of comparisons; past that, a line with a key hit is redacted
// without checking further (more redaction, never a leak or a stall).
import { promises as fs } from 'node:fs';
import path from 'node:path';

export const REDACTED = '[outlast: line of a hidden test file redacted]';

/** Test lines shorter than this (after trimming) are too common to redact ("else:", "return x"). */
const MIN_LINE = 10;
/** Test lines at least this long are also found inside a longer output line (key = their first KEY chars). */
const KEY = 20;
/** Candidate comparisons one redact() may spend before it redacts on a key hit alone. */
const BUDGET = 500_000;
/** What of tests/ is indexed: files up to 1 MiB, 16 MiB in all, 20,000 files. */
const MAX_FILE = 1024 * 1024;
const MAX_TOTAL = 16 * 1024 * 1024;
const MAX_FILES = 20_000;

export class Redactor {
  private readonly exact = new Set<string>();
  private readonly byKey = new Map<string, string[]>();

  /** Index `text` (one file's content). Lines with a NUL byte mean binary: the file is skipped. */
  add(text: string): void {
    if (text.includes('\0')) return;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line.length < MIN_LINE || this.exact.has(line)) continue;
      this.exact.add(line);
      if (line.length >= KEY) {
        const k = line.slice(0, KEY);
        const list = this.byKey.get(k);
        if (list) list.push(line);
        else this.byKey.set(k, [line]);
      }
    }
  }

  get size(): number {
    return this.exact.size;
  }

  private budget = 0;

  /** Does this output line show a hidden test line? */
  private shows(line: string): boolean {
    const t = line.trim();
    if (t.length < MIN_LINE) return false;
    if (this.exact.has(t)) return true;
    if (this.byKey.size === 0) return false;
    for (let i = 0; i + KEY <= line.length; i++) {
      const list = this.byKey.get(line.slice(i, i + KEY));
      if (!list) continue;
      if (this.budget <= 0) return true;
      this.budget -= list.length;
      if (list.some((l) => line.startsWith(l, i))) return true;
    }
    return false;
  }

  /** `text` with every line that shows a hidden test line replaced by the marker, and how many were. */
  redact(text: string): { text: string; lines: number } {
    if (this.exact.size === 0) return { text, lines: 0 };
    this.budget = BUDGET;
    let n = 0;
    const out = text.split('\n').map((l) => {
      if (!this.shows(l)) return l;
      n++;
      return REDACTED;
    });
    return { text: n ? out.join('\n') : text, lines: n };
  }
}

/** A redactor for the text files under `dir` (walked iteratively, links not followed). */
export async function redactorFor(dir: string | null): Promise<Redactor> {
  const r = new Redactor();
  if (!dir) return r;
  const stack = [dir];
  let total = 0;
  let files = 0;
  while (stack.length > 0 && files < MAX_FILES && total < MAX_TOTAL) {
    const d = stack.pop()!;
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        const st = await fs.lstat(p).catch(() => null);
        if (!st || !st.isFile() || st.size > MAX_FILE || total + st.size > MAX_TOTAL) continue;
        total += st.size;
        files++;
        r.add(await fs.readFile(p, 'utf8').catch(() => ''));
      }
    }
  }
  return r;
}
