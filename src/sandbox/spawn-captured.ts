// Start one process the way runTree needs it, wherever that happens (outlast itself, or its spawner
// process): detached (its own process group), stdin and fd 3 written once, stdout and stderr
// captured within a cap (capture.ts), and its life reported through callbacks.
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
}

export interface CapturedEvents {
  spawn(pid: number): void;
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  close(captured: { output: string; truncated_bytes: number }): void;
  error(e: Error): void;
}

/** Start `req`; returns the function that stops waiting for its output (pipes held by an escapee). */
export function spawnCaptured(req: CapturedRequest, on: CapturedEvents): () => void {
  let child;
  try {
    child = spawn(req.file, req.args, { cwd: req.cwd, env: req.env, detached: true, stdio: req.fd3 ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    queueMicrotask(() => on.error(e as Error));
    return () => {};
  }
  child.on('error', (e) => on.error(e));
  if (child.pid !== undefined) on.spawn(child.pid);
  if (req.fd3) {
    const fd3 = child.stdio[3] as Writable;
    fd3.on('error', () => {}); // the program died before reading it: its exit says why
    fd3.end(Buffer.from(req.fd3));
  }
  child.stdin!.on('error', () => {}); // EPIPE when the command does not read its stdin
  child.stdin!.end(req.stdin);
  const capture = new OutputCapture(req.cap);
  child.stdout!.on('data', (b: Buffer) => capture.push(b));
  child.stderr!.on('data', (b: Buffer) => capture.push(b));
  child.on('exit', (code, signal) => on.exit(code, signal));
  child.on('close', () => on.close(capture.result()));
  return () => {
    child.stdout!.destroy();
    child.stderr!.destroy();
  };
}
