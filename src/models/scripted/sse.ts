// Writing a paced SSE stream, with the stream faults (cut, malformed, stall) applied.
import type { ServerResponse } from 'node:http';
import { dueTimes, sleepUntil } from './pacing.js';
import type { SseEvent } from './protocol.js';

export function formatEvent(e: Pick<SseEvent, 'event' | 'data'>): string {
  const data = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
  return (e.event ? `event: ${e.event}\n` : '') + `data: ${data}\n\n`;
}

export interface StreamOptions {
  /** performance.now() the schedule counts from. */
  start: number;
  ttftMs: number;
  tokensPerSec: number;
  /** Output tokens reported in usage (pacing spreads exactly these). */
  outputTokens: number;
  /** `cut`: destroy the socket after `after` events; `malformed`: send a non-JSON data line after `after` events, then end. */
  fault?: { kind: 'cut' | 'malformed' | 'stall'; after: number };
  signal: AbortSignal;
}

function write(res: ServerResponse, text: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || signal.aborted) return resolve();
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    // Resolve once the bytes are handed to the socket, so a following destroy() cannot drop them.
    res.write(text, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** Stream `events` on `res` (headers already sent), each at its due time. */
export async function streamEvents(res: ServerResponse, events: SseEvent[], o: StreamOptions): Promise<void> {
  const due = dueTimes(events, o.ttftMs, o.tokensPerSec, o.outputTokens);
  const stopAt = Math.min(events.length, o.fault?.after ?? Infinity);
  let i = 0;
  while (i < stopAt) {
    await sleepUntil(o.start + due[i]!, o.signal);
    if (o.signal.aborted || res.destroyed) return;
    // Everything already due goes out in one write.
    let batch = '';
    const now = performance.now();
    do batch += formatEvent(events[i++]!);
    while (i < stopAt && o.start + due[i]! <= now);
    await write(res, batch, o.signal);
  }
  if (o.signal.aborted || res.destroyed) return;
  if (o.fault?.kind === 'cut') {
    res.socket?.destroy();
    return;
  }
  if (o.fault?.kind === 'stall') {
    // Keep the connection busy with comments, which carry no content, until the client gives up.
    while (!o.signal.aborted && !res.destroyed) {
      await write(res, ': keep-alive\n\n', o.signal);
      await sleepUntil(performance.now() + 100, o.signal);
    }
    return;
  }
  if (o.fault?.kind === 'malformed') {
    const next = events[i];
    await write(res, (next?.event ? `event: ${next.event}\n` : '') + 'data: {"scripted": malformed chunk, not JSON\n\n', o.signal);
  }
  res.end();
}
