// The built-in rules, by id, and the built-in monitor that runs them all (docs/monitors.md lists them
// with examples). A new rule is a module here and a line in BUILTIN_RULES.
import type { Rule } from '../monitor.js';
import { alwaysEqual } from './always-equal.js';
import { earlyExit } from './early-exit.js';
import { falseSuccess } from './false-success.js';
import { graderFiles } from './grader-files.js';
import { introspection } from './introspection.js';
import { network } from './network.js';
import { skipTests } from './skip-tests.js';
import { testConfig } from './test-config.js';

export const BUILTIN_RULES: readonly Rule[] = [graderFiles, testConfig, earlyExit, skipTests, alwaysEqual, introspection, network, falseSuccess];
