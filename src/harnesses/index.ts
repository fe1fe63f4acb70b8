// Harness registry: a name on the command line → the Harness that runs it.
import { UserError } from '../core/errors.js';
import { CLI_SPECS, CliHarness } from './cli/index.js';
import type { Harness } from './harness.js';
import { NopHarness } from './nop.js';
import { OracleHarness } from './oracle.js';
import { OutlastHarness } from './outlast/index.js';

type Settings = Record<string, unknown>;

function noSettings(name: string, make: () => Harness): (s: Settings) => Harness {
  return (s) => {
    const keys = Object.keys(s);
    if (keys.length) throw new UserError(`harness ${name} takes no settings (got ${keys.join(', ')})`);
    return make();
  };
}

const FACTORIES: Record<string, (settings: Settings) => Harness> = {
  outlast: (s) => new OutlastHarness(s),
  oracle: noSettings('oracle', () => new OracleHarness()),
  nop: noSettings('nop', () => new NopHarness()),
  ...Object.fromEntries(Object.values(CLI_SPECS).map((spec) => [spec.name, (s: Settings) => new CliHarness(spec, s)])),
};

export function harnessNames(): string[] {
  return Object.keys(FACTORIES);
}

/** The harness named `name`, configured with `settings` (validated by the harness). */
export function createHarness(name: string, settings: Settings = {}): Harness {
  const f = FACTORIES[name];
  if (!f) throw new UserError(`unknown harness "${name}" (available: ${harnessNames().join(', ')})`);
  return f(settings);
}
