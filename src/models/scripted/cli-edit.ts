// The built-in `cli-edit` policy (`outlast scripted-model --policy cli-edit`): one script that drives
// any agent CLI. It finds the CLI's shell or file-writing tool by name among the request's tools
// (Bash, bash, shell, exec_command, run_shell_command, exec; Write, write_file, write, create_file,
// apply_patch), calls it to write one file, and once the tool's result is in the conversation finishes
// with a text answer. A failed call is retried with the next tool found; requests without tools (a
// CLI's side calls: titles, summaries) get the answer at once. docs/scripted-model.md, "cli-edit".
import type { NormalizedMessage, NormalizedTool, Policy, ScriptedToolCall, ScriptedTurn } from './types.js';

export interface CliEditSpec {
  /** The file to write; relative to the CLI's working directory (made absolute for file tools when the prompt names that directory). */
  path: string;
  /** Its whole new content (with apply_patch, a missing final newline is added). */
  content: string;
  /** The final text answer (default `Done: wrote <path>.`). */
  answer?: string;
  /** Which kind of tool to try first: `shell` (default) or `file`. */
  prefer?: 'shell' | 'file';
}

const SHELL_TOOLS = ['Bash', 'bash', 'shell', 'exec_command', 'run_shell_command', 'exec', 'shell_command', 'run_command'];
const FILE_TOOLS = ['Write', 'write_file', 'write', 'create_file', 'apply_patch'];
const PATH_KEYS = ['file_path', 'path', 'filePath', 'absolute_path', 'filename', 'file'];
const CONTENT_KEYS = ['content', 'contents', 'text', 'file_text', 'data'];
const COMMAND_KEYS = ['command', 'cmd', 'script', 'commands'];

/** A string quoted for a POSIX shell. */
function sh(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function props(t: NormalizedTool): Record<string, any> {
  const p = (t.parameters as { properties?: unknown } | undefined)?.properties;
  return p && typeof p === 'object' ? (p as Record<string, any>) : {};
}

function key(t: NormalizedTool, candidates: string[]): string {
  const have = Object.keys(props(t));
  return candidates.find((k) => have.includes(k)) ?? candidates[0]!;
}

/** The working directory a CLI's prompt names (Claude Code, Codex, Qwen Code, and similar wordings). */
function workingDir(messages: NormalizedMessage[]): string | undefined {
  const patterns = [/Primary working directory: (\/\S*)/, /<cwd>(\/[^<]*)<\/cwd>/, /current working directory(?: is|:)\s*[`'"]?(\/[^\s`'"]*)/i, /working directory(?: is|:)\s*[`'"]?(\/[^\s`'"]*)/i];
  for (const m of messages) {
    if (m.role !== 'system' && m.role !== 'user') continue;
    for (const re of patterns) {
      const hit = re.exec(m.text);
      if (hit) return hit[1]!.replace(/[.,;:]+$/, '');
    }
  }
  return undefined;
}

function shellCall(t: NormalizedTool, spec: CliEditSpec): ScriptedToolCall {
  const dir = spec.path.includes('/') ? `mkdir -p ${sh(spec.path.slice(0, spec.path.lastIndexOf('/')) || '/')} && ` : '';
  const script = `${dir}printf '%s' ${sh(spec.content)} > ${sh(spec.path)}`;
  const k = key(t, COMMAND_KEYS);
  const argv = props(t)[k]?.type === 'array';
  const args: Record<string, unknown> = { [k]: argv ? ['bash', '-lc', script] : script };
  if ('description' in props(t)) args.description = `write ${spec.path}`;
  return { name: t.name, arguments: args };
}

function fileCall(t: NormalizedTool, spec: CliEditSpec, messages: NormalizedMessage[]): ScriptedToolCall {
  const cwd = workingDir(messages);
  const path = spec.path.startsWith('/') || !cwd ? spec.path : `${cwd.replace(/\/$/, '')}/${spec.path}`;
  if (t.name === 'apply_patch') {
    const lines = spec.content.replace(/\n$/, '').split('\n').map((l) => `+${l}\n`).join('');
    const patch = `*** Begin Patch\n*** Add File: ${path}\n${lines}*** End Patch\n`;
    return t.custom ? { name: t.name, input: patch } : { name: t.name, arguments: { [key(t, ['input', 'patch'])]: patch } };
  }
  return { name: t.name, arguments: { [key(t, PATH_KEYS)]: path, [key(t, CONTENT_KEYS)]: spec.content } };
}

/** The tools to try, in order: the preferred kind first, each kind in the order of its name list. */
function candidates(tools: NormalizedTool[], prefer: 'shell' | 'file'): { tool: NormalizedTool; kind: 'shell' | 'file' }[] {
  const pick = (names: string[], kind: 'shell' | 'file') => names.flatMap((n) => tools.filter((t) => t.name === n).map((tool) => ({ tool, kind })));
  const shell = pick(SHELL_TOOLS, 'shell');
  const file = pick(FILE_TOOLS, 'file');
  return prefer === 'file' ? [...file, ...shell] : [...shell, ...file];
}

export function cliEditPolicy(spec: CliEditSpec): Policy {
  const answer = spec.answer ?? `Done: wrote ${spec.path}.`;
  return ({ messages, tools }): ScriptedTurn => {
    const list = candidates(tools, spec.prefer ?? 'shell');
    const calls = new Map<string, string>();
    for (const m of messages) for (const c of m.tool_calls ?? []) calls.set(c.id, c.name);
    const results = messages.filter((m) => m.role === 'tool' && calls.has(m.tool_call_id ?? ''));
    const last = results.at(-1);
    if (last && !last.is_error && !/^\[tool error\]/.test(last.text)) return { text: answer };
    const tried = new Set(results.map((r) => calls.get(r.tool_call_id ?? '')));
    const next = list.find((c) => !tried.has(c.tool.name));
    if (!next) return { text: list.length ? `${answer} (the edit may have failed: ${last?.text.slice(0, 200) ?? 'no result'})` : answer };
    return { tool_calls: [next.kind === 'shell' ? shellCall(next.tool, spec) : fileCall(next.tool, spec, messages)] };
  };
}

/** Built-in policies by name (`--policy NAME`). */
export const BUILTIN_POLICIES = { 'cli-edit': cliEditPolicy } as const;
