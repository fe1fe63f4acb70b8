// The CLI entry function: starts, prints the URL, stops on a signal.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { runScriptedModelCli } from '../../../src/cli/scripted-model-serve.js';

describe('scripted model: CLI entry', () => {
  it('prints the listening line, serves the script, and stops on abort', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outlast-scripted-cli-'));
    try {
      const script = join(dir, 's.jsonl');
      await writeFile(script, '{"text":"from the cli"}\n');
      const lines: string[] = [];
      const ac = new AbortController();
      let printed!: () => void;
      const ready = new Promise<void>((r) => (printed = r));
      const done = runScriptedModelCli({ script, port: 0, ttftMs: 10, tokensPerSec: 0, loop: true, signal: ac.signal, print: (l) => (lines.push(l), printed()) });
      await ready;
      const url = /^scripted model listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(lines[0]!)?.[1];
      expect(url).toBeTruthy();
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
      for (let i = 0; i < 2; i++) expect((await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).choices[0]!.message.content).toBe('from the cli');
      ac.abort();
      await done;
      await expect(fetch(`${url}/v1/models`)).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with a one-line UserError for a bad script', async () => {
    await expect(runScriptedModelCli({ script: '/nonexistent/s.jsonl' })).rejects.toThrow(/cannot read the script/);
  });
});
