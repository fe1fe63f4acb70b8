// Scripts: a JSONL file of turns (validated line by line) or a JS module whose default export is a policy.
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { UserError, oneLine } from '../../core/errors.js';
import { formatIssue } from '../../core/validate.js';
import type { Policy, ScriptedTurn } from './types.js';

const count = z.number().int().nonnegative();

export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('rate_limit'), retry_after_sec: z.number().nonnegative().optional(), times: z.number().int().positive().optional() }),
  z.strictObject({ kind: z.literal('server_error'), status: z.number().int().min(500).max(599).optional(), times: z.number().int().positive().optional() }),
  z.strictObject({ kind: z.literal('delay'), ms: z.number().nonnegative() }),
  z.strictObject({ kind: z.literal('cut'), after_chunks: count }),
  z.strictObject({ kind: z.literal('malformed'), after_chunks: count.optional() }),
  z.strictObject({ kind: z.literal('hang') }),
  z.strictObject({ kind: z.literal('stall'), after_chunks: count.optional() }),
]);

export const turnSchema = z.strictObject({
  text: z.string().optional(),
  reasoning: z.string().optional(),
  tool_calls: z
    .array(
      z
        .strictObject({
          name: z.string().min(1),
          arguments: z.record(z.string(), z.unknown()).optional(),
          /** A free-form (Responses `custom`) tool's input, instead of `arguments`. */
          input: z.string().optional(),
          id: z.string().min(1).optional(),
        })
        .refine((c) => (c.arguments === undefined) !== (c.input === undefined), { message: 'a tool call needs exactly one of "arguments" (an object) or "input" (a custom tool\'s free-form text)', path: ['arguments'] }),
    )
    .optional(),
  usage: z
    .strictObject({ input: count.optional(), cached: count.optional(), cache_write: count.optional(), output: count.optional(), reasoning: count.optional() })
    .optional(),
  fault: faultSchema.optional(),
  ttft_ms: z.number().nonnegative().optional(),
  tokens_per_sec: z.number().nonnegative().optional(),
});

/** Validate one turn; throws a one-line UserError naming `source` and the field. */
export function parseTurn(input: unknown, source: string): ScriptedTurn {
  const r = turnSchema.safeParse(input);
  if (r.success) return r.data as ScriptedTurn;
  throw new UserError(formatIssue(source, r.error.issues[0]!, input));
}

/** Parse JSONL text: one turn per line; blank lines and lines starting with `#` or `//` are skipped. */
export function parseScriptText(text: string, file: string): ScriptedTurn[] {
  const turns: ScriptedTurn[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#') || line.startsWith('//')) continue;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new UserError(oneLine(`${where}: not valid JSON: ${(e as Error).message}`));
    }
    turns.push(parseTurn(value, where));
  }
  if (!turns.length) throw new UserError(`${file}: the script has no turns`);
  return turns;
}

/** Load a script: `.jsonl` (turns) or `.js`/`.mjs` (a module whose default export is a policy function). */
export async function loadScript(file: string): Promise<ScriptedTurn[] | Policy> {
  const ext = extname(file).toLowerCase();
  if (ext === '.js' || ext === '.mjs') {
    let mod: { default?: unknown };
    try {
      mod = await import(pathToFileURL(resolve(file)).href);
    } catch (e) {
      throw new UserError(oneLine(`${file}: cannot load the policy module: ${(e as Error).message}`));
    }
    if (typeof mod.default !== 'function') throw new UserError(`${file}: the default export must be a policy function (req) => turn`);
    return mod.default as Policy;
  }
  if (ext !== '.jsonl') throw new UserError(`${file}: a script must be a .jsonl file of turns or a .js/.mjs policy module`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UserError(oneLine(`${file}: cannot read the script: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
  }
  return parseScriptText(text, file);
}
