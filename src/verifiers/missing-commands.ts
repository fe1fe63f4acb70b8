// Telling "the tests could not run" from "the tests failed". A test script that calls a command this
// machine does not have (the uv installer's `uvx`, a `pytest` never installed, a tool the task's
// image would have had) ends with a failure, often after writing reward 0, and that 0 would be
// counted against the agent. So the verifier's bash reports every command it cannot find, at the
// source: BASH_ENV (read by every non-interactive bash the test command starts, test.sh included)
// defines a `command_not_found_handle` that appends the name and the PATH it was looked up in to a
// file in a fresh directory only the verifier identity can write (VERIFIER_STATUS_MOUNT), then fails
// as bash would (the same message, exit 127). The agent's code, run through agent-run in a sandbox
// of its own as the agent, cannot reach that directory. Code the tests import into their own process
// runs as the verifier and could write it, as it could write the reward itself (docs/security.md).
//
// A command missing from directories the agent cannot write (the system's: /usr/bin, ...) is the
// environment's failure: the grade is void and the rollout ends `task_error` with the reason. One
// looked up in a PATH that had a directory the agent can write (the workspace, or a relative entry,
// which resolves in it) could have been the agent's to provide: its absence is graded as usual.
// Only bash reports: a test command run by dash (`sh test.sh`) prints "not found" and is graded as
// it ends.
import path from 'node:path';
import { VERIFIER_STATUS_MOUNT } from '../core/mounts.js';
import { readAgentFile } from '../sandbox/agent-file.js';

/** The report's file name in the status directory. */
const MISSING_FILE = 'missing-commands';
/** The BASH_ENV script's file name (beside agent-run, not executable). */
export const BASH_ENV_FILE = 'bash-env.sh';
/** At most this much of the report is read (the names of a few hundred commands). */
const MAX_REPORT_BYTES = 64 * 1024;

/** The script BASH_ENV points at. It defines the handler only, and changes nothing else of the shell. */
export const BASH_ENV_SCRIPT = `# outlast: report commands the test scripts cannot find (see docs/task-format.md)
command_not_found_handle() {
  printf '%s\\t%s\\n' "$1" "$PATH" >> ${VERIFIER_STATUS_MOUNT}/${MISSING_FILE} 2>/dev/null
  printf 'bash: %s: command not found\\n' "$1" >&2
  return 127
}
`;

export interface MissingCommands {
  /** Missing from directories the agent cannot write: the environment lacks them. */
  environment: string[];
  /** Missing where the agent could have put them (a PATH with a directory of the workspace). */
  agent: string[];
}

/** Whether a PATH entry is a directory the agent can write: relative (it resolves in the workspace), or under the workdir. */
export function agentWritable(entry: string, workdir: string): boolean {
  if (!path.isAbsolute(entry)) return true;
  const p = path.normalize(entry);
  return p === workdir || p.startsWith(workdir.endsWith('/') ? workdir : `${workdir}/`);
}

/** What the verifier's shell reported in `statusDir` (null: nothing reported, or a report that could not be read, with why). */
export async function readMissingCommands(statusDir: string, workdir: string): Promise<MissingCommands | { unreadable: string } | null> {
  const f = await readAgentFile(path.join(statusDir, MISSING_FILE), MAX_REPORT_BYTES);
  if (!f.ok) return f.missing ? null : { unreadable: `${MISSING_FILE} ${f.reason}` };
  const out: MissingCommands = { environment: [], agent: [] };
  for (const line of f.data.toString('utf8').split('\n')) {
    if (!line) continue;
    const tab = line.indexOf('\t');
    const name = tab < 0 ? line : line.slice(0, tab);
    const entries = tab < 0 ? [] : line.slice(tab + 1).split(':');
    const list = entries.some((e) => agentWritable(e, workdir)) ? out.agent : out.environment;
    if (!list.includes(name)) list.push(name);
  }
  return out.environment.length || out.agent.length ? out : null;
}
