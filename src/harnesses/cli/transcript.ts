// An external CLI's native transcript, kept: its session folders in the private HOME and its own
// machine-readable output (`.outlast/stdout.jsonl`, stderr beside it) are copied into the rollout's
// folder (`cli/`) as an artifact, with size limits and without symbolic links (the HOME is the
// agent's to write, so it is read like any agent-made tree). Where the output is a stream of
// Anthropic-shaped messages (Claude Code's and Qwen Code's `stream-json`) or of Codex's `exec --json`
// items, its tool calls and results become `tool.call`/`tool.result` events marked `source:
// "transcript"`: they add what the gateway never sees (what a tool returned), and they are the CLI's word, not a measurement: every count
// outlast reports comes from the gateway's record (record.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { NewEvent } from '../../core/events.js';
import { readAgentFile } from '../../sandbox/agent-file.js';
import { copyTree, TreeRefused } from '../../sandbox/tree.js';
import type { TrajectoryWriter } from '../../store/trajectory.js';

const LIMITS = { maxBytes: 256 * 1024 * 1024, maxEntries: 20_000, maxDepth: 32, maxPathBytes: 1024 };
/** The largest output stream read back for mapping. */
const MAX_STREAM_BYTES = 64 * 1024 * 1024;
/** Output of one mapped tool result kept in the log (head + tail). */
const RESULT_BYTES = 16 * 1024;

/** Copy the transcript folders (and `.outlast`) from `home` into `dest`; returns the files copied. */
export async function keepTranscript(home: string, dest: string, dirs: readonly string[]): Promise<number> {
  let files = 0;
  for (const rel of ['.outlast', ...dirs]) {
    const src = path.join(home, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(src);
    } catch {
      continue;
    }
    if (!st.isDirectory()) continue;
    try {
      fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
      const r = await copyTree(src, path.join(dest, rel), { limits: LIMITS, keepLink: async () => false });
      files += r.files;
    } catch (err) {
      if (!(err instanceof TreeRefused)) throw err;
      fs.mkdirSync(dest, { recursive: true });
      fs.appendFileSync(path.join(dest, 'NOT-KEPT.txt'), `${rel}: ${err.message}\n`);
    }
  }
  return files;
}

function capped(s: string): { output: string; truncated_bytes: number } {
  const b = Buffer.byteLength(s);
  if (b <= RESULT_BYTES) return { output: s, truncated_bytes: 0 };
  const half = RESULT_BYTES / 2;
  return { output: `${s.slice(0, half)}\n[... ${b - RESULT_BYTES} bytes cut ...]\n${s.slice(-half)}`, truncated_bytes: b - RESULT_BYTES };
}

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c) => (c && typeof c === 'object' && typeof (c as { text?: unknown }).text === 'string' ? (c as { text: string }).text : '')).join('');
  return '';
}

/**
 * Append the tool calls and results of a `stream-json` output as events; returns the results mapped.
 * Lines that are not such messages are skipped (another CLI's format maps to nothing).
 */
export async function mapTranscript(file: string, log: TrajectoryWriter): Promise<number> {
  const got = await readAgentFile(file, MAX_STREAM_BYTES);
  if (!got.ok) return 0;
  const names = new Map<string, string>();
  let results = 0;
  for (const line of got.data.toString('utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    let msg: { type?: string; message?: { content?: unknown }; item?: Record<string, unknown> };
    try {
      msg = JSON.parse(line);
    } catch {
      continue;
    }
    // Codex's `exec --json`: a finished command is one item with its output.
    const it = msg.item;
    if (msg.type === 'item.completed' && it && it.type === 'command_execution' && typeof it.id === 'string') {
      log.append({ type: 'tool.call', call_id: it.id, name: 'shell', arguments: { command: it.command }, source: 'transcript' } as NewEvent);
      const out = capped(typeof it.aggregated_output === 'string' ? it.aggregated_output : '');
      log.append({ type: 'tool.result', call_id: it.id, name: 'shell', exit_code: typeof it.exit_code === 'number' ? it.exit_code : null, duration_ms: 0, ...out, timed_out: false, source: 'transcript' } as NewEvent);
      results++;
      continue;
    }
    const content = msg.message?.content;
    if (!Array.isArray(content)) continue;
    for (const b of content as Array<Record<string, unknown>>) {
      if (!b || typeof b !== 'object') continue;
      const id = typeof b.id === 'string' ? b.id : typeof b.tool_use_id === 'string' ? b.tool_use_id : null;
      if (!id) continue;
      if (msg.type === 'assistant' && b.type === 'tool_use' && typeof b.name === 'string') {
        names.set(id, b.name);
        log.append({ type: 'tool.call', call_id: id, name: b.name, arguments: b.input ?? {}, source: 'transcript' } as NewEvent);
      } else if (msg.type === 'user' && b.type === 'tool_result') {
        const out = capped(text(b.content));
        log.append({ type: 'tool.result', call_id: id, name: names.get(id) ?? '', exit_code: b.is_error ? 1 : 0, duration_ms: 0, ...out, timed_out: false, source: 'transcript' } as NewEvent);
        results++;
      }
    }
  }
  return results;
}
