// The spawner process's side (see spawner.ts): one spawn per request, its output captured here and
// sent back when it is done.
// Leaves when the outlast process that started it goes away (and the kernel kills it then anyway:
// it is started under a parent-death signal).
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { OutputCapture } from './capture.js';
import type { SpawnerReply, SpawnerRequest } from './spawner-protocol.js';

const send = (m: SpawnerReply): void => void process.send?.(m);

function start(m: Extract<SpawnerRequest, { t: 'spawn' }>, live: Map<number, () => void>): void {
  let child;
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: m.fd3 ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    return send({ t: 'error', id: m.id, message: (e as Error).message });
  }
  child.on('error', (e) => send({ t: 'error', id: m.id, message: e.message }));
  if (child.pid === undefined) return;
  send({ t: 'pid', id: m.id, pid: child.pid });
  if (m.fd3) {
    const fd3 = child.stdio[3] as Writable;
    fd3.on('error', () => {});
    fd3.end(Buffer.from(m.fd3));
  }
  child.stdin!.on('error', () => {});
  child.stdin!.end(m.stdin);
  // Captured here, within its cap, so a command that prints without end costs neither process memory.
  const capture = new OutputCapture(m.cap);
  child.stdout!.on('data', (b: Buffer) => capture.push(b));
  child.stderr!.on('data', (b: Buffer) => capture.push(b));
  child.on('exit', (code, signal) => send({ t: 'exit', id: m.id, code, signal }));
  live.set(m.id, () => {
    child.stdout!.destroy();
    child.stderr!.destroy();
  });
  child.on('close', () => {
    live.delete(m.id);
    send({ t: 'close', id: m.id, ...capture.result() });
  });
}

export function runSpawner(): void {
  const live = new Map<number, () => void>();
  process.on('message', (m: SpawnerRequest) => {
    if (m.t === 'spawn') start(m, live);
    else if (m.t === 'drop') live.get(m.id)?.();
  });
  process.on('disconnect', () => process.exit(0));
  // Started after its parent already died: nothing to serve.
  if (process.ppid === 1) process.exit(0);
}
