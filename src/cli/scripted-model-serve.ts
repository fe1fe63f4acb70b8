// `outlast scripted-model --script FILE`: run the scripted model server until SIGINT/SIGTERM.
import { appendFileSync } from 'node:fs';
import { UserError, oneLine } from '../core/errors.js';
import { cliEditPolicy } from '../models/scripted/cli-edit.js';
import { loadScript } from '../models/scripted/script.js';
import type { Policy, ScriptedTurn } from '../models/scripted/types.js';
import { startScriptedModel } from '../models/scripted/server.js';
import { untilStopped } from './until-stopped.js';

export interface ScriptedModelCliOptions {
  /** Path of a .jsonl script or a .js/.mjs policy module (or `builtin`). */
  script?: string;
  /** A built-in policy instead of a script (`--policy NAME` and its options). */
  builtin?: BuiltinChoice;
  port?: number;
  ttftMs?: number;
  tokensPerSec?: number;
  loop?: boolean;
  /** Report cached input tokens (default true). */
  cache?: boolean;
  /** Require this key from clients. */
  apiKey?: string;
  /** Append every request to this file as JSON lines (`--record`). */
  record?: string;
  /** Where the listening line goes (default: stdout). */
  print?: (line: string) => void;
  /** Stop when this aborts, besides SIGINT/SIGTERM (for tests). */
  signal?: AbortSignal;
}

export interface BuiltinChoice {
  name: string;
  path?: string;
  content?: string;
  answer?: string;
  prefer?: string;
}

/** The script: `--script FILE`, or `--policy NAME` with its options (one-line errors for mistakes). */
async function chooseScript(o: ScriptedModelCliOptions): Promise<ScriptedTurn[] | Policy> {
  if (o.script !== undefined && o.builtin) throw new UserError('give either --script or --policy, not both');
  if (o.script !== undefined) return loadScript(o.script);
  const b = o.builtin;
  if (!b) throw new UserError('a script is required: --script FILE or --policy cli-edit');
  if (b.name !== 'cli-edit') throw new UserError(`--policy: unknown built-in policy "${b.name}" (known: cli-edit)`);
  if (!b.path) throw new UserError('--policy cli-edit needs --edit-path PATH');
  if (b.content === undefined) throw new UserError('--policy cli-edit needs --edit-content TEXT');
  if (b.prefer !== undefined && b.prefer !== 'shell' && b.prefer !== 'file') throw new UserError(`--prefer must be "shell" or "file", got "${b.prefer}"`);
  return cliEditPolicy({ path: b.path, content: b.content, answer: b.answer, prefer: b.prefer as 'shell' | 'file' | undefined });
}

/** Start the server, print `scripted model listening on URL`, and resolve once it stopped on SIGINT/SIGTERM. */
export async function runScriptedModelCli(o: ScriptedModelCliOptions): Promise<void> {
  const script = await chooseScript(o);
  if (o.record) {
    try {
      appendFileSync(o.record, '');
    } catch (e) {
      throw new UserError(oneLine(`--record ${o.record}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
    }
  }
  const model = await startScriptedModel({
    script,
    port: o.port,
    ttft_ms: o.ttftMs,
    tokens_per_sec: o.tokensPerSec,
    loop: o.loop,
    cache: o.cache,
    api_key: o.apiKey,
    record_file: o.record,
  });
  (o.print ?? ((l: string) => process.stdout.write(l + '\n')))(`scripted model listening on ${model.url}`);
  await untilStopped(o.signal);
  await model.close();
}
