// The agent-run broker: the host side of the helper through which a task's tests run the agent's code
// out of the grading process. It listens on a unix socket whose directory is bind-mounted into the
// verifier's sandbox only (never the agent's), serves one request per connection, and runs each
// request's command with the agent's sandbox view (ctx.agent: the agent's uid, no /tests, no
// /logs/verifier, no broker, the task's limits, a per-call timeout) over the verifier's workspace copy.
//
// Wire format (the Python client is agent-run-python.ts):
//   request   {"v": 1, "argv": [...], "cwd": "/workspace/sub", "timeout_sec": 10, "stdin_bytes": N}\n<N bytes>
//   response  {"ok": true, "exit_code": 0, "signal": null, "timed_out": false, "oom_killed": false,
//              "duration_ms": 12.3, "stdout_bytes": A, "stderr_bytes": B, "truncated_bytes": 0}\n<A bytes><B bytes>
//             or {"ok": false, "error": "..."}\n
// Bounded: MAX_HEADER and MAX_STDIN per request, OUTPUT_BYTES of stdout (head and tail kept) and
// STDERR_BYTES of stderr per response, CONCURRENCY runs at once with QUEUE more connections waiting
// (beyond: an error; a slot is taken before the request is read), REQUEST_MS to send a request.
// Every call is recorded (command, exit code, duration); the count phrases its output held are kept
// for the counts parser (counts.ts); after each run the workspace is swept of links to what only the
// verifier sees (workspace-links.ts).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { AgentRunRecord } from '../core/events.js';
import type { SandboxLimits } from '../core/types.js';
import { shQuote } from '../sandbox/run.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { countPhrases } from './counts.js';
import { PYTHON_HARDENING, pycacheMounts } from './python-env.js';
import { sweepWorkspace } from './workspace-links.js';

export const SOCKET_NAME = 'agent-run.sock';
const MAX_HEADER = 64 * 1024;
const MAX_STDIN = 16 * 1024 * 1024;
/** stdout kept per call (head and tail; the middle is cut and counted). */
const OUTPUT_BYTES = 8 * 1024 * 1024;
const STDERR_BYTES = 256 * 1024;
const CONCURRENCY = 4;
const QUEUE = 64;
const REQUEST_MS = 30_000;
export const DEFAULT_CALL_TIMEOUT_SEC = 60;
const MAX_RECORDS = 500;
const MAX_COMMAND_CHARS = 300;
const MAX_PHRASES = 10_000;

export interface BrokerOptions {
  /** The agent's sandbox view (runs as the agent's identity). */
  agent: Sandbox;
  /** Host path of the verifier's workspace copy, and where it is mounted. */
  workspace: string;
  workdir: string;
  /** The task's sandbox limits (wall time per call comes from the request). */
  limits: Omit<SandboxLimits, 'wall_time_sec' | 'output_bytes'>;
  /** No call runs longer than this (the verifier's own timeout). */
  maxTimeoutSec: number;
  /** Applied to every recorded command line (hidden test lines redacted). */
  redact: (s: string) => string;
}

interface Request {
  argv: string[];
  cwd: string;
  timeout_sec: number;
  stdin: Buffer;
}

export class AgentBroker {
  /** Calls recorded, in order of completion. */
  readonly runs: AgentRunRecord[] = [];
  /** Calls made, recorded or not. */
  calls = 0;
  /** Count phrases the agent's code printed (see counts.ts). */
  readonly phrases = new Set<string>();
  /** Set when the agent's code printed more count phrases than are kept: counts cannot be trusted. */
  phrasesOverflow = false;
  /** Set when the agent's code left a workspace that could not be swept: why. */
  refused: string | undefined;
  /** Set when the sandbox could not run a call at all (infrastructure, not the agent): why. */
  failure: string | undefined;

  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly stop = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  private constructor(
    private readonly opts: BrokerOptions,
    readonly socketPath: string,
  ) {
    this.server = net.createServer({ allowHalfOpen: true }, (sock) => this.accept(sock));
    this.server.on('error', () => {});
  }

  /** Listen on `dir`/agent-run.sock (the directory must exist and be private to this verification). */
  static async start(opts: BrokerOptions, dir: string): Promise<AgentBroker> {
    const b = new AgentBroker(opts, path.join(dir, SOCKET_NAME));
    await new Promise<void>((resolve, reject) => {
      b.server.once('error', reject);
      b.server.listen(b.socketPath, () => {
        b.server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(b.socketPath, 0o600);
    return b;
  }

  /** Stop serving: refuse new calls, kill the ones in flight, wait for them. */
  async close(): Promise<void> {
    this.stop.abort();
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    for (const w of this.waiting.splice(0)) w();
    await Promise.allSettled([...this.inFlight]);
    await closed;
  }

  private accept(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
    const task = this.serve(sock).catch(() => {
      sock.destroy();
    });
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async serve(sock: net.Socket): Promise<void> {
    const over = { ok: false, error: 'the verification is over' };
    if (this.stop.signal.aborted) return reply(sock, over);
    // A slot first, then the request: waiting connections hold no request in memory.
    if (this.running >= CONCURRENCY) {
      if (this.waiting.length >= QUEUE) {
        this.record({ command: '(not read)', error: 'too many agent-run calls at once' });
        return reply(sock, { ok: false, error: `too many agent-run calls at once (${CONCURRENCY} run, ${QUEUE} wait)` });
      }
      await new Promise<void>((r) => this.waiting.push(r));
      if (this.stop.signal.aborted) return reply(sock, over);
    }
    this.running++;
    try {
      let req: Request;
      try {
        req = await readRequest(sock, this.opts.workdir, this.opts.maxTimeoutSec);
      } catch (err) {
        this.record({ command: '(unreadable request)', error: (err as Error).message });
        return reply(sock, { ok: false, error: (err as Error).message });
      }
      if (this.stop.signal.aborted) return reply(sock, over);
      await this.run(sock, req, this.opts.redact(shown(req.argv)));
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private async run(sock: net.Socket, req: Request, command: string): Promise<void> {
    const sep = `\n--outlast-agent-run-${randomBytes(12).toString('hex')}--\n`;
    const sub = path.posix.relative(this.opts.workdir, req.cwd);
    const cd = sub ? `cd ${shQuote(sub)} || exit 125; ` : '';
    const line =
      `${cd}${req.argv.map(shQuote).join(' ')} 2>/tmp/.outlast-agent-run.err; rc=$?; ` +
      `printf '%s' ${shQuote(sep)}; head -c ${STDERR_BYTES} /tmp/.outlast-agent-run.err; exit $rc`;
    let res;
    try {
      res = await this.opts.agent.exec({
        command: line,
        workspace: this.opts.workspace,
        workdir: this.opts.workdir,
        mounts: await pycacheMounts(),
        env: { ...PYTHON_HARDENING },
        limits: { ...this.opts.limits, wall_time_sec: req.timeout_sec, output_bytes: OUTPUT_BYTES + STDERR_BYTES + sep.length },
        stdin: req.stdin.toString('utf8'),
        signal: this.stop.signal,
      });
    } catch (err) {
      this.failure ??= (err as Error).message;
      this.record({ command, error: `the sandbox could not run it: ${(err as Error).message}` });
      return reply(sock, { ok: false, error: `the sandbox could not run the command: ${(err as Error).message}` });
    }
    if (!this.refused) {
      const swept = await sweepWorkspace(this.opts.workspace, this.opts.workdir);
      if (swept.refused) this.refused = swept.refused;
    }
    const cut = res.output.lastIndexOf(sep);
    const stdout = Buffer.from(cut === -1 ? res.output : res.output.slice(0, cut));
    const stderr = Buffer.from(cut === -1 ? '' : res.output.slice(cut + sep.length));
    for (const p of countPhrases(res.output)) {
      if (this.phrases.size >= MAX_PHRASES) this.phrasesOverflow = true;
      else this.phrases.add(p);
    }
    this.record({
      command,
      exit_code: res.exit_code,
      signal: res.signal,
      timed_out: res.timed_out,
      duration_ms: Math.round(res.duration_ms),
      stdout_bytes: stdout.length,
      stderr_bytes: stderr.length,
    });
    if (res.aborted) return reply(sock, { ok: false, error: 'the verification is over' });
    const head = {
      ok: true,
      exit_code: res.exit_code,
      signal: res.signal,
      timed_out: res.timed_out,
      oom_killed: res.oom_killed === true,
      duration_ms: res.duration_ms,
      stdout_bytes: stdout.length,
      stderr_bytes: stderr.length,
      truncated_bytes: res.truncated_bytes,
    };
    sock.end(Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`), stdout, stderr]));
  }

  private record(r: Partial<AgentRunRecord> & { command: string }): void {
    this.calls++;
    if (this.runs.length >= MAX_RECORDS) return;
    this.runs.push({
      command: r.command,
      exit_code: r.exit_code ?? null,
      signal: r.signal ?? null,
      timed_out: r.timed_out ?? false,
      duration_ms: r.duration_ms ?? 0,
      stdout_bytes: r.stdout_bytes ?? 0,
      stderr_bytes: r.stderr_bytes ?? 0,
      ...(r.error ? { error: r.error } : {}),
    });
  }
}

/** A command line as recorded: the argv shell-quoted where needed, capped. */
function shown(argv: string[]): string {
  const s = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : shQuote(a))).join(' ');
  return s.length > MAX_COMMAND_CHARS ? `${s.slice(0, MAX_COMMAND_CHARS)}...` : s;
}

function reply(sock: net.Socket, head: Record<string, unknown>): void {
  if (!sock.destroyed) sock.end(`${JSON.stringify(head)}\n`);
}

/** Read and check one request: the JSON header line, then exactly `stdin_bytes` bytes. */
function readRequest(sock: net.Socket, workdir: string, maxTimeoutSec: number): Promise<Request> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    let head: Omit<Request, 'stdin'> & { stdin_bytes: number } | null = null;
    let headLen = 0;
    const timer = setTimeout(() => fail('the request was not sent in time'), REQUEST_MS);
    const done = (): void => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('end', onEnd);
    };
    const fail = (why: string): void => {
      done();
      reject(new Error(why));
    };
    const onEnd = (): void => fail('the request ended early');
    const onData = (b: Buffer): void => {
      chunks.push(b);
      got += b.length;
      if (!head) {
        const all = Buffer.concat(chunks);
        const nl = all.indexOf(10);
        if (nl === -1) {
          if (all.length > MAX_HEADER) fail(`the request header is longer than ${MAX_HEADER} bytes`);
          return;
        }
        try {
          head = parseHeader(all.subarray(0, nl).toString('utf8'), workdir, maxTimeoutSec);
        } catch (err) {
          return fail((err as Error).message);
        }
        headLen = nl + 1;
        chunks.splice(0, chunks.length, all);
      }
      if (got - headLen > head.stdin_bytes) return fail('the request holds more stdin than it announced');
      if (got - headLen === head.stdin_bytes) {
        done();
        const { stdin_bytes: _n, ...rest } = head;
        resolve({ ...rest, stdin: Buffer.concat(chunks).subarray(headLen) });
      }
    };
    sock.on('data', onData);
    sock.on('end', onEnd);
  });
}

function parseHeader(text: string, workdir: string, maxTimeoutSec: number): Omit<Request, 'stdin'> & { stdin_bytes: number } {
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error('the request header is not JSON');
  }
  if (!h || typeof h !== 'object' || h.v !== 1) throw new Error('the request is not agent-run protocol version 1');
  const argv = h.argv;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) throw new Error('argv must be a non-empty list of strings');
  if (argv.some((a: string) => a.includes('\0'))) throw new Error('argv must not hold NUL bytes');
  const n = h.stdin_bytes ?? 0;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error('stdin_bytes must be a non-negative integer');
  if (n > MAX_STDIN) throw new Error(`stdin is limited to ${MAX_STDIN} bytes`);
  const t = h.timeout_sec ?? DEFAULT_CALL_TIMEOUT_SEC;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) throw new Error('timeout_sec must be a positive number');
  // The working directory: the workspace or a directory under it (as the verifier sees it), else the workspace.
  const c = typeof h.cwd === 'string' ? path.posix.normalize(h.cwd) : workdir;
  const cwd = c === workdir || c.startsWith(`${workdir}/`) ? c : workdir;
  return { argv: argv as string[], cwd, timeout_sec: Math.min(t, maxTimeoutSec), stdin_bytes: n };
}
