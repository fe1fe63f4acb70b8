// Buffers a rollout's request bodies are read into, reused from one request to the next. A long
// conversation's body is megabytes, and a fresh buffer of that size per request costs its page
// faults and its garbage every time; the pool hands back a buffer no one holds any more. A buffer is
// held by each call reading or forwarding from it and by the prefix cache while it remembers the
// body (PrefixCache pins it): only one that nothing holds is written again.
import { Buffer } from 'node:buffer';

/** Free buffers kept per rollout (a sequential harness needs one: the next body, beside the remembered one). */
const SPARE = 1;
const MIN_CAPACITY = 64 * 1024;

interface Pooled {
  buf: Buffer;
  holds: number;
}

export class BodyPool {
  private readonly all = new Map<ArrayBufferLike, Pooled>();

  /** A free buffer of at least `min` bytes (held once by the caller), or a new one. */
  take(min: number): Buffer {
    let best: Pooled | null = null;
    for (const p of this.all.values()) if (p.holds === 0 && p.buf.length >= min && (!best || p.buf.length < best.buf.length)) best = p;
    if (!best) {
      best = { buf: Buffer.allocUnsafeSlow(Math.max(MIN_CAPACITY, Math.ceil((min * 1.25) / MIN_CAPACITY) * MIN_CAPACITY)), holds: 0 };
      this.all.set(best.buf.buffer, best);
      this.trim();
    }
    best.holds++;
    return best.buf;
  }

  /** Hold the buffer `view` lies in (no-op for a buffer not from this pool). */
  hold(view: Uint8Array): void {
    const p = this.all.get(view.buffer);
    if (p) p.holds++;
  }

  /** Let go of the buffer `view` lies in. */
  release(view: Uint8Array): void {
    const p = this.all.get(view.buffer);
    if (p && p.holds > 0) p.holds--;
  }

  /** Whether anyone holds the buffer `view` lies in (for tests). */
  held(view: Uint8Array): boolean {
    return (this.all.get(view.buffer)?.holds ?? 0) > 0;
  }

  /** Drop free buffers beyond the spares (the smallest first). */
  private trim(): void {
    const free = [...this.all.values()].filter((p) => p.holds === 0).sort((a, b) => a.buf.length - b.buf.length);
    for (const p of free.slice(0, Math.max(0, free.length - SPARE))) this.all.delete(p.buf.buffer);
  }
}

/** Chunks of a request body copied into pooled buffers: the body is one view, grown by moving to a bigger buffer. */
export class PooledSink {
  private buf: Buffer | null = null;
  private length = 0;

  constructor(private readonly pool: BodyPool) {}

  push(c: Buffer): void {
    if (!this.buf || this.length + c.length > this.buf.length) {
      const next = this.pool.take(this.length + c.length);
      if (this.buf) {
        this.buf.copy(next, 0, 0, this.length);
        this.pool.release(this.buf);
      }
      this.buf = next;
    }
    c.copy(this.buf, this.length);
    this.length += c.length;
  }

  /** The body (held once, for the caller to release when its call is over). */
  end(): Buffer {
    if (!this.buf) this.buf = this.pool.take(0);
    return this.buf.subarray(0, this.length);
  }

  /** The read failed: let the buffer go. */
  abort(): void {
    if (this.buf) this.pool.release(this.buf);
    this.buf = null;
    this.length = 0;
  }

  /** The call that read the body is over. */
  done(raw: Buffer): void {
    this.pool.release(raw);
  }
}
