// The vocabulary of outlast (see DESIGN.md), as plain types. No I/O lives in src/core.

/** How a rollout ended. Each is a distinct, recorded outcome. */
export const OUTCOMES = [
  'completed', // the harness finished (oracle ran, agent submitted, nop returned)
  'gave_up', // the agent stopped calling tools for `idle_rounds` consecutive replies
  'budget_exhausted', // a limit (wall time, working time, turns, tokens, cost) was reached
  'timeout', // the harness overran its wall-time limit and was killed
  'infra_error', // the infrastructure failed (upstream model, sandbox, disk): not the agent's fault
  'task_error', // the task itself is broken (e.g. missing solve.sh for the oracle)
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Limits of one rollout. Every field is optional; absent means "no limit". */
export interface Limits {
  /** Wall-clock seconds for the harness phase, provider outages (`outage.wait` … `outage.end`) not counted. */
  wall_time_sec?: number;
  /** Working seconds: wall time minus time spent waiting on upstream retries and provider outages. */
  working_time_sec?: number;
  /** Model turns (model calls made by the harness). */
  turns?: number;
  /** Total tokens (input + output) across the rollout. */
  tokens?: number;
  /** Total cost in US dollars across the rollout. */
  cost_usd?: number;
  /**
   * Not a budget: how long, in seconds, the harness keeps retrying model calls that fail for
   * infrastructure reasons (an outage) before the rollout ends `infra_error` (resumable). Absent:
   * DEFAULT_OUTAGE_PATIENCE_SEC (30 minutes, src/core/outage.ts); 0: give up after the quick retries.
   */
  outage_patience_sec?: number;
}

/** Resource limits of one sandboxed process tree. */
export interface SandboxLimits {
  /** Wall-clock seconds before the whole process tree is killed. */
  wall_time_sec: number;
  /** CPU seconds (RLIMIT_CPU) per process. */
  cpu_time_sec?: number;
  /**
   * Memory of the whole process tree in MiB, tmpfs files (/tmp, /dev/shm) included, where a memory
   * cgroup is available; otherwise the address space of each process (RLIMIT_AS).
   */
  memory_mb?: number;
  /** Maximum number of processes/threads in the tree. */
  processes?: number;
  /** Largest file a process may write, in MiB (RLIMIT_FSIZE). */
  file_size_mb?: number;
  /** Size of the private /tmp, and separately of /dev/shm, in MiB (default DEFAULT_TMP_MB). */
  tmp_mb?: number;
  /** CPU quota of the whole tree, in cores (e.g. 1.5); none when absent. */
  cpus?: number;
  /** Bytes of stdout+stderr kept (head and tail); the middle is cut and counted. */
  output_bytes?: number;
}

export type SandboxMode = 'bwrap' | 'none';

/** Token usage of one model call or a sum of calls. */
export interface Usage {
  input: number;
  cached: number;
  cache_write: number;
  output: number;
  reasoning: number;
}

/** Who graded: the grader identity that goes with every score. */
export interface GraderIdentity {
  /** Verifier kind, e.g. `command`, `speedup`. */
  verifier: string;
  /** Version of the verifier implementation. */
  version: string;
  /** Settings the verifier ran with (command, timeouts, seeds, grader model...). */
  settings: Record<string, unknown>;
}

export interface Score {
  /** Normalised score: 0..1 for pass/fail and test fractions; unbounded for speedups. */
  value: number;
  passed: boolean;
  /** Human-readable explanation and raw numbers (e.g. tests passed/failed, reward file). */
  details: Record<string, unknown>;
  grader: GraderIdentity;
  /** ISO time the score was produced. */
  graded_at: string;
}

/**
 * What the agent's workspace may hold: checked after every tool call (the agent is told) and when the
 * final workspace is snapshotted (over the quota, it is not graded: score 0 with the reason).
 */
export interface WorkspaceQuota {
  /** Apparent size of all its files, in MiB (sparse files count in full). */
  mb: number;
  /** Entries of any kind. */
  files: number;
}

/** A tool a task declares for the agent (e.g. `evaluate`), run inside the rollout's sandbox. */
export interface TaskTool {
  name: string;
  description: string;
  /** Shell command run in the workspace. */
  command: string;
  timeout_sec: number;
  /** Whether the command's output carries an intermediate score (an `evaluation` event). */
  records_evaluation: boolean;
}

/** Where the command verifier takes its score from (docs/task-format.md). */
export type ScoreSource = 'auto' | 'reward' | 'counts' | 'exit-code';

export interface CommandVerifierConfig {
  kind: 'command';
  /** Shell command run in a fresh sandbox, cwd = the workspace mount, tests at /tests (read-only). */
  command: string;
  timeout_sec: number;
  /** The range a reward file's number must lie in, inclusive (default [0, 1]); outside it scores 0. */
  reward_range?: [number, number];
  /** Where the score comes from (default `auto`: reward file, else test counts, else exit code). */
  score_from?: ScoreSource;
}

/** Settings of any other verifier kind; validated by that verifier. */
export interface OtherVerifierConfig {
  kind: string;
  timeout_sec: number;
  [key: string]: unknown;
}

export type VerifierConfig = CommandVerifierConfig | OtherVerifierConfig;

export type TaskFormat = 'outlast' | 'harbor';

/** A loaded, validated task directory. */
export interface Task {
  /** Task name (from task.toml, else the directory name). */
  name: string;
  /** Family the task belongs to (groups tasks in reports). */
  family: string;
  /** Absolute path of the task directory. */
  dir: string;
  format: TaskFormat;
  /** Contents of instruction.md. */
  instruction: string;
  /** Absolute path of the starting workspace directory, or null for an empty workspace. */
  workspace_dir: string | null;
  /** Absolute path of tests/ (hidden from the agent), or null. */
  tests_dir: string | null;
  /** Absolute path of solution/ (hidden from the agent), or null. */
  solution_dir: string | null;
  /** Where the workspace is mounted inside the sandbox: `/workspace` (outlast) or the Dockerfile's WORKDIR (Harbor, default `/app`). */
  workdir: string;
  limits: Limits;
  /** Resource limits for the sandboxed processes of this task. */
  sandbox: Omit<SandboxLimits, 'wall_time_sec' | 'output_bytes'>;
  /** What the agent's workspace may hold. */
  workspace_quota: WorkspaceQuota;
  /** Wall-time limit of the oracle/agent phase in seconds. */
  agent_timeout_sec: number;
  verifier: VerifierConfig;
  tools: TaskTool[];
  /** Needs hardware this machine may not have. */
  requires: { gpu: boolean };
  /** Content hash of the whole task directory (sha256, hex). */
  hash: string;
  /** Free-form metadata from task.toml (difficulty, tags, author...). */
  metadata: Record<string, unknown>;
  /** What of the task directory was ignored when loading (e.g. Harbor's Dockerfile RUN lines). */
  ignored: string[];
}

/** A model endpoint (see the gateway). */
export type Protocol = 'openai-chat' | 'openai-responses' | 'anthropic';

export interface Pricing {
  /** USD per million tokens. */
  input: number;
  cached_input: number;
  cache_write: number;
  output: number;
}

export interface ModelEndpoint {
  name: string;
  protocol: Protocol;
  base_url: string;
  /** Model id sent upstream. */
  upstream_model: string;
  /** Name of the environment variable holding the API key (never the key itself). */
  api_key_env?: string;
  pricing?: Pricing;
  context_window?: number;
  /** Extra request parameters passed through upstream (e.g. enable_thinking). */
  extra_params?: Record<string, unknown>;
}

/** One (task, harness, model, verifier, seed) execution, fully specified. */
export interface RolloutSpec {
  rollout_id: string;
  experiment_id: string;
  task: { name: string; family: string; dir: string; hash: string; format: TaskFormat };
  harness: { name: string; version: string; settings: Record<string, unknown> };
  model: { name: string; upstream_model?: string; protocol?: Protocol } | null;
  verifier: VerifierConfig;
  repeat: number;
  seed: number;
  limits: Limits;
  sandbox: SandboxMode;
}

/** Totals recorded when a rollout finishes. */
export interface RolloutTotals {
  /** Wall time summed over the rollout's attempts (see core/attempts.ts). */
  wall_ms: number;
  /** Wall time minus time spent waiting on upstream retries and provider outages. */
  working_ms: number;
  /** Time spent waiting for the provider to come back (`outage.wait` … `outage.end`); absent in older logs. */
  outage_ms?: number;
  /** Time in the harness and in grading, each summed over the attempts. */
  harness_ms: number;
  verify_ms: number;
  /** How many attempts ran (1 + the resumes); absent in logs written before it was recorded (read as 1). */
  attempts?: number;
  tool_calls: number;
  turns: number;
  /** Metered usage and cost (the model.response events). */
  usage: Usage;
  cost_usd: number;
  /** Calls in flight when an attempt stopped, never metered (model.unmetered): their count and
   *  estimated usage and cost, apart from the metered figures. Absent when there were none. */
  unmetered?: { calls: number; usage: Usage; cost_usd: number };
}
