// Claude Code as an outlast harness: a native binary (its npm package's platform package, so no
// install script is needed), speaking Anthropic Messages only, over TCP (through the sandbox's
// forwarder). Non-essential traffic, telemetry, error reports and the auto-updater are switched off
// by environment; onboarding is marked done in ~/.claude.json; permissions are skipped (outlast's
// sandbox is the boundary). Output: `stream-json`. Transcript: ~/.claude/projects.
import type { CliSpec } from './spec.js';

const VERSION = '2.1.332';

export const CLAUDE_CODE: CliSpec = {
  name: 'claude-code',
  package: { name: '@anthropic-ai/claude-code', version: VERSION },
  protocols: ['anthropic'],
  bin: { path: '@anthropic-ai/claude-code-linux-x64/claude', node: false },
  executables: ['@anthropic-ai/claude-code-linux-x64/claude'],
  files: (r) => ({
    '.claude.json': JSON.stringify({ hasCompletedOnboarding: true, bypassPermissionsModeAccepted: true, customApiKeyResponses: { approved: [r.token.slice(-20)], rejected: [] } }, null, 2),
    '.claude/settings.json': JSON.stringify({ permissions: { defaultMode: 'bypassPermissions' }, autoUpdates: false, includeCoAuthoredBy: false }, null, 2),
  }),
  env: (r) => ({
    ANTHROPIC_BASE_URL: r.base_url,
    ANTHROPIC_API_KEY: r.token,
    ANTHROPIC_MODEL: r.model,
    ANTHROPIC_SMALL_FAST_MODEL: r.model,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: r.model,
    ANTHROPIC_DEFAULT_SONNET_MODEL: r.model,
    ANTHROPIC_DEFAULT_OPUS_MODEL: r.model,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_BUG_COMMAND: '1',
    CLAUDE_CODE_DISABLE_TERMINAL_TITLE: '1',
    IS_SANDBOX: '1',
  }),
  args: (r) => ['-p', r.prompt, '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', '--model', r.model],
  transcript: ['.claude/projects'],
  notes: 'Tries other hosts unless CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is set (set).',
};
