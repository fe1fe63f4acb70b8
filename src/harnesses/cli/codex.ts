// Codex CLI as an outlast harness: a native binary (its npm package's platform package), speaking
// OpenAI Responses only (it refuses `wire_api = "chat"` itself), over TCP (through the sandbox's
// forwarder), to a model provider `outlast` defined in ~/.codex/config.toml with the token in an
// environment variable. Analytics, update checks and its own sandbox and approvals are off (outlast's
// sandbox is the boundary). Output: `exec --json` events. Transcript: ~/.codex/sessions.
import type { CliSpec } from './spec.js';

const VERSION = '0.171.0';
const BIN = '@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex';

/** A TOML basic string. */
function str(s: string): string {
  return JSON.stringify(s);
}

export const CODEX: CliSpec = {
  name: 'codex',
  package: { name: '@openai/codex', version: VERSION },
  protocols: ['openai-responses'],
  bin: { path: BIN, node: false },
  executables: [BIN],
  files: (r) => ({
    '.codex/config.toml': [
      `model = ${str(r.model)}`,
      'model_provider = "outlast"',
      'approval_policy = "never"',
      'sandbox_mode = "danger-full-access"',
      'check_for_update_on_startup = false',
      'hide_agent_reasoning = false',
      '',
      '[model_providers.outlast]',
      'name = "outlast gateway"',
      `base_url = ${str(`${r.base_url}/v1`)}`,
      'env_key = "OUTLAST_GATEWAY_TOKEN"',
      'wire_api = "responses"',
      'request_max_retries = 0',
      'stream_max_retries = 0',
      '',
      '[analytics]',
      'enabled = false',
      '',
      '[feedback]',
      'enabled = false',
      '',
      '[shell_environment_policy]',
      'inherit = "all"',
      '',
      `[projects.${str(r.workdir)}]`,
      'trust_level = "trusted"',
      '',
    ].join('\n'),
  }),
  env: (r) => ({ OUTLAST_GATEWAY_TOKEN: r.token, CODEX_HOME: `${r.home}/.codex`, NO_COLOR: '1' }),
  args: (r) => ['exec', '--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '-m', r.model, '-C', r.workdir, r.prompt],
  transcript: ['.codex/sessions'],
  notes: 'Looks up other hosts (DNS) even with analytics off: they fail in the sandbox, which has no network.',
};
