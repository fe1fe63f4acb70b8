// `outlast scripted-model --script FILE`: run the scripted model server until SIGINT/SIGTERM.
import { appendFileSync } from 'node:fs';
import { UserError, oneLine } from '../core/errors.js';
import { loadScript } from '../models/scripted/script.js';
import { startScriptedModel } from '../models/scripted/server.js';
import { untilStopped } from './until-stopped.js';

export interface ScriptedModelCliOptions {
  /** Path of a .jsonl script or a .js/.mjs policy module. */
  script: string;
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

/** Start the server, print `scripted model listening on URL`, and resolve once it stopped on SIGINT/SIGTERM. */
export async function runScriptedModelCli(o: ScriptedModelCliOptions): Promise<void> {
  const script = await loadScript(o.script);
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
