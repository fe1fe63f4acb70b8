// A crash between an `evaluate` call's tool.result and its evaluation event loses no score: on
// resume the harness derives the evaluation from the recorded output.
import { describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import type { TaskTool } from '../../src/core/types.js';
import { missingEvaluation } from '../../src/harnesses/outlast/tools.js';
import { cleanup, ofType, runDirect, startEnv, stepTask, tmpdir } from './helpers.js';

const evaluate: TaskTool = { name: 'evaluate', description: '', command: 'bash eval.sh', timeout_sec: 60, records_evaluation: true };
const lint: TaskTool = { name: 'lint', description: '', command: 'make lint', timeout_sec: 60, records_evaluation: false };
let seq = 0;
const at = <E extends object>(e: E): TrajectoryEvent => ({ t: '2026-11-25T00:00:00.000Z', seq: seq++, ...e }) as unknown as TrajectoryEvent;
const call = (id: string, name: string, repeated = false) => at({ type: 'tool.call', call_id: id, name, arguments: {}, ...(repeated ? { repeated } : {}) });
const result = (id: string, name: string, output: string) =>
  at({ type: 'tool.result', call_id: id, name, exit_code: 0, duration_ms: 5, output, truncated_bytes: 0, timed_out: false });
const OUT = 'workload a: 1.9x\n{"score": 1.93, "correct": true}\n';

describe('missingEvaluation', () => {
  it('recovers the evaluation of the last evaluate result when the log stops right after it', () => {
    const events = [call('c1', 'bash'), result('c1', 'bash', 'ok'), call('c2', 'evaluate'), result('c2', 'evaluate', OUT)];
    expect(missingEvaluation(events, [evaluate])).toEqual({ type: 'evaluation', score: 1.93, passed: true, details: { score: 1.93, correct: true }, tool_calls: 2 });
  });

  it('adds nothing when the evaluation was recorded, the log moved on, or the tool records none', () => {
    const recorded = [call('c2', 'evaluate'), result('c2', 'evaluate', OUT), at({ type: 'evaluation', score: 1.93, details: {}, tool_calls: 1 })];
    expect(missingEvaluation(recorded, [evaluate])).toBeNull();
    const movedOn = [call('c2', 'evaluate'), result('c2', 'evaluate', OUT), at({ type: 'assistant', text: '', tool_calls: [] })];
    expect(missingEvaluation(movedOn, [evaluate])).toBeNull();
    expect(missingEvaluation([call('c3', 'lint'), result('c3', 'lint', OUT)], [evaluate, lint])).toBeNull();
    expect(missingEvaluation([call('c4', 'evaluate'), result('c4', 'evaluate', 'no score here')], [evaluate])).toBeNull();
  });

  it('counts tool calls without the repeated in-flight one', () => {
    const events = [call('c1', 'evaluate'), call('c1', 'evaluate', true), result('c1', 'evaluate', OUT)];
    expect(missingEvaluation(events, [evaluate])?.tool_calls).toBe(1);
  });
});

describe('resume right after an evaluate result', () => {
  it('records the evaluation the crash cut off, once', async () => {
    const env = await startEnv({ script: [{ tool_calls: [{ name: 'write_file', arguments: { path: 'steps/a', content: 'a' } }] }, { tool_calls: [{ name: 'evaluate', arguments: {} }] }, { tool_calls: [{ name: 'submit', arguments: {} }] }] });
    try {
      const task = await stepTask();
      const dir = tmpdir('outlast-eval-crash-');
      const file = `${dir}/trajectory.jsonl`;
      const workspace = `${dir}/workspace`;
      let results = 0;
      const crash = (e: TrajectoryEvent): void => {
        if (e.type === 'tool.result' && ++results === 2) throw new Error('crash after the evaluate result');
      };
      await expect(runDirect(env, task, { file, workspace, onEvent: crash })).rejects.toThrow('crash after the evaluate result');
      const r = await runDirect(env, task, { file, workspace });
      expect(r.result.outcome).toBe('completed');
      const evals = ofType(r.events, 'evaluation');
      expect(evals).toHaveLength(1);
      expect(evals[0]).toMatchObject({ score: 1, passed: true, tool_calls: 2 });
      expect(ofType(r.events, 'tool.call').filter((c) => c.repeated)).toHaveLength(0); // the evaluate call itself is not run again
    } finally {
      await env.close();
      cleanup();
    }
  });
});
