// Start one process the way runTree needs it, wherever that happens (outlast itself, or its spawner
// process): detached (its own process group), stdin and fd 3 written once, stdout and stderr
// captured within a cap (capture.ts), and its life reported through callbacks. A streamed process
// (a sandbox session, session.ts) keeps its stdin open for writes and hands its output on as it
// arrives instead.
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { OutputCapture } from './capture.js';

export interface CapturedRequest {
  file: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdin: string | Uint8Array;
  fd3?: Uint8Array;
  /** Output bytes kept (head and tail). */
  cap: number;
  /** Keep stdin open (after `stdin`) and report output through `data` instead of capturing it. */
  stream?: boolean;
}

export interface CapturedEvents {
  spawn(pid: number): void;
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  close(captured: { output: string; truncated_bytes: number }): void;
  error(e: Error): void;
  /** Output as it arrives (streamed processes only). */
  data?(chunk: Buffer): void;
}

export interface CapturedHandle {
  /** Stop waiting for its output (pipes held by an escapee). */
  drop(): void;
  /** Write to its stdin (streamed processes). */
  write(b: string | Uint8Array): void;
}

/** Start `req`. */
export function spawnCaptured(req: CapturedRequest, on: CapturedEvents): CapturedHandle {
  let child;
  try {
    child = spawn(req.file, req.args, { cwd: req.cwd, env: req.env, detached: true, stdio: req.fd3 ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    queueMicrotask(() => on.error(e as Error));
    return { drop: () => {}, write: () => {} };
  }
  child.on('error', (e) => on.error(e));
  if (child.pid !== undefined) on.spawn(child.pid);
  if (req.fd3) {
    const fd3 = child.stdio[3] as Writable;
    fd3.on('error', () => {}); // the program died before reading it: its exit says why
    fd3.end(Buffer.from(req.fd3));
  }
  child.stdin!.on('error', () => {}); // EPIPE when the command does not read its stdin
  if (req.stream) child.stdin!.write(req.stdin);
  else child.stdin!.end(req.stdin);
  const capture = new OutputCapture(req.stream ? 0 : req.cap);
  const take = req.stream && on.data ? on.data : (b: Buffer) => capture.push(b);
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  child.on('exit', (code, signal) => on.exit(code, signal));
  child.on('close', () => on.close(capture.result()));
  return {
    drop: () => {
      child.stdout!.destroy();
      child.stderr!.destroy();
    },
    write: (b) => {
      if (child.stdin!.writable) child.stdin!.write(b);
    },
  };
}
