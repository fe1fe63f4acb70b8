// The Harness interface. A harness turns a Task (and, for agent harnesses, a Model reached through
// the gateway) into actions in the rollout's sandbox. It never sees tests/, and never sees solution/
// unless it is the oracle. It records what it does as trajectory events.
import type { Limits, ModelEndpoint, Outcome, Task } from '../core/types.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { TrajectoryWriter } from '../store/trajectory.js';

/** How an agent harness reaches its model: only through the gateway, with the rollout's own token. */
export interface ModelAccess {
  /** Gateway base URL, `http://127.0.0.1:PORT` (no `/v1`). */
  gateway_url: string;
  /** The rollout's gateway token: send as `Authorization: Bearer <token>` or `x-api-key`. Never an upstream key. */
  token: string;
  /** The endpoint: send `endpoint.name` as the request's `model`, in `endpoint.protocol` (the model's native protocol). */
  endpoint: ModelEndpoint;
  /**
   * Have the gateway also listen on a unix socket at `file` (e.g. one to bind into the rollout's
   * sandbox, whose network has no route out); resolves to a function that closes it. Set by the
   * runner; external CLI harnesses need it.
   */
  listenUnix?: (file: string) => Promise<() => Promise<void>>;
}

export interface HarnessContext {
  task: Task;
  /** Host path of the rollout's workspace (mounted read-write at task.workdir in the sandbox). */
  workspace: string;
  sandbox: Sandbox;
  log: TrajectoryWriter;
  limits: Limits;
  seed: number;
  /** Set for harnesses that need a model (`needsModel`). */
  model?: ModelAccess;
  /** Aborted when the runner stops the rollout (wall-time limit, Ctrl-C). */
  signal: AbortSignal;
}

export interface HarnessResult {
  outcome: Outcome;
  /** One line: why the harness stopped. */
  reason: string;
  tool_calls: number;
  turns: number;
}

export interface Harness {
  readonly name: string;
  readonly version: string;
  /** Settings recorded in provenance (idle_rounds, temperature...). */
  readonly settings: Record<string, unknown>;
  /** True when the harness can continue a crashed rollout from its log and on-disk workspace;
   *  otherwise the runner restarts it from the task's starting workspace. */
  readonly resumable?: boolean;
  /** True when the harness talks to a model (the runner then starts the gateway and sets ctx.model). */
  readonly needsModel?: boolean;
  run(ctx: HarnessContext): Promise<HarnessResult>;
}
