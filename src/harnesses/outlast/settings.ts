// Settings of the outlast harness (recorded in provenance) and the fixed texts it sends the model.
import { UserError } from '../../core/errors.js';

export interface OutlastSettings {
  /** Consecutive replies without a tool call after which the agent has given up (default 5). */
  idle_rounds: number;
  /** Compact when the next request would pass this fraction of the context window (default 0.8). */
  compact_threshold: number;
  /** Context window in tokens; default: the endpoint's `context_window` (no compaction when neither is set). */
  context_window?: number;
  /** Turns (assistant replies with their tool results) kept verbatim when compacting (default 4). */
  keep_recent_turns: number;
  /** Default timeout of a `bash` command in seconds (default 120; the agent may ask for up to 4×). */
  command_timeout_sec: number;
  /** Bytes of tool output kept, head + tail (default 16 KiB). */
  output_bytes: number;
  /** Sampling temperature (default: the endpoint's own). */
  temperature?: number;
  /** Largest reply in tokens (default 8192). */
  max_tokens: number;
  /**
   * Tries of a model call that failed for infrastructure reasons (after the gateway's own retries)
   * made whatever the outage patience (`[limits] outage_patience_sec`), e.g. after one broken stream
   * (default 2). Past these, the harness keeps trying for as long as the patience lasts.
   */
  model_retries: number;
  /** First wait of a provider outage in ms, doubled per try (with jitter) up to outage_backoff_max_ms (default 1000). */
  outage_backoff_ms: number;
  /** Longest wait between tries in a provider outage, in ms (default 60000). */
  outage_backoff_max_ms: number;
}

export const DEFAULT_SETTINGS: OutlastSettings = {
  idle_rounds: 5,
  compact_threshold: 0.8,
  keep_recent_turns: 4,
  command_timeout_sec: 120,
  output_bytes: 16 * 1024,
  max_tokens: 8192,
  model_retries: 2,
  outage_backoff_ms: 1000,
  outage_backoff_max_ms: 60_000,
};

const KNOWN: readonly (keyof OutlastSettings)[] = [
  'idle_rounds',
  'compact_threshold',
  'context_window',
  'keep_recent_turns',
  'command_timeout_sec',
  'output_bytes',
  'temperature',
  'max_tokens',
  'model_retries',
  'outage_backoff_ms',
  'outage_backoff_max_ms',
];

export function resolveSettings(s: Partial<OutlastSettings> = {}): OutlastSettings {
  const out: OutlastSettings = { ...DEFAULT_SETTINGS };
  for (const [k, v] of Object.entries(s)) {
    if (!KNOWN.includes(k as keyof OutlastSettings)) throw new UserError(`outlast harness: unknown setting "${k}" (settings: ${KNOWN.join(', ')})`);
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new UserError(`outlast harness: setting ${k} must be a number, got ${JSON.stringify(v)}`);
    (out as unknown as Record<string, unknown>)[k] = v;
  }
  if (!Number.isInteger(out.idle_rounds) || out.idle_rounds < 1) throw new UserError('outlast harness: idle_rounds must be an integer ≥ 1');
  if (!(out.compact_threshold > 0 && out.compact_threshold <= 1)) throw new UserError('outlast harness: compact_threshold must be in (0, 1]');
  if (!Number.isInteger(out.keep_recent_turns) || out.keep_recent_turns < 1) throw new UserError('outlast harness: keep_recent_turns must be an integer ≥ 1');
  if (!Number.isInteger(out.model_retries) || out.model_retries < 0) throw new UserError('outlast harness: model_retries must be an integer ≥ 0');
  if (!(out.outage_backoff_ms > 0) || !(out.outage_backoff_max_ms >= out.outage_backoff_ms)) throw new UserError('outlast harness: outage_backoff_ms must be > 0 and outage_backoff_max_ms ≥ it');
  return out;
}

export const SYSTEM_PROMPT = `You are an autonomous agent working on a task in a sandboxed Linux workspace, on your own, for as long as the task needs.
Work through the tools: run commands with \`bash\`, inspect and change files with \`read_file\`, \`write_file\`, \`edit_file\` and \`list_files\`. Every reply should call at least one tool until the task is done.
Nobody will answer questions: decide for yourself and keep going. When the task is complete, call \`submit\`.`;

/** Sent (as the user) after a reply without a tool call. */
export const NUDGE = 'No tool was called. Continue working on the task with the tools, or call `submit` if it is complete.';

/** Marks the request that asks the model for a summary of older turns (scripted policies look for it). */
export const SUMMARY_MARKER = '[outlast:summarize]';

export const SUMMARY_PROMPT = `${SUMMARY_MARKER} The conversation is about to be shortened. Write a summary of the work so far that lets you continue without the older turns: what the task is, what has been done and learned (files changed, commands that worked or failed, results of evaluations), and what remains to do next. Reply with the summary text only; do not call tools.`;

/** Put before the summary in the compacted conversation. */
export const SUMMARY_HEADER = 'Summary of the earlier part of this session (older turns were compacted):';
