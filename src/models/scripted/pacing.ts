// Pacing: when each streamed event is due, measured from the moment the response starts.
//
// Events are either `head` (protocol preamble such as `message_start`, sent at once), content events
// (carrying `tokens` > 0 output tokens: text, reasoning or tool-call pieces) or structural events with
// 0 tokens (block starts/stops, the final usage event), which go out together with the content event
// before or after them.
//
// Schedule: the first content event is due at `ttft_ms`; the last at `ttft_ms + output / tokens_per_sec`;
// the ones in between are spread in proportion to the tokens before them. A meter that divides the
// reported output tokens by (last content time − first content time) therefore reads exactly
// `tokens_per_sec`, and time to first content reads `ttft_ms`. Due times are absolute offsets from the
// start, so timer lateness never accumulates.
import { setTimeout as sleepMs } from 'node:timers/promises';

export interface PacedItem {
  tokens: number;
  head?: boolean;
}

/** Due time (ms after the start) of every item. `outputTokens` is the reported output (it may be overridden). */
export function dueTimes(items: PacedItem[], ttftMs: number, tokensPerSec: number, outputTokens: number): number[] {
  const content = items.filter((it) => !it.head && it.tokens > 0);
  const first = content.length ? content[0]!.tokens : 0;
  const total = content.reduce((s, it) => s + it.tokens, 0);
  const span = tokensPerSec > 0 ? (outputTokens / tokensPerSec) * 1000 : 0;
  const out: number[] = [];
  let cum = 0;
  let last = ttftMs;
  let seenContent = false;
  for (const it of items) {
    if (it.head) {
      out.push(0);
      continue;
    }
    if (it.tokens > 0) {
      cum += it.tokens;
      if (!seenContent) {
        seenContent = true;
        last = ttftMs;
      } else {
        last = ttftMs + (total > first ? ((cum - first) / (total - first)) * span : span);
      }
    }
    out.push(last);
  }
  return out;
}

/** Total time a non-streamed reply takes: ttft plus the generation time of its output tokens. */
export function totalMs(ttftMs: number, tokensPerSec: number, outputTokens: number): number {
  return ttftMs + (tokensPerSec > 0 ? (outputTokens / tokensPerSec) * 1000 : 0);
}

/** Resolve at performance.now() >= `at`, or early (without throwing) when `signal` aborts. */
export async function sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
  const ms = at - performance.now();
  if (ms <= 0 || signal?.aborted) return;
  try {
    await sleepMs(ms, undefined, { signal });
  } catch {
    // aborted: the client went away or the server is closing
  }
}
