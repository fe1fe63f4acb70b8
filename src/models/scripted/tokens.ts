// Deterministic token estimates (about 4 characters per token) and the prompt-prefix cache that
// decides how many input tokens are reported as cached.
import { createHash } from 'node:crypto';
import { memo } from './memo.js';
import type { NormalizedMessage, NormalizedTool } from './types.js';

export const CHARS_PER_TOKEN = 4;

/** Tokens of a string: ceil(code points / 4); 0 for the empty string. */
export function countTokens(s: string): number {
  if (!s) return 0;
  let n = 0;
  for (const _ of s) n++;
  return Math.ceil(n / CHARS_PER_TOKEN);
}

/** Split a string into pieces of one token (4 code points) each; the last may be shorter. */
export function tokenPieces(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let n = 0;
  for (const ch of s) {
    cur += ch;
    if (++n === CHARS_PER_TOKEN) {
      out.push(cur);
      cur = '';
      n = 0;
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** A tool's line of the prompt. */
function toolLine(t: NormalizedTool): string {
  return `tool ${t.name}: ${t.description ?? ''} ${JSON.stringify(t.parameters ?? {})}`;
}

/** A message's line of the prompt and its code points, computed once per (shared, unchanging) message object. */
function messageLine(m: NormalizedMessage): { text: string; points: number } {
  return memo(m, renderLine);
}

function renderLine(m: NormalizedMessage): { text: string; points: number } {
  let s = `${m.role}:`;
  if (m.tool_call_id) s += ` [${m.tool_call_id}]`;
  if (m.reasoning) s += ` <think>${m.reasoning}</think>`;
  if (m.text) s += ` ${m.text}`;
  for (const c of m.tool_calls ?? []) s += ` ${c.name}(${typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments)})`;
  return { text: s, points: codePoints(s) };
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * The prompt as one canonical text: tool definitions, then every message. Its token count is the
 * request's input tokens, and its prefixes are what the cache remembers. Tools are rendered in a
 * protocol-neutral form, so the same conversation costs the same in every protocol.
 */
export function promptText(messages: NormalizedMessage[], tools: NormalizedTool[]): string {
  const parts: string[] = [];
  for (const t of tools) parts.push(toolLine(t));
  for (const m of messages) parts.push(messageLine(m).text);
  return parts.join('\n');
}

/** Input tokens of the prompt text of `messages` and `tools` (= inputTokens(promptText(...))), without building it. */
export function promptTokens(messages: NormalizedMessage[], tools: NormalizedTool[]): number {
  let points = 0;
  for (const m of messages) points += messageLine(m).points;
  return promptTokensOf(points, tools, messages.length);
}

/** Input tokens of a prompt whose `count` message lines have `points` code points, with `tools` before them. */
export function promptTokensOf(points: number, tools: NormalizedTool[], count: number): number {
  let total = points + Math.max(0, count + tools.length - 1); // the newlines between lines
  for (const t of tools) total += codePoints(toolLine(t));
  return Math.max(1, Math.ceil(total / CHARS_PER_TOKEN));
}

/** Code points of a message's prompt line. */
export function linePoints(m: NormalizedMessage): number {
  return messageLine(m).points;
}

/** Input tokens of a prompt text (at least 1). */
export function inputTokens(prompt: string): number {
  return Math.max(1, countTokens(prompt));
}

const BLOCK_CHARS = 64; // the cache works in blocks of 16 tokens

/**
 * Remembers every prompt seen, as a chain of hashes over 64-character blocks, and answers how many
 * leading tokens of a new prompt were seen before (a multiple of 16 tokens, like real prompt caches).
 */
export class PrefixCache {
  private seen = new Set<string>();
  /** Forget everything past this many remembered blocks (8 M tokens of distinct prompts). */
  static readonly MAX_BLOCKS = 500_000;

  /** Cached tokens of `prompt` (longest previously seen block prefix), then remember `prompt`. */
  lookupAndAdd(prompt: string): number {
    if (this.seen.size > PrefixCache.MAX_BLOCKS) this.seen = new Set();
    let h = '';
    let hit = 0;
    let stillHitting = true;
    const blocks = Math.floor(prompt.length / BLOCK_CHARS);
    for (let b = 0; b < blocks; b++) {
      h = createHash('sha1').update(h).update(prompt.slice(b * BLOCK_CHARS, (b + 1) * BLOCK_CHARS)).digest('base64');
      if (stillHitting && this.seen.has(h)) hit = b + 1;
      else stillHitting = false;
      this.seen.add(h);
    }
    return Math.floor((hit * BLOCK_CHARS) / CHARS_PER_TOKEN);
  }
}
