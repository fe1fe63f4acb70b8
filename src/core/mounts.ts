// Where things appear inside a sandbox: the fixed paths that tasks, harnesses and verifiers share.
// See docs/task-format.md (what a task's scripts may rely on) and docs/security.md (who sees what).

/** Where a native task's workspace is mounted (Harbor tasks use their Dockerfile's WORKDIR, default /app). */
export const NATIVE_WORKDIR = '/workspace';
/** Where tests/ is mounted (read-only), for the verifier only. */
export const TESTS_MOUNT = '/tests';
/** Where solution/ is mounted (read-only), for the oracle only. */
export const SOLUTION_MOUNT = '/solution';
/** Where the verifier may write reward.txt / reward.json (fresh per verification, writable by the verifier only). */
export const VERIFIER_LOGS_MOUNT = '/logs/verifier';
/** Where task tools and verifiers find the task's pristine starting workspace (read-only; also $OUTLAST_TASK). */
export const TASK_FILES_MOUNT = '/outlast/task';
