// When outlast runs as root, sandboxed processes run as unprivileged uids (src/sandbox/identity.ts)
// and see the task's own files through read-only mounts: solution/ for the oracle, the starting
// workspace at /outlast/task for task tools. Those files must be readable by any user. (tests/ and
// the agent's workspace are copies handed to the right identity, whatever the task's modes.)
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError, oneLine } from '../core/errors.js';
import type { Task } from '../core/types.js';

/** Throw a one-line UserError naming the first entry of the task's mounted directories others cannot read. */
export async function checkReadableBySandbox(task: Task): Promise<void> {
  for (const dir of [task.solution_dir, task.workspace_dir]) {
    if (!dir) continue;
    const stack = [dir];
    while (stack.length > 0) {
      const d = stack.pop()!;
      const st = await fs.stat(d);
      if ((st.mode & 0o005) !== 0o005) throw unreadable(task, d);
      for (const ent of await fs.readdir(d, { withFileTypes: true })) {
        const p = path.join(d, ent.name);
        if (ent.isDirectory()) stack.push(p);
        else if (ent.isFile() && ((await fs.stat(p)).mode & 0o004) === 0) throw unreadable(task, p);
      }
    }
  }
}

function unreadable(task: Task, p: string): UserError {
  return new UserError(
    oneLine(`task ${task.name}: ${p} is not readable by other users, and sandboxed processes run as an unprivileged uid when outlast runs as root: run \`chmod -R o+rX ${task.dir}\``),
  );
}

/** checkReadableBySandbox for each task, when the sandbox runs processes as dedicated uids. */
export async function checkTasksReadable(tasks: Iterable<Task>, sandbox: { enforced: { dedicated_uid: boolean } }): Promise<void> {
  if (!sandbox.enforced.dedicated_uid) return;
  for (const t of tasks) await checkReadableBySandbox(t);
}
