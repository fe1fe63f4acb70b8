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
/** The command verifier's helper commands (agent-run), on the verifier's PATH; read-only. */
export const HELPER_BIN_MOUNT = '/outlast/bin';
/** The helper's Python module (outlast_agent), on the verifier's PYTHONPATH; read-only. */
export const HELPER_PYTHON_MOUNT = '/outlast/python';
/** The directory of the broker's socket, through which agent-run asks outlast to run the agent's code. */
export const BROKER_MOUNT = '/outlast/broker';
/** The broker's socket inside the verifier's sandbox (also $OUTLAST_AGENT_RUN). */
export const BROKER_SOCKET = `${BROKER_MOUNT}/agent-run.sock`;
/** Byte code of the system's Python, for PYTHONPYCACHEPREFIX (read-only; links to /usr's own caches). */
export const PYCACHE_MOUNT = '/outlast/pycache';
/** A sandbox session's command files (sandbox/session.ts), read-only to the session. */
export const SESSION_MOUNT = '/outlast/session';
/** Where the verifier's shell reports what it could not run (verifiers/missing-commands.ts); writable by the verifier only. */
export const VERIFIER_STATUS_MOUNT = '/outlast/status';
/** An external agent CLI's installed package (read-only: the agent cannot change the CLI that runs it). */
export const CLI_MOUNT = '/outlast/cli';
/** The Node.js runtime an external CLI needs, when it needs another than outlast's (read-only). */
export const CLI_NODE_MOUNT = '/outlast/node';
/** The external CLI's private HOME (its config files, sessions, native transcript); the agent's to write. */
export const CLI_HOME_MOUNT = '/outlast/home';
/** The directory of the gateway's per-rollout unix socket, the sandbox's only way out (read-only). */
export const GATEWAY_MOUNT = '/outlast/gateway';
/** The gateway's socket inside the sandbox. */
export const GATEWAY_SOCKET = `${GATEWAY_MOUNT}/gateway.sock`;
/** The external-CLI supervisor (forwarder, graceful stop) and the Node.js that runs it (read-only). */
export const SUPERVISOR_MOUNT = '/outlast/harness';
