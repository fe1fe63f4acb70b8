// The external agent CLIs outlast can run as harnesses: one declarative spec each (spec.ts), run by
// one generic runner (harness.ts). A new CLI is a new spec file listed here. See docs/harnesses.md.
import type { CliSpec } from './spec.js';
import { CLAUDE_CODE } from './claude-code.js';
import { CODEX } from './codex.js';
import { OPENCLAW } from './openclaw.js';
import { QWEN_CODE } from './qwen-code.js';

export const CLI_SPECS: Record<string, CliSpec> = {
  [CLAUDE_CODE.name]: CLAUDE_CODE,
  [CODEX.name]: CODEX,
  [OPENCLAW.name]: OPENCLAW,
  [QWEN_CODE.name]: QWEN_CODE,
};

export { CliHarness, resolveCliSettings, cliPrompt, type CliSettings } from './harness.js';
export { ensureInstalled, installDir, isInstalled, cacheRoot } from './install.js';
export type { CliSpec, CliRun, NpmPackage } from './spec.js';
