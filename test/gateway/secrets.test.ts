// The key scrubber: every shape in which an upstream could echo a key is caught, and ordinary text
// is left alone.
import { describe, expect, it } from 'vitest';
import { REDACTED, Scrubber } from '../../src/gateway/secrets.js';

const KEY = 'sk-outlast-FAKE/KEY+7f3a9c1e5b2d4068';
const s = new Scrubber([KEY]);

describe('Scrubber', () => {
  it('catches the raw, JSON-escaped, slash-escaped, URL-encoded and hex forms', () => {
    for (const form of [KEY, KEY.replace(/\//g, '\\/'), encodeURIComponent(KEY), Buffer.from(KEY).toString('hex')]) {
      const out = s.scrub(`error: invalid key "${form}" given`);
      expect(out).toContain(REDACTED);
      expect(out).not.toContain(form);
    }
  });

  it('catches a key written entirely as \\u escapes inside JSON', () => {
    const escaped = KEY.split('')
      .map((c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
      .join('');
    const out = s.scrub(`{"error":{"message":"key ${escaped}"}}`);
    expect(out).toContain(REDACTED);
    expect(JSON.parse(out).error.message).not.toContain(KEY);
  });

  it('catches the key inside a longer base64 or base64url text at every alignment', () => {
    for (let pad = 0; pad < 3; pad++)
      for (const enc of ['base64', 'base64url'] as const) {
        const text = Buffer.from('x'.repeat(pad) + 'Authorization: Bearer ' + KEY + ' and more').toString(enc);
        const out = s.scrub(text);
        expect(out, `${enc} pad ${pad}`).toContain(REDACTED);
        expect(Buffer.from(out.split(REDACTED).join(''), enc).toString()).not.toContain(KEY);
      }
  });

  it('leaves text without a key unchanged (including escapes and non-ASCII)', () => {
    const text = '{"text":"caf\\u00e9 sk-other-key-123456 \\n ok"}';
    expect(s.scrub(text)).toBe(text);
    expect(new Scrubber([]).scrub(KEY)).toBe(KEY);
  });

  it('scrubValue cleans nested strings and keys', () => {
    expect(JSON.stringify(s.scrubValue({ a: [{ [KEY]: `x${KEY}y` }] }))).not.toContain(KEY);
  });
});
