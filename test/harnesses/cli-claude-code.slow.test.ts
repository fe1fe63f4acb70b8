// Claude Code, the real CLI from the npm registry, as a harness: driven by the scripted model through
// the gateway, in the bwrap sandbox, it edits the task's workspace and the verifier passes it, in
// each of the three protocols (the gateway's upstream and Claude Code itself always speaks Anthropic Messages: the gateway translates).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOLS, cleanup, ofType } from './helpers.js';
import { ANSWER, answerTask, expectMeteredEqualsServed, runCli, startCliEnv, type CliEnv } from './cli-helpers.js';
import fs from 'node:fs';
import path from 'node:path';

let env: CliEnv;
beforeAll(async () => {
  env = await startCliEnv();
});
afterAll(async () => {
  await env?.close();
  cleanup();
});

describe('claude-code', () => {
  for (const upstream of PROTOCOLS) {
    it(`edits the workspace and passes (${upstream})`, async () => {
      env.served.length = 0;
      const task = await answerTask();
      const { result, events, workspace, dir } = await runCli(env, 'claude-code', task, { upstream });
      expect(result, result.reason).toMatchObject({ outcome: 'completed', score: { passed: true } });
      expect(fs.readFileSync(path.join(workspace, 'answer.txt'), 'utf8')).toBe(`${ANSWER}\n`);
      expectMeteredEqualsServed(events, env.served);
      const requests = ofType(events, 'model.request');
      expect(new Set(requests.map((e) => e.client_protocol))).toEqual(new Set(['anthropic']));
      expect(new Set(requests.map((e) => e.protocol))).toEqual(new Set([upstream]));
      const finished = ofType(events, 'rollout.finished')[0]!;
      expect(finished.totals).toMatchObject({ tool_calls: 1, turns: 2 });
      // the native transcript is kept, and its tool result is in the log
      expect(fs.readdirSync(path.join(dir, 'cli', '.outlast'))).toContain('stdout.jsonl');
      expect(ofType(events, 'tool.result').map((e) => e.output.trim())).toEqual([ANSWER]);
    }, 240_000);
  }
});
