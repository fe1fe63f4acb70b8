import { describe, expect, it } from 'vitest';
import { OutputCapture, cutMarker } from '../../src/sandbox/capture.js';

describe('OutputCapture', () => {
  it('keeps everything under the cap, in order', () => {
    const c = new OutputCapture(100);
    c.push(Buffer.from('hello '));
    c.push(Buffer.from('world'));
    expect(c.text()).toBe('hello world');
    expect(c.truncatedBytes).toBe(0);
  });

  it('keeps exactly the cap without a marker', () => {
    const c = new OutputCapture(10);
    c.push(Buffer.from('0123456789'));
    expect(c.text()).toBe('0123456789');
    expect(c.truncatedBytes).toBe(0);
  });

  it('keeps head and tail and counts the cut, across chunk boundaries', () => {
    const c = new OutputCapture(10);
    const all = 'abcdefghijklmnopqrstuvwxyz';
    for (const ch of all) c.push(Buffer.from(ch)); // one byte at a time: ring wraps many times
    expect(c.truncatedBytes).toBe(16);
    expect(c.text()).toBe('abcde' + cutMarker(16) + 'vwxyz');
    const d = new OutputCapture(10);
    d.push(Buffer.from(all.slice(0, 7)));
    d.push(Buffer.from(all.slice(7, 20)));
    d.push(Buffer.from(all.slice(20)));
    expect(d.text()).toBe(c.text());
  });

  it('stays bounded for a gigabyte of output', () => {
    const cap = 64 * 1024;
    const c = new OutputCapture(cap);
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    chunk.write('START', 0);
    c.push(chunk);
    chunk.write('x'.repeat(5), 0);
    for (let i = 1; i < 1024; i++) c.push(chunk);
    c.push(Buffer.from('END'));
    const before = process.memoryUsage().arrayBuffers;
    const text = c.text();
    expect(c.totalBytes).toBe(1024 * 1024 * 1024 + 3);
    expect(c.truncatedBytes).toBe(c.totalBytes - cap);
    expect(text.startsWith('START')).toBe(true);
    expect(text.endsWith('END')).toBe(true);
    expect(text).toContain(`[... ${c.totalBytes - cap} bytes cut ...]`);
    expect(text.length).toBeLessThan(cap + 100);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10 * cap);
  });

  it('handles a zero cap', () => {
    const c = new OutputCapture(0);
    c.push(Buffer.from('abc'));
    expect(c.truncatedBytes).toBe(3);
    expect(c.text()).toBe(cutMarker(3));
  });
});

describe('OutputCapture and UTF-8', () => {
  it('does not leave broken characters at the cut', () => {
    const c = new OutputCapture(11); // head 6 bytes = two '€' (3 bytes each); tail 5 bytes
    c.push(Buffer.from('€'.repeat(100)));
    const r = c.result();
    expect(r.output).not.toContain('\uFFFD');
    expect(r.output).toBe('€€' + cutMarker(300 - 6 - 3) + '€');
    expect(r.truncated_bytes).toBe(291);
    const d = new OutputCapture(10); // head 5 bytes: one whole '€' plus 2 bytes of the next
    d.push(Buffer.from('€'.repeat(100)));
    expect(d.result().output).toBe('€' + cutMarker(300 - 3 - 3) + '€');
  });
});
