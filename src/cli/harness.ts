// `outlast harness list|install`: the external agent CLIs outlast can run as harnesses, and putting
// one (pinned, from the npm registry npm is configured with) into the install cache ahead of a run.
// A run installs what it needs by itself on first use; this command is for doing it while online.
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { CLI_SPECS, cacheRoot, ensureInstalled, installDir, isInstalled } from '../harnesses/cli/index.js';
import { renderTable } from '../report/plain-table.js';

export function register(program: Command): void {
  const harness = program.command('harness').description('external agent CLIs as harnesses (Claude Code, Codex, Qwen Code, OpenClaw): list them, install them; see docs/harnesses.md');
  harness
    .command('list')
    .description('the external CLIs, their pinned versions, and whether they are in the install cache')
    .action(() => {
      const rows = Object.values(CLI_SPECS).map((s) => [s.name, `${s.package.name}@${s.package.version}`, s.node ? `${s.node.name}@${s.node.version}` : 'outlast\'s', s.protocols.join(', '), isInstalled(s.package) && (!s.node || isInstalled(s.node)) ? 'yes' : 'no']);
      process.stdout.write(renderTable(['harness', 'package', 'node', 'speaks', 'installed'], rows) + `\ninstall cache: ${cacheRoot()}\n`);
    });
  harness
    .command('install')
    .description('install external CLIs (pinned versions, from the npm registry) into the install cache')
    .argument('<names...>', `harness names (${Object.keys(CLI_SPECS).join(', ')}), or "all"`)
    .action(async (names: string[]) => {
      const specs = names.includes('all') ? Object.values(CLI_SPECS) : names.map((n) => CLI_SPECS[n] ?? bad(n));
      for (const s of specs) {
        const node = s.node ? await ensureInstalled(s.node) : null;
        await ensureInstalled(s.package, { executables: s.executables, ...(node ? { nodeBinDir: `${node}/${s.node!.name}/bin` } : {}) });
        process.stdout.write(`${s.name}: ${s.package.name}@${s.package.version} in ${installDir(s.package)}\n`);
      }
    });
}

function bad(name: string): never {
  throw new UserError(`unknown external CLI "${name}" (available: ${Object.keys(CLI_SPECS).join(', ')})`);
}
