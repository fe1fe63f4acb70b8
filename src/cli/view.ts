// `outlast view`: serve the web viewer on loopback (experiments, leaderboard, comparison, rollouts).
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '../core/errors.js';
import { startViewServer } from '../report/server.js';
import { packageRoot } from '../runner/provenance.js';
import { openStore } from '../store/index.js';
import { layoutFor } from './common.js';
import { untilStopped } from './until-stopped.js';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`--port must be a whole number from 0 to 65535, got "${v}"`);
  return n;
}

export function viewerDir(): string {
  return process.env.OUTLAST_VIEWER_DIR ? path.resolve(process.env.OUTLAST_VIEWER_DIR) : path.join(packageRoot(), 'dist', 'viewer');
}

export function register(program: Command): void {
  program
    .command('view')
    .description('serve the web viewer on 127.0.0.1: experiments, leaderboard, comparisons, trajectories, charts')
    .option('--port <n>', 'port to listen on (default 7420; 0 picks a free one)', port, 7420)
    .action(async (opts: { port: number }) => {
      const dir = viewerDir();
      if (!fs.existsSync(path.join(dir, 'index.html'))) throw new UserError(`the web viewer is not built (${dir} has no index.html): run \`npm run build\` in the outlast directory`);
      const store = await openStore(layoutFor(program.opts()));
      let server;
      try {
        server = await startViewServer({ store, staticDir: dir, port: opts.port });
      } catch (e) {
        await store.close();
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UserError(`port ${opts.port} is in use: pick another with --port`);
        throw e;
      }
      process.stdout.write(`outlast viewer at ${server.url} (Ctrl-C to stop)\n`);
      await untilStopped();
      await server.close();
      await store.close();
    });
}
