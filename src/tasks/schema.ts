// The schema of outlast's native task.toml (see docs/task-format.md), and the defaults every task
// format shares. Unknown fields are errors: a misspelt limit must not silently mean "no limit".
import { z } from 'zod';

/** Verifier kinds outlast knows. The kind's own verifier validates its kind-specific settings. */
export const VERIFIER_KINDS = ['command', 'speedup', 'match', 'rubric', 'memorization', 'human'] as const;
export type VerifierKind = (typeof VERIFIER_KINDS)[number];

export { NATIVE_WORKDIR, SOLUTION_MOUNT, TASK_FILES_MOUNT, TESTS_MOUNT, VERIFIER_LOGS_MOUNT } from '../core/mounts.js';

export const DEFAULT_AGENT_TIMEOUT_SEC = 600;
export const DEFAULT_VERIFIER_TIMEOUT_SEC = 600;
export const DEFAULT_VERIFIER_COMMAND = 'bash /tests/test.sh';
export const DEFAULT_TOOL_TIMEOUT_SEC = 300;
/** Default sandbox resource limits (memory and processes of the whole tree; file size per file). */
export const DEFAULT_SANDBOX = {
  /** The whole tree's memory where a memory cgroup exists, else each process's address space (RLIMIT_AS). */
  memory_mb: 4096,
  processes: 256,
  file_size_mb: 1024,
} as const;
/** Default quota of the agent's workspace (checked after each tool call and when it is snapshotted). */
export const DEFAULT_WORKSPACE_QUOTA = { mb: 4096, files: 200_000 } as const;

/** Task names: letters, digits, `.`, `_`, `-`, and `/` (Harbor's `org/name`). */
export const TASK_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._\/-]*$/;
/** Tool names must be accepted by every model API: `^[a-zA-Z0-9_-]{1,64}$`. */
export const TOOL_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

const positive = () => z.number().positive();
const positiveInt = () => z.number().int().positive();

export const taskNameSchema = z
  .string()
  .regex(TASK_NAME_RE, 'expected a name of letters, digits, ".", "_", "-" or "/" (not starting with "." or "/")');

export const limitsSchema = z.strictObject({
  wall_time_sec: positive().optional(),
  working_time_sec: positive().optional(),
  turns: positiveInt().optional(),
  tokens: positiveInt().optional(),
  cost_usd: positive().optional(),
  outage_patience_sec: z.number().nonnegative().optional(),
});

export const sandboxSchema = z.strictObject({
  cpu_time_sec: positive().optional(),
  memory_mb: positive().optional(),
  processes: positiveInt().optional(),
  file_size_mb: positive().optional(),
  tmp_mb: positive().optional(),
  cpus: positive().optional(),
  workspace_mb: positive().optional(),
  workspace_files: positiveInt().optional(),
});

export const toolSchema = z.strictObject({
  name: z.string().regex(TOOL_NAME_RE, 'expected 1-64 letters, digits, "_" or "-"'),
  description: z.string().default(''),
  command: z.string().min(1, 'expected a non-empty shell command'),
  timeout_sec: positive().default(DEFAULT_TOOL_TIMEOUT_SEC),
  records_evaluation: z.boolean().default(false),
});

export const toolsSchema = z.array(toolSchema);

export const requiresSchema = z.strictObject({
  gpu: z.boolean().default(false),
});

/** First pass over [verifier]: the kind and the timeout; other keys are checked per kind. */
export const verifierHeadSchema = z.looseObject({
  kind: z.enum(VERIFIER_KINDS).default('command'),
  timeout_sec: positive().default(DEFAULT_VERIFIER_TIMEOUT_SEC),
});

/** Default [verifier] reward_range: a reward file's number must lie in [0, 1]. */
export const DEFAULT_REWARD_RANGE: [number, number] = [0, 1];
export const SCORE_SOURCES = ['auto', 'reward', 'counts', 'exit-code'] as const;

/** [verifier] when kind = "command": nothing but these keys. */
export const commandVerifierSchema = z.strictObject({
  kind: z.literal('command').default('command'),
  command: z.string().min(1, 'expected a non-empty shell command').default(DEFAULT_VERIFIER_COMMAND),
  timeout_sec: positive().default(DEFAULT_VERIFIER_TIMEOUT_SEC),
  /** [lo, hi]: the reward a reward file may hold; anything else (or not a finite number) scores 0. */
  reward_range: z
    .tuple([z.number().finite(), z.number().finite()])
    .refine(([lo, hi]) => lo < hi, 'expected [lo, hi] with lo < hi')
    .default(DEFAULT_REWARD_RANGE),
  /** reward: only a reward file counts (none = 0); counts: only "N passed, N failed"; exit-code; auto: in that order. */
  score_from: z.enum(SCORE_SOURCES).default('auto'),
});

export const nativeTaskTomlSchema = z.strictObject({
  /** A base directory (relative to the task) whose workspace/, tests/, solution/ the task's own extend. */
  extends: z.string().min(1, 'expected a path relative to the task directory, e.g. "../common"').optional(),
  task: z
    .strictObject({
      name: taskNameSchema.optional(),
      family: taskNameSchema.optional(),
      description: z.string().optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
    })
    .default({}),
  limits: limitsSchema.default({}),
  agent: z
    .strictObject({
      timeout_sec: positive().default(DEFAULT_AGENT_TIMEOUT_SEC),
    })
    .default({ timeout_sec: DEFAULT_AGENT_TIMEOUT_SEC }),
  sandbox: sandboxSchema.default({}),
  verifier: verifierHeadSchema.default({ kind: 'command', timeout_sec: DEFAULT_VERIFIER_TIMEOUT_SEC }),
  tools: toolsSchema.default([]),
  requires: requiresSchema.default({ gpu: false }),
});

export type NativeTaskToml = z.output<typeof nativeTaskTomlSchema>;
