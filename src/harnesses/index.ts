// Harness registry: a name on the command line → the Harness that runs it.
import { UserError } from '../core/errors.js';
import type { Harness } from './harness.js';
import { NopHarness } from './nop.js';
import { OracleHarness } from './oracle.js';
import { OutlastHarness } from './outlast/index.js';

const FACTORIES: Record<string, () => Harness> = {
  outlast: () => new OutlastHarness(),
  oracle: () => new OracleHarness(),
  nop: () => new NopHarness(),
};

export function harnessNames(): string[] {
  return Object.keys(FACTORIES);
}

export function createHarness(name: string): Harness {
  const f = FACTORIES[name];
  if (!f) throw new UserError(`unknown harness "${name}" (available: ${harnessNames().join(', ')})`);
  return f();
}
