// What an external CLI did, learned from the gateway's own record of its calls (the `model.request`
// and `model.response` events the gateway appends to the rollout's log), never from the CLI: turns,
// tool calls (the tool-use blocks of each reply, `model.response.tool_calls`), budget refusals and
// infrastructure failures. The same fold for every CLI, so every harness is counted the same way.
import type { TrajectoryEvent } from '../../core/events.js';

export interface Failure {
  /** The gateway's failure kind (`unavailable`, `deadline`, `request`, `misconfigured`, ...). */
  kind: string;
  message: string;
  status: number;
}

export class GatewayRecord {
  /** Replies that came back whole (status 200, no error). */
  turns = 0;
  toolCalls = 0;
  /** Forwarded calls (model.response events), whatever their end. */
  calls = 0;
  /** Calls that failed for infrastructure reasons (the provider down, a deadline): visible, not hidden. */
  infraFailures = 0;
  /** Set when the gateway refused a call as over the rollout's budget: its message. */
  budgetRefusal: string | null = null;
  /** The latest call that did not succeed (refused, or failed), cleared by a success. */
  lastFailure: Failure | null = null;

  observe(e: TrajectoryEvent): void {
    if (e.type === 'model.request' && e.refused) {
      if (e.refused.kind === 'budget') this.budgetRefusal ??= e.refused.message;
      this.lastFailure = { kind: e.refused.kind, message: e.refused.message, status: e.refused.status };
    } else if (e.type === 'model.response') {
      this.calls++;
      if (e.status === 200 && !e.error) {
        this.turns++;
        this.toolCalls += e.tool_calls?.length ?? 0;
        this.lastFailure = null;
      } else {
        if (e.error?.infra) this.infraFailures++;
        this.lastFailure = { kind: e.error?.kind ?? 'request', message: e.error?.message ?? `status ${e.status}`, status: e.status };
      }
    }
  }

  /** Whether the last failure was the infrastructure's or outlast's (not the agent's): the run is then infra_error. */
  endedByInfra(): boolean {
    const f = this.lastFailure;
    return f !== null && f.kind !== 'budget' && f.kind !== 'client_gone';
  }
}
