// The tools of a Responses client toward other protocols, and the output items its calls come back
// as. Function tools map one to one; a `custom` (free-form) tool becomes a function tool with one
// string parameter; a `namespace`'s tools become function tools named `<namespace>__<tool>`; the
// client-run `tool_search` becomes a function tool `tool_search`; tools marked `defer_loading` are
// offered once the conversation loaded them (a `tool_search_output` item lists them); hosted web
// search is dropped (no other upstream runs it); other hosted tools are refused. docs/gateway.md,
// "Agent CLIs' requests", lists each decision.
import type { Protocol } from '../../core/types.js';
import { CUSTOM_TOOL_PARAM, type IRRequest, type IRTool, invalid, isObj, untranslatable } from '../ir.js';

const P: Protocol = 'openai-responses';

/** Joins a namespace and a tool's name into the one name other protocols see. */
export const NAMESPACE_SEPARATOR = '__';

/** The name under which a client-run tool search is offered to other protocols. */
export const TOOL_SEARCH_NAME = 'tool_search';

/** Hosted tools dropped toward other protocols: the model there just does not get them. */
const DROPPED_HOSTED = new Set(['web_search', 'web_search_preview', 'web_search_preview_2025_03_11', 'web_search_2025_08_26']);

function description(t: Record<string, any>): string | undefined {
  return typeof t.description === 'string' ? t.description : undefined;
}

function customTool(t: Record<string, any>, name: string): IRTool {
  const f = isObj(t.format) ? t.format : null;
  const grammar = f && f.type === 'grammar' && typeof f.definition === 'string' ? ` It must follow this ${String(f.syntax ?? '')} grammar:\n${f.definition}` : '';
  return {
    name,
    description: description(t),
    parameters: { type: 'object', properties: { [CUSTOM_TOOL_PARAM]: { type: 'string', description: `The raw, free-form input of this tool.${grammar}` } }, required: [CUSTOM_TOOL_PARAM], additionalProperties: false },
    custom: true,
  };
}

/** One function or custom tool (inside a namespace when `ns` is set); null when it is deferred and not loaded. */
function memberTool(t: Record<string, any>, where: string, ns: string | undefined, loaded: boolean): IRTool | null {
  if (typeof t.name !== 'string' || !t.name) throw invalid(`${where}.name must be a non-empty string`);
  if (t.defer_loading === true && !loaded) return null;
  const name = ns ? `${ns}${NAMESPACE_SEPARATOR}${t.name}` : t.name;
  const tool: IRTool = t.type === 'custom' ? customTool(t, name) : { name, description: description(t), parameters: t.parameters, strict: typeof t.strict === 'boolean' ? t.strict : undefined };
  if (ns) tool.namespace = ns;
  return tool;
}

/** A tool definition toward another protocol: its IR tools (several for a namespace, none when dropped). */
function crossTool(t: Record<string, any>, where: string, loaded: boolean, to: Protocol): IRTool[] {
  switch (t.type) {
    case 'function':
    case 'custom': {
      const tool = memberTool(t, where, undefined, loaded);
      return tool ? [tool] : [];
    }
    case 'namespace': {
      if (typeof t.name !== 'string' || !t.name) throw invalid(`${where}.name must be a non-empty string`);
      if (!Array.isArray(t.tools)) throw invalid(`${where}.tools must be an array`);
      return t.tools.flatMap((m: unknown, j: number) => {
        if (!isObj(m) || (m.type !== 'function' && m.type !== 'custom')) throw untranslatable(`a namespace member of type "${isObj(m) ? String(m.type) : typeof m}"`, P, to);
        const tool = memberTool(m, `${where}.tools[${j}]`, t.name, loaded);
        return tool ? [tool] : [];
      });
    }
    case 'tool_search':
      // Run by the server (hosted) it has nothing to search elsewhere; run by the client it is a function.
      if (t.execution !== 'client') return [];
      return [{ name: TOOL_SEARCH_NAME, description: description(t), parameters: isObj(t.parameters) ? t.parameters : { type: 'object', properties: {} }, tool_search: true }];
    default:
      if (typeof t.type === 'string' && DROPPED_HOSTED.has(t.type)) return [];
      throw untranslatable(`tool of type "${String(t.type)}"`, P, to);
  }
}

/**
 * The request's tools as IR tools. Same protocol: function tools only (the rest passes through in the
 * body). `loaded`: tool definitions from the conversation's `tool_search_output` items, offered too.
 */
export function parseResponsesTools(tools: unknown, opts: { target: Protocol }, loaded: unknown[] = []): IRTool[] {
  if (tools === undefined || tools === null) tools = [];
  if (!Array.isArray(tools)) throw invalid('tools must be an array');
  const out: IRTool[] = [];
  if (opts.target === P) {
    tools.forEach((t, i) => {
      if (!isObj(t)) throw invalid(`tools[${i}] must be an object`);
      if (t.type !== 'function') return;
      if (typeof t.name !== 'string' || !t.name) throw invalid(`tools[${i}].name must be a non-empty string`);
      out.push({ name: t.name, description: description(t), parameters: t.parameters, strict: typeof t.strict === 'boolean' ? t.strict : undefined });
    });
    return out;
  }
  const seen = new Set<string>();
  const add = (list: unknown[], where: (i: number) => string, isLoaded: boolean) =>
    list.forEach((t, i) => {
      if (!isObj(t)) throw invalid(`${where(i)} must be an object`);
      for (const tool of crossTool(t, where(i), isLoaded, opts.target)) if (!seen.has(tool.name)) (seen.add(tool.name), out.push(tool));
    });
  add(tools, (i) => `tools[${i}]`, false);
  add(loaded, (i) => `tool_search_output tools[${i}]`, true);
  return out;
}

/** The IR name of a function or custom tool call item (namespaced calls get the joined name). */
export function callName(it: Record<string, any>): string {
  return typeof it.namespace === 'string' && it.namespace ? `${it.namespace}${NAMESPACE_SEPARATOR}${String(it.name)}` : String(it.name);
}

export type CallKind = 'function' | 'custom' | 'tool_search';

/** What a call to the IR tool `name` is for the Responses client, and its name and namespace there. */
export function callForm(req: IRRequest, name: string): { kind: CallKind; name: string; namespace?: string } {
  const t = req.tools.find((x) => x.name === name);
  const kind: CallKind = t?.custom ? 'custom' : t?.tool_search ? 'tool_search' : 'function';
  if (!t?.namespace) return { kind, name };
  return { kind, name: name.slice(t.namespace.length + NAMESPACE_SEPARATOR.length), namespace: t.namespace };
}

/** The free-form input of a custom tool call made as a function call with `{"input": ...}`. */
export function customInput(args: string): string {
  try {
    const v = JSON.parse(args) as unknown;
    if (isObj(v) && typeof v[CUSTOM_TOOL_PARAM] === 'string') return v[CUSTOM_TOOL_PARAM];
  } catch {
    /* not JSON: pass the text on as it is */
  }
  return args;
}

function searchArguments(args: string): unknown {
  try {
    return JSON.parse(args || '{}') as unknown;
  } catch {
    return {};
  }
}

/** The output item of a tool call for a Responses client: function_call, custom_tool_call or tool_search_call. */
export function callItem(req: IRRequest, c: { id: string; call_id: string; name: string; args: string }, status: 'in_progress' | 'completed'): Record<string, unknown> {
  const f = callForm(req, c.name);
  const ns = f.namespace ? { namespace: f.namespace } : {};
  const done = status === 'completed';
  if (f.kind === 'custom') return { type: 'custom_tool_call', id: c.id, call_id: c.call_id, name: f.name, ...ns, input: done ? customInput(c.args) : '', status };
  if (f.kind === 'tool_search') return { type: 'tool_search_call', id: c.id, call_id: c.call_id, execution: 'client', arguments: done ? searchArguments(c.args) : {}, status };
  return { type: 'function_call', id: c.id, call_id: c.call_id, name: f.name, ...ns, arguments: done ? c.args : '', status };
}

/** The names of the tools a `tool_search_output` item loaded. */
export function loadedNames(tools: unknown): string[] {
  return Array.isArray(tools) ? tools.flatMap((t) => (isObj(t) && typeof t.name === 'string' ? [t.name] : [])) : [];
}
