// The request record (`record_file` / `outlast scripted-model --record FILE`): every request as one
// JSON line with its path, query and body, credentials redacted; and Anthropic `role: "system"`
// messages (Claude Code sends them) taken as system prompts.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScriptedModelCli } from '../../../src/cli/scripted-model-serve.js';
import type { PolicyRequest } from '../../../src/models/scripted/index.js';
import { post, serve } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outlast-scripted-record-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('scripted model: request record', () => {
  it('appends every request, in order, without the credentials', async () => {
    const file = join(dir, 'requests.jsonl');
    let seen: PolicyRequest | undefined;
    const m = await serve({ script: (r) => ((seen = r), { text: 'ok' }), record_file: file });
    const anthropic = { model: 'claude', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }, { role: 'system', content: 'Be brief.' }] };
    const a = await post(`${m.url}/v1/messages?beta=true`, anthropic, { 'x-api-key': 'sk-secret-1', 'anthropic-version': '2023-06-01' });
    expect(a.status).toBe(200);
    expect(seen!.messages.map((x) => [x.role, x.text])).toEqual([['user', 'hi'], ['system', 'Be brief.']]);
    await post(`${m.url}/v1/chat/completions`, 'not json', { authorization: 'Bearer sk-secret-2' });
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.seq, l.protocol, l.path, l.query])).toEqual([[1, 'anthropic', '/v1/messages', 'beta=true'], [2, 'openai-chat', '/v1/chat/completions', '']]);
    expect(lines[0].body).toEqual(anthropic);
    expect(lines[0].headers['anthropic-version']).toBe('2023-06-01');
    expect(lines[1].body).toBe('not json');
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('sk-secret');
    expect(lines[0].headers['x-api-key']).toBe('[redacted]');
  });

  it('--record: an unwritable file is a one-line error before serving', async () => {
    const script = join(dir, 's.jsonl');
    await writeFile(script, '{"text":"x"}\n');
    await expect(runScriptedModelCli({ script, record: join(dir, 'no', 'such', 'r.jsonl') })).rejects.toThrow(/^--record .*: cannot write: ENOENT$/);
  });
});
