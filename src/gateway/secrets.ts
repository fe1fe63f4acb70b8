// The upstream keys, and the scrubbing that keeps them off every client-facing path and out of the
// log. A key can come back from an upstream in more shapes than its raw text: JSON-escaped (`\/`,
// `\uXXXX`), URL-encoded, base64 (at any alignment inside a longer base64 text) or hex. Every shape
// of every configured key is replaced by [REDACTED]. Pure; the caller supplies the key values.

export const REDACTED = '[REDACTED]';
/** Keys shorter than this are not scrubbed (they would match ordinary text). */
const MIN_KEY = 8;

/** The base64 texts that contain `key` wherever it falls inside a longer base64 encoding (3 alignments). */
function base64Forms(key: string, url: boolean): string[] {
  const out: string[] = [];
  const bytes = Buffer.from(key, 'utf8');
  for (let pad = 0; pad < 3; pad++) {
    let b64 = Buffer.concat([Buffer.alloc(pad), bytes]).toString(url ? 'base64url' : 'base64').replace(/=+$/, '');
    // Characters that mix padding or the bytes after the key are uncertain: keep only the stable middle.
    const skip = Math.ceil((pad * 4) / 3);
    const keep = Math.floor(((pad + bytes.length) * 4) / 3) - 1;
    b64 = b64.slice(skip, Math.max(skip, keep));
    if (b64.length >= MIN_KEY) out.push(b64);
  }
  return out;
}

/** Every shape in which `key` might appear in text the gateway passes on. */
export function keyForms(key: string): string[] {
  const forms = new Set<string>([key]);
  forms.add(JSON.stringify(key).slice(1, -1));
  forms.add(key.replace(/\//g, '\\/'));
  forms.add(encodeURIComponent(key));
  forms.add(encodeURIComponent(key).replace(/%20/g, '+'));
  forms.add(Buffer.from(key, 'utf8').toString('hex'));
  for (const f of base64Forms(key, false)) forms.add(f);
  for (const f of base64Forms(key, true)) forms.add(f);
  // Longest first, so a form that contains another is replaced whole.
  return [...forms].filter((f) => f.length >= MIN_KEY).sort((a, b) => b.length - a.length);
}

export class Scrubber {
  private readonly forms: string[];
  /** The distinct first characters of the forms, for a cheap pre-check. */
  private readonly heads: string[];

  constructor(keys: Iterable<string>) {
    const all = new Set<string>();
    for (const k of keys) if (k && k.length >= MIN_KEY) for (const f of keyForms(k)) all.add(f);
    this.forms = [...all].sort((a, b) => b.length - a.length);
    this.heads = [...new Set(this.forms.map((f) => f.slice(0, 4)))];
  }

  get empty(): boolean {
    return this.forms.length === 0;
  }

  /** True when `s` holds a key in any form (escape sequences decoded too). */
  leaks(s: string): boolean {
    return this.scrub(s) !== s;
  }

  /** `s` with every form of every key replaced by [REDACTED], also inside `\uXXXX` escapes. */
  scrub(s: string): string {
    if (this.forms.length === 0) return s;
    let hit = false;
    for (const h of this.heads)
      if (s.includes(h)) {
        hit = true;
        break;
      }
    if (hit) for (const f of this.forms) if (s.includes(f)) s = s.split(f).join(REDACTED);
    if (s.includes('\\u')) {
      const decoded = decodeUnicodeEscapes(s);
      if (decoded !== s) {
        const clean = this.scrubPlain(decoded);
        if (clean !== decoded) return clean;
      }
    }
    return s;
  }

  private scrubPlain(s: string): string {
    for (const f of this.forms) if (s.includes(f)) s = s.split(f).join(REDACTED);
    return s;
  }

  /** Scrub every string inside a JSON value (object keys too); returns a new value. */
  scrubValue<T>(v: T): T {
    if (this.forms.length === 0) return v;
    return JSON.parse(this.scrub(JSON.stringify(v))) as T;
  }
}

/** `\uXXXX` escapes (other than of quotes, backslashes and control characters) decoded in place. */
function decodeUnicodeEscapes(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})/g, (m, hex: string) => {
    const c = parseInt(hex, 16);
    return c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff) ? m : String.fromCharCode(c);
  });
}
