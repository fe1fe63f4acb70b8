// The `oracle` harness runs the task's reference solution: solution/ is mounted read-only at
// /solution (the only harness that ever sees it) and `bash /solution/solve.sh` runs in the sandbox
// with the workspace as its working directory. A task whose oracle fails its verifier is broken.
import fs from 'node:fs';
import path from 'node:path';
import type { Harness, HarnessContext, HarnessResult } from './harness.js';

export class OracleHarness implements Harness {
  readonly name = 'oracle';
  readonly version = '1.0.0';
  readonly settings = {};

  async run(ctx: HarnessContext): Promise<HarnessResult> {
    const dir = ctx.task.solution_dir;
    if (!dir || !fs.existsSync(path.join(dir, 'solve.sh'))) {
      return { outcome: 'task_error', reason: 'the task has no solution/solve.sh for the oracle', tool_calls: 0, turns: 0 };
    }
    const command = 'bash /solution/solve.sh';
    const callId = 'oracle-solve';
    ctx.log.append({ type: 'tool.call', call_id: callId, name: 'bash', arguments: { command } });
    const res = await ctx.sandbox.exec({
      command,
      workspace: ctx.workspace,
      workdir: ctx.task.workdir,
      mounts: [{ host: dir, target: '/solution', readonly: true }],
      limits: { wall_time_sec: ctx.task.agent_timeout_sec, ...ctx.task.sandbox },
      signal: ctx.signal,
    });
    ctx.log.append({
      type: 'tool.result',
      call_id: callId,
      name: 'bash',
      exit_code: res.exit_code,
      duration_ms: res.duration_ms,
      output: res.output,
      truncated_bytes: res.truncated_bytes,
      timed_out: res.timed_out,
    });
    if (res.timed_out) return { outcome: 'timeout', reason: `solve.sh ran past ${ctx.task.agent_timeout_sec}s`, tool_calls: 1, turns: 0 };
    const reason = res.exit_code === 0 ? 'solve.sh finished' : `solve.sh exited with ${res.exit_code ?? res.signal}`;
    return { outcome: 'completed', reason, tool_calls: 1, turns: 0 };
  }
}
