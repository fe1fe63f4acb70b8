// Qwen Code as an outlast harness: speaks OpenAI Chat, OpenAI Responses or Anthropic Messages (its
// `--auth-type`), over TCP (through the sandbox's forwarder). Its usage statistics, telemetry and
// update checks are switched off in its settings; approvals off (`--yolo`), its own sandbox off
// (outlast's is the boundary). Output: `stream-json`. Transcript: ~/.qwen/projects/<cwd>/chats.
import type { CliSpec } from './spec.js';

const AUTH = { 'openai-chat': 'openai', 'openai-responses': 'openai-responses', anthropic: 'anthropic' } as const;

export const QWEN_CODE: CliSpec = {
  name: 'qwen-code',
  package: { name: '@qwen-code/qwen-code', version: '0.24.4' },
  protocols: ['openai-chat', 'openai-responses', 'anthropic'],
  bin: { path: '@qwen-code/qwen-code/cli.js', node: true },
  executables: ['@qwen-code/qwen-code/vendor/ripgrep/x64-linux/rg'],
  files: () => ({
    '.qwen/settings.json': JSON.stringify(
      {
        privacy: { usageStatisticsEnabled: false },
        telemetry: { enabled: false },
        general: { disableAutoUpdate: true, disableUpdateNag: true },
        tools: { sandbox: false },
      },
      null,
      2,
    ),
  }),
  env: (r) => ({
    OPENAI_API_KEY: r.token,
    OPENAI_BASE_URL: `${r.base_url}/v1`,
    OPENAI_MODEL: r.model,
    ANTHROPIC_API_KEY: r.token,
    ANTHROPIC_BASE_URL: r.base_url,
    QWEN_USAGE_STATISTICS_ENABLED: 'false',
    QWEN_CODE_SUPPRESS_YOLO_WARNING: '1',
    QWEN_CODE_DISABLE_PRECONNECT: '1',
    NO_BROWSER: '1',
    CI: '1',
  }),
  args: (r) => [r.prompt, '--yolo', '--output-format', 'stream-json', '--auth-type', AUTH[r.protocol], '-m', r.model],
  transcript: ['.qwen/projects'],
  notes: 'Sends usage statistics unless privacy.usageStatisticsEnabled is false (set).',
};
