// Turn schema-library errors into one-line messages that name the file, the field, what was expected
// and what was found. Every external input (task.toml, models.toml, scripts, CLI options) goes
// through `parseWith`.
import { z } from 'zod';
import { UserError, oneLine } from './errors.js';

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'a table';
  return `${typeof v} ${String(v)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

/** One line for the first problem in a zod error. */
export function formatIssue(source: string, issue: z.core.$ZodIssue, input: unknown): string {
  const path = issue.path as PropertyKey[];
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    const where = path.length ? ` in ${fieldName(path)}` : '';
    return oneLine(`${source}: unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}${where}`);
  }
  const found = describeValue(valueAt(input, path));
  return oneLine(`${source}: field ${fieldName(path)}: ${issue.message}; found ${found}`);
}

/** Parse `input` with `schema`, or throw a UserError naming `source` (usually a file path). */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, source: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new UserError(formatIssue(source, r.error.issues[0]!, input));
}
