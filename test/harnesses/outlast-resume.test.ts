// Crash safety: the harness's state is a pure function of its trajectory. A run stopped at any point
// (here: an exception thrown right after a chosen event is durably appended, or the model call in
// flight aborted) and resumed from the same trajectory file and workspace with a new
// TrajectoryWriter ends exactly like an uninterrupted run: same workspace, same tool calls, and only
// the step in flight repeated, marked `repeated: true`.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
// @ts-expect-error: plain JS fixture
import { makeStepPolicy } from './fixtures/step-policy.mjs';
import { type Env, cleanup, ofType, runDirect, snapshot, startEnv, stepTask, tmpdir } from './helpers.js';
import type { Task } from '../../src/core/types.js';
import type { NormalizedMessage, PolicyRequest } from '../../src/models/scripted/index.js';

afterAll(cleanup);

const STEPS = 20; // + submit = 21 tool calls
const SETTINGS = { compact_threshold: 0.5, keep_recent_turns: 3, max_tokens: 200, context_window: 2600 };

class Crash extends Error {}

/** Stop the run right after the n-th event of `type` is in the log (`abort`: by aborting the call in flight instead). */
function crashAt(type: TrajectoryEvent['type'], n: number, abort?: AbortController): (e: TrajectoryEvent) => void {
  let seen = 0;
  return (e) => {
    if (e.type !== type || ++seen !== n) return;
    if (abort) abort.abort(new Crash(`aborted at ${type} #${n}`));
    else throw new Crash(`crash after ${type} #${n}`);
  };
}

/** The conversation of a request (the step policy fixes tool-call ids, so they are compared too). */
function normalized(messages: NormalizedMessage[]): unknown {
  return messages;
}

function summary(events: TrajectoryEvent[]) {
  const calls = ofType(events, 'tool.call');
  return {
    calls: calls.filter((c) => !c.repeated).map((c) => [c.name, c.arguments]),
    repeated: calls.filter((c) => c.repeated).map((c) => [c.name, c.arguments]),
    results: ofType(events, 'tool.result').length,
    assistant: ofType(events, 'assistant').length,
  };
}

describe('resume after a simulated crash', () => {
  let env: Env;
  let task: Task;
  let baseline: { files: Record<string, string>; sum: ReturnType<typeof summary>; last: unknown };
  let lastMessages: NormalizedMessage[] = [];
  const policy = makeStepPolicy({ steps: STEPS, bashEvery: 4 });

  it('uninterrupted baseline', async () => {
    env = await startEnv({
      script: (req: PolicyRequest) => {
        lastMessages = req.messages;
        return policy(req);
      },
    });
    task = await stepTask({ steps: STEPS });
    const r = await runDirect(env, task, { settings: SETTINGS });
    expect(r.result).toMatchObject({ outcome: 'completed', tool_calls: STEPS + 1, turns: STEPS + 1 });
    expect(ofType(r.events, 'context.compacted').length).toBeGreaterThan(0);
    baseline = { files: snapshot(r.workspace), sum: summary(r.events), last: normalized(lastMessages) };
    expect(baseline.sum.repeated).toEqual([]);
  });

  const points: { name: string; type: TrajectoryEvent['type']; n: number; abort?: boolean; repeats: number }[] = [
    { name: 'a tool call in flight (write_file)', type: 'tool.call', n: 7, repeats: 1 },
    { name: 'a tool call in flight (bash)', type: 'tool.call', n: 9, repeats: 1 },
    { name: 'a reply recorded, its tool call not started', type: 'assistant', n: 5, repeats: 0 },
    { name: 'a tool result recorded', type: 'tool.result', n: 11, repeats: 0 },
    { name: 'a model call in flight', type: 'model.request', n: 13, abort: true, repeats: 0 },
    { name: 'a compaction recorded', type: 'context.compacted', n: 1, repeats: 0 },
    { name: 'the submit call in flight', type: 'tool.call', n: STEPS + 1, repeats: 1 },
  ];
  for (const p of points) {
    it(`crash after ${p.name}`, async () => {
      const dir = tmpdir('outlast-resume-');
      const file = path.join(dir, 'trajectory.jsonl');
      const workspace = path.join(dir, 'workspace');
      const abort = p.abort ? new AbortController() : undefined;
      await expect(runDirect(env, task, { settings: SETTINGS, file, workspace, onEvent: crashAt(p.type, p.n, abort), signal: abort?.signal })).rejects.toThrow(Crash);
      const before = fs.readFileSync(file, 'utf8');
      // resume: a new writer over the same file and workspace
      const r = await runDirect(env, task, { settings: SETTINGS, file, workspace });
      expect(fs.readFileSync(file, 'utf8').startsWith(before)).toBe(true); // nothing recorded is lost or rewritten
      expect(r.result).toMatchObject({ outcome: 'completed', tool_calls: STEPS + 1, turns: STEPS + 1 });
      expect(snapshot(r.workspace)).toEqual(baseline.files);
      const sum = summary(r.events);
      expect(sum.calls).toEqual(baseline.sum.calls);
      expect(sum.assistant).toBe(baseline.sum.assistant);
      expect(sum.repeated).toHaveLength(p.repeats);
      // the model saw the same conversation at the end as in the uninterrupted run
      expect(normalized(lastMessages)).toEqual(baseline.last);
      // every call has exactly one result; only the repeated in-flight call has two tool.call events
      expect(sum.results).toBe(STEPS + 1);
      const ids = ofType(r.events, 'tool.result').map((e) => e.call_id);
      expect(new Set(ids).size).toBe(ids.length);
      if (p.repeats) {
        const calls = ofType(r.events, 'tool.call');
        const rep = calls.find((c) => c.repeated)!;
        const orig = calls.filter((c) => c.call_id === rep.call_id);
        expect(orig).toHaveLength(2);
        expect(orig[0]!.seq).toBeLessThan(rep.seq);
      }
    });
  }

  it('crash twice, once mid-call and once after resuming', async () => {
    const dir = tmpdir('outlast-resume-');
    const file = path.join(dir, 'trajectory.jsonl');
    const workspace = path.join(dir, 'workspace');
    await expect(runDirect(env, task, { settings: SETTINGS, file, workspace, onEvent: crashAt('tool.call', 3) })).rejects.toThrow(Crash);
    await expect(runDirect(env, task, { settings: SETTINGS, file, workspace, onEvent: crashAt('tool.call', 8) })).rejects.toThrow(Crash);
    const r = await runDirect(env, task, { settings: SETTINGS, file, workspace });
    expect(r.result).toMatchObject({ outcome: 'completed', tool_calls: STEPS + 1 });
    expect(snapshot(r.workspace)).toEqual(baseline.files);
    expect(summary(r.events).calls).toEqual(baseline.sum.calls);
    expect(summary(r.events).repeated).toHaveLength(2);
  });

  it('a finished rollout resumed again ends at once', async () => {
    const dir = tmpdir('outlast-resume-');
    const file = path.join(dir, 'trajectory.jsonl');
    const workspace = path.join(dir, 'workspace');
    await runDirect(env, task, { settings: SETTINGS, file, workspace });
    const served = env.sm.turnsServed;
    const r = await runDirect(env, task, { settings: SETTINGS, file, workspace });
    expect(r.result).toMatchObject({ outcome: 'completed', tool_calls: STEPS + 1 });
    expect(env.sm.turnsServed).toBe(served);
    // nothing is appended twice: the closing note is already there
    expect(ofType(r.events, 'note').filter((n) => n.message.startsWith('outlast harness: '))).toHaveLength(1);
    await env.close();
  });
});

describe('limits continue across a resume', () => {
  it('turns used before the crash count after it', async () => {
    const seen: NormalizedMessage[][] = [];
    const policy = makeStepPolicy({ steps: 100, bashEvery: 0 });
    const env = await startEnv({
      script: (req: PolicyRequest) => {
        seen.push(req.messages);
        return policy(req);
      },
    });
    const task = await stepTask({ steps: 100 });
    const dir = tmpdir('outlast-resume-');
    const file = path.join(dir, 'trajectory.jsonl');
    const workspace = path.join(dir, 'workspace');
    const limits = { turns: 10 };
    await expect(runDirect(env, task, { limits, file, workspace, onEvent: crashAt('tool.result', 6) })).rejects.toThrow(Crash);
    const r = await runDirect(env, task, { limits, file, workspace });
    expect(r.result).toMatchObject({ outcome: 'budget_exhausted', turns: 10, tool_calls: 10 });
    expect(r.result.reason).toMatch(/turn limit reached \(10 of 10/);
    // the first request after the resume already told the agent 4 turns were left
    const firstAfter = seen[6]!;
    expect(firstAfter.at(-1)!.text).toMatch(/ turns 4\/10\]$/);
    // resumed once more: ends at once, without repeating its closing notes
    const again = await runDirect(env, task, { limits, file, workspace });
    expect(again.result).toMatchObject({ outcome: 'budget_exhausted', turns: 10, tool_calls: 10 });
    const notes = ofType(again.events, 'note').map((n) => n.message);
    expect(notes.filter((m) => m.startsWith('budget exhausted:'))).toHaveLength(1);
    expect(notes.filter((m) => m.startsWith('outlast harness: '))).toHaveLength(1);
    await env.close();
  });
});
