// Verifier registry: a task's [verifier] config → the Verifier that grades it.
import { UserError } from '../core/errors.js';
import type { CommandVerifierConfig, VerifierConfig } from '../core/types.js';
import { CommandVerifier } from './command.js';
import { SpeedupVerifier } from './speedup.js';
import type { Verifier } from './verifier.js';

type Factory = (config: VerifierConfig) => Verifier;

const FACTORIES: Record<string, Factory> = {
  command: (c) => new CommandVerifier(c as CommandVerifierConfig),
  speedup: (c) => new SpeedupVerifier(c),
};

/** Names of the verifier kinds this build can run. */
export function verifierKinds(): string[] {
  return Object.keys(FACTORIES);
}

export function createVerifier(config: VerifierConfig, source = 'task.toml'): Verifier {
  const f = FACTORIES[config.kind];
  if (!f) throw new UserError(`${source}: verifier kind "${config.kind}" is not available in this version of outlast (available: ${verifierKinds().join(', ')})`);
  return f(config);
}
