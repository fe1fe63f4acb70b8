// Shared set-up of the external-CLI harness tests: a task whose verifier checks a file the CLI's
// shell tool must write, the CLI policy (fixtures/cli-policy.mjs) with a record of the usage it
// served, and a run of a real CLI through the real runner (gateway, bwrap sandbox, verifier).
import { expect } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import type { Limits, Protocol, Task, Usage } from '../../src/core/types.js';
import { CLI_SPECS, CliHarness } from '../../src/harnesses/cli/index.js';
import { loadTask } from '../../src/tasks/load.js';
// @ts-expect-error: plain JS fixture
import { makeCliPolicy } from './fixtures/cli-policy.mjs';
import { ofType, runViaRunner, startEnv, tmpdir, writeTree, type Env } from './helpers.js';

export const ANSWER = 'hello from the cli';

/** A task passed only when answer.txt holds ANSWER (the CLI must really have run the command). */
export async function answerTask(toml = ''): Promise<Task> {
  const dir = writeTree(tmpdir('outlast-cli-task-'), {
    'task.toml': `[task]\nname = "answer"\n\n[agent]\ntimeout_sec = 300\n\n[verifier]\ncommand = "bash /tests/test.sh"\ntimeout_sec = 60\n${toml}`,
    'instruction.md': `Write the line "${ANSWER}" into answer.txt in the workspace.\n`,
    'workspace/README': 'start here\n',
    'tests/test.sh': `#!/bin/bash\ngrep -qx '${ANSWER}' answer.txt\n`,
  });
  return loadTask(dir);
}

export interface CliEnv extends Env {
  served: Usage[];
}

export async function startCliEnv(commands?: string[]): Promise<CliEnv> {
  const served: Usage[] = [];
  const env = await startEnv({ script: makeCliPolicy({ served, ...(commands ? { commands } : {}) }) });
  return Object.assign(env, { served });
}

export async function runCli(env: CliEnv, name: string, task: Task, o: { upstream: Protocol; settings?: Record<string, unknown>; limits?: Limits; signal?: AbortSignal; onEvent?: (e: TrajectoryEvent) => void }) {
  const harness = new CliHarness(CLI_SPECS[name]!, o.settings ?? {});
  return runViaRunner(env, task, { protocol: o.upstream, harness, limits: o.limits, signal: o.signal, onEvent: o.onEvent, rolloutId: `r-${name}-${o.upstream}-${Math.random().toString(36).slice(2, 8)}` });
}

/** What the gateway metered equals what the scripted server served (every call went through it). */
export function expectMeteredEqualsServed(events: TrajectoryEvent[], served: Usage[]): void {
  const metered = ofType(events, 'model.response').map((e) => e.usage);
  const sum = (us: Usage[]) => us.reduce((a, u) => ({ input: a.input + u.input, output: a.output + u.output }), { input: 0, output: 0 });
  expect(metered.length).toBe(served.length);
  expect(sum(metered)).toEqual(sum(served));
}
