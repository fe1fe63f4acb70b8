// The standalone gateway (`outlast gateway`): start from a models.toml, print URL and token, serve
// calls logged to <dir>/gateway.jsonl, stop on abort.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { describe, expect, it } from 'vitest';
import { runGatewayCli, GATEWAY_TOKEN_ENV } from '../../src/cli/gateway-serve.js';
import { startScriptedModel } from '../../src/models/scripted/index.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { FAKE_KEY, KEY_ENV, allFiles } from './helpers.js';
import { openai } from './clients.js';

describe('runGatewayCli', () => {
  it.each([
    ['a static token from the environment', { [GATEWAY_TOKEN_ENV]: 'static-token-123456' }],
    ['a minted token, printed', {}],
  ])('%s', async (_name, extraEnv) => {
    const sm = await startScriptedModel({ script: [{ text: 'standalone ok' }], loop: true, api_key: FAKE_KEY });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-gwcli-'));
    const models = path.join(dir, 'models.toml');
    fs.writeFileSync(models, `[[models]]\nname = "m"\nprotocol = "anthropic"\nbase_url = "${sm.url}/v1"\nupstream_model = "claude-haiku-4-5"\napi_key_env = "${KEY_ENV}"\naliases = ["claude-haiku-4-5-20251001"]\n`);
    const lines: string[] = [];
    const ac = new AbortController();
    let ready!: (v: { url: string; token: string; logFile: string }) => void;
    const readyP = new Promise<{ url: string; token: string; logFile: string }>((r) => (ready = r));
    const done = runGatewayCli({ modelsFile: models, port: 0, dir: path.join(dir, 'run'), env: { [KEY_ENV]: FAKE_KEY, ...extraEnv }, print: (l) => lines.push(l), signal: ac.signal, onReady: ready });
    const g = await readyP;
    try {
      expect(lines[0]).toBe(`outlast gateway listening on ${g.url}`);
      if (GATEWAY_TOKEN_ENV in extraEnv) {
        expect(g.token).toBe('static-token-123456');
        expect(lines[1]).toBe(`token: (from ${GATEWAY_TOKEN_ENV})`);
      } else expect(lines[1]).toBe(`token: ${g.token}`);
      const r = await openai(g.url, g.token).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      expect(r.choices[0]!.message.content).toBe('standalone ok');
      // An alias (the dated id an external CLI sends) reaches the same endpoint.
      const a = await openai(g.url, g.token).chat.completions.create({ model: 'claude-haiku-4-5-20251001', messages: [{ role: 'user', content: 'hi' }] });
      expect(a.choices[0]!.message.content).toBe('standalone ok');
    } finally {
      ac.abort();
      await done;
      await sm.close();
    }
    const evs = readTrajectory(g.logFile).events;
    expect(evs.map((e) => e.type)).toEqual(['model.request', 'model.response', 'model.request', 'model.response']);
    expect(evs.map((e) => (e as { model: string }).model)).toEqual(['m', 'm', 'm', 'm']);
    expect(evs[1]).toMatchObject({ status: 200, price_table: expect.stringMatching(/claude-haiku-4-5$/) });
    for (const f of allFiles(dir)) expect(fs.readFileSync(f, 'utf8')).not.toContain(FAKE_KEY);
  });

  it('--socket: also listens on a unix socket', async () => {
    const sm = await startScriptedModel({ script: [{ text: 'via the socket' }], loop: true, api_key: FAKE_KEY });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-gwcli-'));
    const models = path.join(dir, 'models.toml');
    fs.writeFileSync(models, `[[models]]\nname = "m"\nprotocol = "openai-chat"\nbase_url = "${sm.url}/v1"\napi_key_env = "${KEY_ENV}"\n`);
    const sock = path.join(dir, 'gw.sock');
    const lines: string[] = [];
    const ac = new AbortController();
    let ready!: (v: { token: string }) => void;
    const readyP = new Promise<{ token: string }>((r) => (ready = r));
    const done = runGatewayCli({ modelsFile: models, socket: sock, dir: path.join(dir, 'run'), env: { [KEY_ENV]: FAKE_KEY }, print: (l) => lines.push(l), signal: ac.signal, onReady: ready });
    const g = await readyP;
    const dispatcher = new Agent({ connect: { socketPath: sock } });
    try {
      expect(lines[0]).toMatch(new RegExp(`and ${sock}$`));
      const res = await undiciFetch('http://gateway/v1/chat/completions', { method: 'POST', dispatcher, headers: { authorization: `Bearer ${g.token}` }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) });
      expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('via the socket');
    } finally {
      await dispatcher.close();
      ac.abort();
      await done;
      await sm.close();
    }
    await expect(runGatewayCli({ modelsFile: models, socket: path.join(dir, 'no', 'such', 'gw.sock'), print: () => {} })).rejects.toThrow(/--socket: directory .* does not exist/);
  });

  it('a bad models.toml is a one-line UserError', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-gwcli-'));
    fs.writeFileSync(path.join(dir, 'models.toml'), '[[models]]\nname = "m"\n');
    await expect(runGatewayCli({ modelsFile: path.join(dir, 'models.toml'), print: () => {} })).rejects.toThrow(/models\.toml: field models\[0\]\.protocol/);
  });
});
