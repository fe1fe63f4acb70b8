// The one end-to-end suite every external CLI adapter runs (cli-<name>.slow.test.ts): the real CLI
// from the npm registry, driven by the scripted model through the gateway, in the bwrap sandbox,
// edits the task's workspace and the verifier passes it, once per upstream protocol; what the
// gateway metered equals what the scripted server served; turns and tool calls come from the
// gateway's record; the native transcript is kept (and mapped into tool events where the CLI's
// output carries tool results).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Protocol } from '../../src/core/types.js';
import { ANSWER, answerTask, expectMeteredEqualsServed, runCli, startCliEnv, type CliEnv } from './cli-helpers.js';
import { PROTOCOLS, cleanup, ofType } from './helpers.js';

export interface SuiteOptions {
  /** The protocol the CLI speaks whatever the upstream (null: the upstream's own). */
  client: Protocol | null;
  /** Whether the CLI's machine-readable output carries tool results (mapped into tool.result events). */
  mapsToolResults: boolean;
}

export function cliSuite(name: string, o: SuiteOptions): void {
  let env: CliEnv;
  beforeAll(async () => {
    env = await startCliEnv();
  });
  afterAll(async () => {
    await env?.close();
    cleanup();
  });

  describe(name, () => {
    for (const upstream of PROTOCOLS) {
      it(`edits the workspace and passes (upstream ${upstream})`, async () => {
        env.served.length = 0;
        const task = await answerTask();
        const { result, events, workspace, dir } = await runCli(env, name, task, { upstream });
        expect(result, result.reason).toMatchObject({ outcome: 'completed', score: { passed: true } });
        expect(fs.readFileSync(path.join(workspace, 'answer.txt'), 'utf8')).toBe(`${ANSWER}\n`);
        expectMeteredEqualsServed(events, env.served);
        const requests = ofType(events, 'model.request');
        expect(new Set(requests.map((e) => e.client_protocol))).toEqual(new Set([o.client ?? upstream]));
        expect(new Set(requests.map((e) => e.protocol))).toEqual(new Set([upstream]));
        // one shell call, then the final answer: counted from the gateway's record
        const finished = ofType(events, 'rollout.finished')[0]!;
        expect(finished.totals).toMatchObject({ tool_calls: 1 });
        expect(finished.totals.turns).toBe(ofType(events, 'model.response').filter((e) => e.status === 200).length);
        expect(fs.readdirSync(path.join(dir, 'cli', '.outlast'))).toContain('stdout.jsonl');
        if (o.mapsToolResults) expect(ofType(events, 'tool.result').map((e) => e.output.trim())).toEqual([ANSWER]);
      }, 240_000);
    }
  });
}
