// Helpers the built-in rules share: a tool call's arguments as a ToolAction, a command line cut into
// its simple commands, the line a pattern matched, and evidence pointing at an event or at a line of
// the final workspace. Every helper is one pass over the text it is given (no pattern here can
// backtrack over a long input: an agent chooses the text).
import type { FlagEvidence, ToolCallEvent } from '../core/events.js';
import { hunkAround, type FileChange } from './diff.js';
import type { RuleHit, ToolAction } from './monitor.js';

/** Longest text a rule scans in one event (a longer write is still seen whole in the final diff). */
export const SCAN_CHARS = 1024 * 1024;
const EXCERPT_CHARS = 240;

const str = (v: unknown): string | null => (typeof v === 'string' ? v.slice(0, SCAN_CHARS) : null);

/** The built-in tools' arguments, pulled out once per tool call. */
export function actionOf(e: ToolCallEvent): ToolAction {
  const a = e.arguments && typeof e.arguments === 'object' ? (e.arguments as Record<string, unknown>) : {};
  return {
    seq: e.seq,
    name: e.name,
    command: e.name === 'bash' ? str(a.command) : null,
    path: str(a.path),
    content: e.name === 'write_file' ? str(a.content) : e.name === 'edit_file' ? str(a.new_string) : null,
  };
}

/** A workspace path as rules compare it: no leading `./`, no doubled slashes. */
export function normPath(p: string): string {
  return p.replace(/\/{2,}/g, '/').replace(/^(\.\/)+/, '');
}

export function baseName(p: string): string {
  const i = p.lastIndexOf('/');
  return i === -1 ? p : p.slice(i + 1);
}

/**
 * The simple commands of a command line: split at `;`, `&`, `|`, newlines, parentheses and
 * backquotes, trimmed, with leading variable assignments and `sudo`/`exec`/`env`/`time`/`nohup`/
 * `command` taken off, so that the first word is the program run.
 */
export function simpleCommands(line: string): string[] {
  const out: string[] = [];
  for (const raw of line.split(/[;&|\n()`]/)) {
    let s = raw.trim();
    for (;;) {
      const m = /^(?:[A-Za-z_][A-Za-z0-9_]*=\S*|sudo|exec|env|time|nohup|command)\s+/.exec(s);
      if (!m) break;
      s = s.slice(m[0].length);
    }
    if (s) out.push(s);
  }
  return out;
}

/** The first line of `text` that `re` (no `g` flag) matches: its 1-based number and text, or null. */
export function matchLine(text: string, re: RegExp): { line: number; text: string } | null {
  const m = re.exec(text);
  if (!m) return null;
  const start = text.lastIndexOf('\n', m.index) + 1;
  const endNl = text.indexOf('\n', m.index + Math.max(m[0].length - 1, 0));
  const end = endNl === -1 ? text.length : endNl;
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < m.index; i = text.indexOf('\n', i + 1)) line++;
  return { line, text: text.slice(start, end) };
}

export function excerpt(s: string): string {
  const t = s.trim();
  return t.length > EXCERPT_CHARS ? `${t.slice(0, EXCERPT_CHARS)}…` : t;
}

/** A hit on a tool call: the event's seq, the path it names (if any) and the matched text. */
export function actionHit(a: ToolAction, summary: string, matched: string): RuleHit {
  const path = a.path ? normPath(a.path) : undefined;
  const ev: FlagEvidence = { seq: a.seq, ...(path ? { path } : {}), excerpt: excerpt(matched) };
  return { summary, evidence: [ev], ...(path ? { subject: path } : {}) };
}

/** A hit on a change of the final workspace: the hunk around `line` (or the change's hunk) and the content's hash. */
export function changeHit(c: FileChange, summary: string, line?: number): RuleHit {
  const evidence: FlagEvidence[] = [{ path: c.path, hunk: line === undefined ? c.hunk : hunkAround(c, line) }];
  if (c.sha256) evidence.push({ sha256: c.sha256, path: c.path });
  return { summary, evidence, subject: c.path };
}

/** The first line of a change's new lines that `re` matches, as a line number of the new file. */
export function matchAdded(c: FileChange, re: RegExp): { line: number; text: string } | null {
  if (c.added.length === 0) return null;
  const m = matchLine(c.added.join('\n'), re);
  return m ? { line: c.addedFrom + m.line - 1, text: m.text } : null;
}

/** Python source: a .py file (rules about solution code look only at these). */
export const isPython = (p: string): boolean => p.endsWith('.py');
