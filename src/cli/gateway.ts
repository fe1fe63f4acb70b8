// `outlast gateway`: a standalone gateway on 127.0.0.1 (the runner starts its own in-process one).
import path from 'node:path';
import type { Command } from 'commander';
import { runGatewayCli } from './gateway-serve.js';
import { positiveInt } from './common.js';
import { InvalidArgumentError } from 'commander';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`must be a port number 0..65535, got "${v}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('gateway')
    .description('run the metering gateway on 127.0.0.1: OpenAI Chat, OpenAI Responses and Anthropic Messages in, any of them upstream; see docs/gateway.md')
    .option('--models <file>', 'models config', 'models.toml')
    .option('-p, --port <port>', 'port (0 = pick a free one)', port, 0)
    .option('--socket <path>', 'also listen on this unix socket')
    .option('--token <token>', 'the token clients must send (default: $OUTLAST_GATEWAY_TOKEN, else a random one, printed)')
    .option('--max-calls <n>', 'budget: model calls', positiveInt('--max-calls'))
    .option('--max-tokens <n>', 'budget: tokens', positiveInt('--max-tokens'))
    .option('-v, --verbose', 'log each call on stderr (keys redacted)')
    .action(async (opts: { models: string; port: number; socket?: string; token?: string; maxCalls?: number; maxTokens?: number; verbose?: boolean }) => {
      const home = program.opts<{ home?: string }>().home;
      await runGatewayCli({
        modelsFile: path.resolve(opts.models),
        port: opts.port,
        socket: opts.socket,
        token: opts.token,
        dir: path.join(home ? path.resolve(home) : path.resolve(process.env.OUTLAST_HOME || '.outlast'), 'gateway'),
        budget: { calls: opts.maxCalls, tokens: opts.maxTokens },
        verbose: opts.verbose,
      });
    });
}
