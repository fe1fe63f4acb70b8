// `outlast scripted-model --script FILE`: the scripted model server (a real HTTP server speaking the
// OpenAI Chat, OpenAI Responses and Anthropic Messages protocols), for tests and demos.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { runScriptedModelCli } from './scripted-model-serve.js';

function nonNegative(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0, got "${v}"`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('scripted-model')
    .description('serve a scripted model on 127.0.0.1 (all three protocols) whose replies come from a script; see docs/scripted-model.md')
    .option('-s, --script <file>', 'a .jsonl script (one turn per line) or a .js/.mjs module exporting a policy')
    .option('--policy <name>', 'a built-in policy instead of --script: cli-edit (write one file with the CLI\'s own shell or file tool, then answer)')
    .option('--edit-path <path>', 'cli-edit: the file to write (relative to the CLI\'s working directory)')
    .option('--edit-content <text>', 'cli-edit: its content')
    .option('--answer <text>', 'cli-edit: the final answer')
    .option('--prefer <kind>', 'cli-edit: try the CLI\'s "shell" (default) or "file" tool first')
    .option('-p, --port <port>', 'port (0 = pick a free one)', nonNegative('--port'), 0)
    .option('--ttft-ms <ms>', 'time to first token', nonNegative('--ttft-ms'), 0)
    .option('--tokens-per-sec <n>', 'output pacing (0 = as fast as possible)', nonNegative('--tokens-per-sec'), 0)
    .option('--loop', 'repeat the script from the start when it runs out')
    .option('--no-cache', 'do not report cached input tokens')
    .option('--api-key <key>', 'require this key from clients')
    .option('--record <file>', 'append every request (body, path, headers without credentials) to FILE as JSON lines')
    .action(async (opts: { script?: string; policy?: string; editPath?: string; editContent?: string; answer?: string; prefer?: string; port: number; ttftMs: number; tokensPerSec: number; loop?: boolean; cache: boolean; apiKey?: string; record?: string }) => {
      const builtin = opts.policy === undefined ? undefined : { name: opts.policy, path: opts.editPath, content: opts.editContent, answer: opts.answer, prefer: opts.prefer };
      await runScriptedModelCli({ script: opts.script, builtin, port: opts.port, ttftMs: opts.ttftMs, tokensPerSec: opts.tokensPerSec, loop: opts.loop, cache: opts.cache, apiKey: opts.apiKey, record: opts.record });
    });
}
