// The `outlast` command line. One file per command; this file wires them together and turns
// errors into one-line messages and documented exit codes.
import { Command, CommanderError } from 'commander';
import { isUserError, oneLine } from '../core/errors.js';
import { versions } from '../runner/provenance.js';
import { asDiskFull, isDiskFullError } from '../store/disk.js';
import { EXIT, layoutFor } from './common.js';
import * as call from './call.js';
import * as check from './check.js';
import * as gateway from './gateway.js';
import * as harnessCmd from './harness.js';
import * as list from './list.js';
import * as rebuild from './rebuild.js';
import * as resume from './resume.js';
import * as run from './run.js';
import * as scriptedModel from './scripted-model.js';
import * as show from './show.js';
import * as report from './report.js';
import * as view from './view.js';
import * as exportCmd from './export.js';
import * as review from './review.js';

const program = new Command();
program
  .name('outlast')
  .description('Can I hand this model a long, open-ended task and walk away? Run tasks through harnesses, grade them with verifiers, and keep every step.')
  .version(versions().outlast)
  .option('--home <dir>', 'where experiments and the database live (default: $OUTLAST_HOME or ./.outlast)')
  .configureOutput({ outputError: (str, write) => write(`outlast: ${str.replace(/^error: /, '').trimEnd()} (see --help)\n`) })
  .exitOverride();

for (const cmd of [run, check, show, list, resume, rebuild, gateway, scriptedModel]) cmd.register(program);
for (const cmd of [report, view, exportCmd, call, harnessCmd, review]) cmd.register(program);
for (const c of program.commands) for (const sub of [c, ...c.commands]) sub.exitOverride().configureOutput(program.configureOutput());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed its one-line message (or the help/version text).
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (isDiskFullError(err)) {
    // outlast's own files found the disk full before any rollout could stop cleanly (the database, experiment.json)
    const full = asDiskFull(err, layoutFor(program.opts()).db)!;
    process.stderr.write(`outlast: ${oneLine(full.message)}; nothing recorded is lost: free space there, then run the command again (or \`outlast resume\`)\n`);
    process.exitCode = EXIT.storage;
  } else if (isUserError(err)) {
    process.stderr.write(`outlast: ${oneLine(err.message)}\n`);
    process.exitCode = err.exitCode;
  } else {
    const e = err as Error;
    process.stderr.write(`outlast: internal error: ${oneLine(e?.message ?? String(err))} (this is a bug in outlast; set OUTLAST_DEBUG=1 for the stack trace)\n`);
    if (process.env.OUTLAST_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    process.exitCode = EXIT.internal;
  }
}
