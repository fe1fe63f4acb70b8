// Sandbox sessions: many commands, one after another, in one long-lived sandbox, so that a rollout's
// hundreds of tool calls do not each pay for a sandbox's setup and teardown (namespaces, mounts,
// cgroup, the launch chain: ~10 ms of CPU per exec, most of a 2-core machine's time at a hundred
// concurrent rollouts; bench/RESULTS.md, "Concurrent rollouts").
//
// A session is one streamed tree (run.ts) whose program is a small executor shell (EXECUTOR, below).
// For each command outlast writes the command into the session directory's one command file (bound
// read-only at SESSION_MOUNT) and the command's number on the executor's stdin. The executor runs it as
// `/bin/sh -c 'cd "$OUTLAST_WORKDIR" || exit 125; . <file>'` (so cwd, $0, $# and a workdir it
// cannot enter are an exec's), stdin /dev/null, stdout and stderr into the session's output; when
// it exits, the executor kills every other process of the sandbox (`kill -KILL -1`: the whole PID
// namespace but itself and bwrap's init) and waits until none is left (a process killed while it
// runs on another CPU can still finish a write), empties /tmp and /dev/shm, and writes an end marker with
// the exit code: a newline, a nonce only the executor and outlast know (read from stdin first,
// never in an environment or an argv), the command's number and its exit code. Everything the
// command's processes wrote precedes the marker (they are dead by then), so output is cut exactly.
//
// Each command's wall time is outlast's to enforce: at the limit (or on abort) the whole session is
// killed, as an exec's tree would be, and the next command starts a new one. A session the agent
// broke (it killed the executor: all its processes run as one uid) ends the command running, with
// the tree's exit status, and the next command starts a new one: its own loss, never outlast's.
// What an agent's process could do to the executor it can do only to its own tool results.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SESSION_MOUNT } from '../core/mounts.js';
import { OutputCapture } from './capture.js';
import type { StreamedTree } from './run.js';
import { shQuote } from './run.js';
import { DEFAULT_OUTPUT_BYTES, type ExecResult, type Sandbox, type SandboxSession, type SessionCommand, type SessionOptions } from './sandbox.js';

/** The file the next command is written to (one at a time: the next is written after the last one's marker). */
const COMMAND_FILE = 'command';

/** The executor (dash). fd 3: command numbers in; fd 4: the session's output. */
export const EXECUTOR = [
  'exec 3<&0 4>&1 0</dev/null',
  'IFS= read -r K <&3 || exit 0',
  'cd /; unset OLDPWD',
  'while IFS= read -r n <&3; do',
  `  /bin/sh -c "cd \\"\\$OUTLAST_WORKDIR\\" || exit 125; unset OLDPWD; . ${SESSION_MOUNT}/${COMMAND_FILE}" >&4 2>&1 3<&- 4>&-`,
  '  c=$?',
  // ... and wait until they are gone: kill returns before a process running on another CPU has
  // died, and its last write would land after the marker (kill -0 finds zombies too, until reaped)
  '  kill -KILL -1 2>/dev/null; while kill -0 -1 2>/dev/null; do kill -KILL -1 2>/dev/null; done',
  // only when something is there (globbing is a builtin: no process for the common empty case)
  '  for f in /tmp/* /tmp/.[!.]* /tmp/..?* /dev/shm/* /dev/shm/.[!.]* /dev/shm/..?*; do',
  '    if [ -e "$f" ] || [ -L "$f" ]; then find /tmp /dev/shm -mindepth 1 -delete 2>/dev/null; break; fi',
  '  done',
  `  printf '\\n%s %s %s\\n' "$K" "$n" "$c" >&4`,
  'done',
].join('\n');

/**
 * Where command files are written: a tmpfs when the host has one (/dev/shm), since rewriting a
 * file on a journaling disk forces its blocks out on close (ext4's auto_da_alloc: ~0.9 ms a
 * command, measured), else the temporary directory.
 */
function commandDirBase(): string {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    if (fs.statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // no /dev/shm here
  }
  return os.tmpdir();
}

/** Processes the executor adds to a session's tree (itself), on top of the sandbox's own. */
export const EXECUTOR_PROCESSES = 1;

/** Start the session's tree: the executor over `opts`, its command directory mounted at SESSION_MOUNT. */
export type StartTree = (opts: SessionOptions, dir: string, first: string, onData: (b: Buffer) => void) => StreamedTree;

/** A session on the sandbox's own, or one exec per command where it has none (or `native` is false). */
export function openSession(sandbox: Sandbox, opts: SessionOptions, native = true): SandboxSession {
  return (native ? sandbox.session?.(opts) : undefined) ?? new ExecSession(sandbox, opts);
}

/** The fallback: each command a fresh exec. */
class ExecSession implements SandboxSession {
  constructor(
    private readonly sandbox: Sandbox,
    private readonly opts: SessionOptions,
  ) {}

  exec(c: SessionCommand): Promise<ExecResult> {
    const { limits, env, ...rest } = this.opts;
    return this.sandbox.exec({ ...rest, command: c.command, env: { ...env, ...c.env }, limits: { ...limits, wall_time_sec: c.wall_time_sec, output_bytes: c.output_bytes }, signal: c.signal });
  }

  async close(): Promise<void> {}
}

interface Running {
  n: number;
  capture: OutputCapture;
  /** Output not yet known to be before the marker. */
  pending: Buffer;
  finish(over: Partial<ExecResult>): void;
}

/** A session in one streamed tree (see the top of this file). */
export class TreeSession implements SandboxSession {
  private tree: StreamedTree | null = null;
  private dir: string | null = null;
  private nonce = '';
  private seq = 0;
  private running: Running | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly opts: SessionOptions,
    private readonly start: StartTree,
  ) {}

  exec(c: SessionCommand): Promise<ExecResult> {
    const r = this.queue.then(() => this.run(c));
    this.queue = r.catch(() => {});
    return r;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.stop();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  private async stop(): Promise<void> {
    const t = this.tree;
    this.tree = null;
    if (t) {
      t.kill();
      await t.done;
    }
  }

  private ensure(): StreamedTree {
    if (this.tree) return this.tree;
    this.dir ??= fs.mkdtempSync(path.join(commandDirBase(), 'outlast-session-'));
    fs.chmodSync(this.dir, 0o755);
    this.nonce = crypto.randomBytes(16).toString('hex');
    const tree = this.start(this.opts, this.dir, `${this.nonce}\n`, (b) => this.data(b));
    this.tree = tree;
    void tree.done.then((exit) => {
      if (this.tree === tree) this.tree = null;
      const r = this.running;
      if (!r) return;
      r.capture.push(r.pending);
      r.finish({ exit_code: exit.code, signal: exit.signal });
    });
    return tree;
  }

  private run(c: SessionCommand): Promise<ExecResult> {
    const started = performance.now();
    const capture = new OutputCapture(c.output_bytes ?? DEFAULT_OUTPUT_BYTES);
    const base = (over: Partial<ExecResult>): ExecResult => ({ exit_code: null, signal: null, timed_out: false, duration_ms: performance.now() - started, ...capture.result(), ...over });
    if (c.signal?.aborted) return Promise.resolve(base({ signal: 'SIGKILL', aborted: true }));
    const tree = this.ensure();
    const n = ++this.seq;
    const file = path.join(this.dir!, COMMAND_FILE);
    const exports = Object.entries(c.env ?? {}).map(([k, v]) => `export ${k}=${shQuote(v)}\n`).join('');
    fs.writeFileSync(file, exports + c.command + '\n', { mode: 0o644 });
    const ooms = tree.oomKills();
    return new Promise<ExecResult>((resolve) => {
      let over: Partial<ExecResult> = {};
      const stopTree = (why: Partial<ExecResult>): void => {
        over = why;
        tree.kill();
      };
      const timer = setTimeout(() => stopTree({ timed_out: true }), c.wall_time_sec * 1000);
      const onAbort = (): void => stopTree({ aborted: true });
      c.signal?.addEventListener('abort', onAbort, { once: true });
      this.running = {
        n,
        capture,
        pending: Buffer.alloc(0),
        finish: (got) => {
          clearTimeout(timer);
          c.signal?.removeEventListener('abort', onAbort);
          this.running = null;
          const oom = tree.oomKills() > ooms;
          resolve(base({ ...got, ...over, ...(over.timed_out || over.aborted ? { exit_code: null, signal: 'SIGKILL' } : {}), ...(oom ? { oom_killed: true } : {}) }));
        },
      };
      tree.write(`${n}\n`);
    });
  }

  /** Session output: the running command's, up to its end marker. */
  private data(b: Buffer): void {
    const r = this.running;
    if (!r) return; // nothing runs between markers: nothing to keep
    const buf = r.pending.length ? Buffer.concat([r.pending, b]) : b;
    const head = `\n${this.nonce} ${r.n} `;
    const at = buf.indexOf(head);
    if (at < 0) {
      // Keep what could be the start of a marker; the rest is output.
      const keep = Math.min(buf.length, head.length + 12);
      r.capture.push(buf.subarray(0, buf.length - keep));
      r.pending = Buffer.from(buf.subarray(buf.length - keep));
      return;
    }
    r.capture.push(buf.subarray(0, at));
    const nl = buf.indexOf(10, at + head.length);
    if (nl < 0) {
      r.pending = Buffer.from(buf.subarray(at));
      return;
    }
    const code = Number(buf.subarray(at + head.length, nl).toString('latin1'));
    r.finish({ exit_code: Number.isInteger(code) ? code : null });
  }
}
