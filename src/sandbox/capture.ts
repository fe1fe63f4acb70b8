// Bounded output capture: keeps the first half and the last half of a byte cap, counts what falls
// out of the middle, and never holds more than `cap` bytes however much a command prints.
import { DEFAULT_OUTPUT_BYTES } from './sandbox.js';

/** The text inserted where bytes were cut from the middle of the output. */
export function cutMarker(bytes: number): string {
  return `\n[... ${bytes} bytes cut ...]\n`;
}

export class OutputCapture {
  private readonly head: Buffer;
  private headLen = 0;
  /** Ring buffer holding the most recent bytes after the head is full. */
  private readonly tail: Buffer;
  private tailPos = 0; // next write index in `tail`
  private tailLen = 0; // valid bytes in `tail` (<= tail.length)
  private total = 0;

  constructor(cap: number = DEFAULT_OUTPUT_BYTES) {
    const c = Math.max(0, Math.floor(cap));
    this.head = Buffer.alloc(Math.ceil(c / 2));
    this.tail = Buffer.alloc(c - this.head.length);
  }

  /** Total bytes seen, kept or not. */
  get totalBytes(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let data = chunk;
    if (this.headLen < this.head.length) {
      const n = Math.min(data.length, this.head.length - this.headLen);
      data.copy(this.head, this.headLen, 0, n);
      this.headLen += n;
      data = data.subarray(n);
    }
    const size = this.tail.length;
    if (data.length === 0 || size === 0) return;
    if (data.length >= size) {
      // The chunk alone fills the ring: keep its last `size` bytes.
      data.copy(this.tail, 0, data.length - size);
      this.tailPos = 0;
      this.tailLen = size;
      return;
    }
    const first = Math.min(data.length, size - this.tailPos);
    data.copy(this.tail, this.tailPos, 0, first);
    data.copy(this.tail, 0, first); // wrap-around part (may be empty)
    this.tailPos = (this.tailPos + data.length) % size;
    this.tailLen = Math.min(size, this.tailLen + data.length);
  }

  /** Bytes dropped from the middle (0 when everything fit); see also result(). */
  get truncatedBytes(): number {
    return this.result().truncated_bytes;
  }

  /** The kept output as text. */
  text(): string {
    return this.result().output;
  }

  /**
   * The kept output and the bytes cut. When a cut splits a UTF-8 character, its pieces on either
   * side of the cut are dropped too (and counted), so the text holds no broken characters there.
   */
  result(): { output: string; truncated_bytes: number } {
    const size = this.tail.length;
    let tail =
      this.tailLen < size
        ? this.tail.subarray(0, this.tailLen)
        : Buffer.concat([this.tail.subarray(this.tailPos), this.tail.subarray(0, this.tailPos)]);
    let head = this.head.subarray(0, this.headLen);
    if (this.total === this.headLen + this.tailLen) {
      return { output: Buffer.concat([head, tail]).toString('utf8'), truncated_bytes: 0 };
    }
    head = head.subarray(0, utf8End(head));
    let skip = 0;
    while (skip < 3 && skip < tail.length && (tail[skip]! & 0xc0) === 0x80) skip++;
    tail = tail.subarray(skip);
    const cut = this.total - head.length - tail.length;
    return { output: head.toString('utf8') + cutMarker(cut) + tail.toString('utf8'), truncated_bytes: cut };
  }
}

/** Length of `b` without a trailing incomplete UTF-8 sequence. */
function utf8End(b: Buffer): number {
  for (let back = 1; back <= Math.min(4, b.length); back++) {
    const byte = b[b.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? b.length - back : b.length;
  }
  return b.length;
}
