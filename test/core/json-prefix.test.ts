// The request-body scanner (src/core/json-prefix.ts): what it reports agrees with JSON.parse of the
// whole body, it resumes after the prefix a body shares with the previous one, and whatever it
// accepts — including bodies broken one byte at a time, before and after the resume point — is valid
// JSON with the same content (else it answers null and the caller parses the whole body).
import { describe, expect, it } from 'vitest';
import { type BodyScan, freshElements, lastElement, scanBody } from '../../src/core/json-prefix.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function message(r: () => number, i: number): unknown {
  const pick = Math.floor(r() * 4);
  if (pick === 0) return { role: 'user', content: `step ${i} "quoted" \\ back\nslash é ✓ ${'x'.repeat(Math.floor(r() * 40))}` };
  if (pick === 1) return { role: 'assistant', content: null, tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'bash', arguments: JSON.stringify({ command: `echo ${i} [}{]` }) } }] };
  if (pick === 2) return { role: 'tool', tool_call_id: `c${i}`, content: [{ type: 'text', text: `out ${i}` }], n: [1, 2.5e-3, true, false, null] };
  return 7 + i;
}

const head = { model: 'm', tools: [{ type: 'function', function: { name: 'bash', parameters: { type: 'object' } } }] };
const tail = { max_tokens: 100, stream: true, stream_options: { include_usage: false } };

function body(messages: unknown[], spaced = false): Buffer {
  const o = { ...head, messages, ...tail };
  return Buffer.from(spaced ? JSON.stringify(o, null, 1) : JSON.stringify(o));
}

/** What a scan says, in JSON.parse terms. */
function seen(s: BodyScan, prevElements: unknown[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of s.members) out[m.key] = m.key === s.list?.key ? [...prevElements.slice(0, s.fresh), ...freshElements(s)] : s.values.get(m.key);
  return out;
}

describe('scanBody', () => {
  it('reports what JSON.parse reads, from the start and resumed', () => {
    const r = rng(1);
    const msgs = Array.from({ length: 50 }, (_, i) => message(r, i));
    for (const spaced of [false, true]) {
      const a = scanBody(body(msgs.slice(0, 30), spaced), ['messages'])!;
      expect(a).not.toBeNull();
      expect(a.reused).toBe(0);
      expect(seen(a)).toEqual(JSON.parse(body(msgs.slice(0, 30), spaced).toString()));
      const b = scanBody(body(msgs, spaced), ['messages'], [a])!;
      expect(b.fresh).toBe(30);
      expect(b.list!.count).toBe(50);
      expect(b.reused).toBeGreaterThan(body(msgs.slice(0, 29), spaced).length - 200);
      expect(seen(b, msgs)).toEqual(JSON.parse(body(msgs, spaced).toString()));
      expect(lastElement(b)).toEqual(msgs[49]);
      // the same body again: nothing new, everything reused
      const c = scanBody(body(msgs, spaced), ['messages'], [b])!;
      expect(c.fresh).toBe(50);
      expect(freshElements(c)).toEqual([]);
      expect(seen(c, msgs)).toEqual(JSON.parse(body(msgs, spaced).toString()));
    }
  });

  it('resumes before a changed last element (a moving cache marker), not after', () => {
    const msgs: any[] = Array.from({ length: 20 }, (_, i) => ({ role: 'user', content: [{ type: 'text', text: `m${i}` }] }));
    const marked = (n: number) => msgs.slice(0, n).map((m, i) => (i === n - 1 ? { ...m, content: [{ ...m.content[0], cache_control: { type: 'ephemeral' } }] } : m));
    const a = scanBody(body(marked(10)), ['messages'])!;
    const b = scanBody(body(marked(12)), ['messages'], [a])!;
    expect(b.fresh).toBe(9);
    expect(seen(b, marked(12))).toEqual(JSON.parse(body(marked(12)).toString()));
    // a change further back than the resume points: a scan from the start
    const changed = [...msgs.slice(0, 12)];
    changed[0] = { role: 'user', content: 'other' };
    const c = scanBody(body(changed), ['messages'], [b])!;
    expect(c.reused).toBe(0);
    expect(seen(c)).toEqual(JSON.parse(body(changed).toString()));
  });

  it('decodes escaped keys and refuses duplicate top-level keys', () => {
    const s = scanBody(Buffer.from('{"mod\\u0065l":"x","messages":[1],"str\\u0065am":true}'), ['messages'])!;
    expect(s.values.get('model')).toBe('x');
    expect(s.values.get('stream')).toBe(true);
    expect(scanBody(Buffer.from('{"model":"x","messages":[],"model":"y"}'), ['messages'])).toBeNull();
    expect(scanBody(Buffer.from('{"model":"x","__proto__":{"messages":[1]}}'), ['messages'])).toBeNull();
    expect(scanBody(Buffer.from('{"model":"x","messages":[],"__pr\u006fto__":{}}'), ['messages'])).toBeNull();
    expect(scanBody(Buffer.from('{"model":"x","mod\\u0065l":"y","messages":[]}'), ['messages'])).toBeNull();
    const a = scanBody(Buffer.from('{"model":"x","messages":[1,2]}'), ['messages'])!;
    expect(scanBody(Buffer.from('{"model":"x","messages":[1,2,3],"model":"y"}'), ['messages'], [a])).toBeNull();
  });

  it('takes a list-less body, and a list key whose value is not an array, as plain members', () => {
    const s = scanBody(Buffer.from(' { "model" : "x" , "input" : "hi" } '), ['input'])!;
    expect(s.list).toBeNull();
    expect(s.values.get('input')).toBe('hi');
    expect(scanBody(Buffer.from('{}'), ['messages'])!.members).toEqual([]);
  });

  it('refuses what is not one JSON object, and survives hostile nesting', () => {
    for (const bad of ['', '[1]', '{"a":1} x', '{"a":1,}', '{"a" 1}', '{"a":}', '{a:1}', '\ufeff{"a":1}', '{"messages":[1,,2]}', '{"messages":[1 2]}', '{"messages":[1]', '{"a":"\u0001"}'])
      expect(scanBody(Buffer.from(bad), ['messages'])).toBeNull();
    expect(scanBody(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), ['messages'])).toBeNull(); // not UTF-8
    // Deeper than MAX_DEPTH: not scanned (the caller's exact path decides), and never a stack overflow.
    const deep = `{"model":"x","messages":[${'['.repeat(200_000)}${']'.repeat(200_000)}]}`;
    expect(scanBody(Buffer.from(deep), ['messages'])).toBeNull();
    const deepHead = `{"x":${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)},"messages":[]}`;
    expect(scanBody(Buffer.from(deepHead), ['messages'])).toBeNull();
    expect(scanBody(Buffer.from(`{"x":${'['.repeat(200)}${']'.repeat(200)},"messages":[]}`), ['messages'])).not.toBeNull();
  });

  it('whatever it accepts, broken one byte at a time, is valid JSON with the same content', () => {
    const r = rng(7);
    const msgs = Array.from({ length: 12 }, (_, i) => message(r, i));
    const prevBody = body(msgs.slice(0, 8));
    const prev = scanBody(prevBody, ['messages'])!;
    const good = body(msgs);
    const alphabet = Buffer.from('{}[]",:\\ 0123456789.-+eEtrufalsn\n\tx');
    let accepted = 0;
    for (let trial = 0; trial < 4000; trial++) {
      const b = Buffer.from(good);
      const at = Math.floor(r() * b.length);
      const op = Math.floor(r() * 3);
      const bytes = op === 0 ? Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]) : op === 1 ? Buffer.concat([b.subarray(0, at), alphabet.subarray(Math.floor(r() * alphabet.length)).subarray(0, 1), b.subarray(at)]) : ((b[at] = alphabet[Math.floor(r() * alphabet.length)]!), b);
      for (const p of [null, prev]) {
        const s = scanBody(bytes, ['messages'], [p]);
        let parsed: unknown;
        try {
          parsed = JSON.parse(bytes.toString());
        } catch {
          parsed = undefined;
        }
        if (!s) continue;
        // The new elements are checked by parsing them (the caller's step), not by the scan.
        let fresh: unknown[];
        try {
          fresh = freshElements(s);
        } catch {
          continue;
        }
        accepted++;
        expect(parsed, `accepted invalid JSON: ${bytes.toString()}`).toBeDefined();
        const got = seen(s);
        if (s.list) got[s.list.key] = [...msgs.slice(0, s.fresh), ...fresh];
        expect(got).toEqual(parsed);
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });
});
