// Spawning sandboxed processes from a small helper process instead of from outlast itself. On
// Linux, Node (libuv) starts a child with fork(), whose cost grows with the parent's memory: 1.5 ms
// from a 56 MB process, 28 ms from a 270 MB one, and the event loop is blocked meanwhile (measured in
// bench/RESULTS.md, "Spawning"). A runner with a hundred rollouts is that large, so every tool call
// would stall every other rollout's model streams. The spawner is a separate Node process that does
// nothing else: its fork() stays cheap and runs beside outlast's event loop. It is started under
// `setpriv --pdeathsig KILL`, so the kernel kills it when outlast dies, and every tree it starts is
// tied to it (launch.ts), so nothing outlives outlast. Without setpriv, or where the spawner cannot
// start, processes are spawned directly as before.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { spawnCaptured } from './spawn-captured.js';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpawnerReply } from './spawner-protocol.js';

/**
 * What runTree needs of a spawned process. Events: 'spawn' (the pid is known), 'exit' (code,
 * signal), 'close' (captured: {output, truncated_bytes}: stdout and stderr within the cap), 'error'.
 */
export interface Spawned extends EventEmitter {
  readonly pid: number | undefined;
  /** Stop waiting for output (its pipes are held by something that escaped the kill). */
  drop(): void;
  /** Write to its stdin (streamed processes; their output comes as 'data' events of Buffers). */
  write(b: string | Buffer): void;
}

export interface SpawnRequest {
  file: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdin: string | Buffer;
  fd3?: Buffer;
  /** Output bytes kept (head and tail; capture.ts). */
  cap: number;
  /** Keep stdin open for `write` and emit output as 'data' instead of capturing it (session.ts). */
  stream?: boolean;
}

function entry(): string | null {
  const here = fileURLToPath(import.meta.url);
  const js = here.endsWith('.js') ? path.join(path.dirname(here), 'spawner-main.js') : path.resolve(path.dirname(here), '../../dist/src/sandbox/spawner-main.js');
  return fs.existsSync(js) ? js : null;
}

/** A process spawned here, directly (the fallback). */
function direct(req: SpawnRequest): Spawned {
  const ee = new EventEmitter() as Spawned & { pid: number | undefined };
  ee.pid = undefined;
  const h = spawnCaptured(req, {
    spawn: (pid) => {
      ee.pid = pid;
      queueMicrotask(() => ee.emit('spawn'));
    },
    exit: (c, s) => ee.emit('exit', c, s),
    close: (captured) => ee.emit('close', captured),
    error: (e) => ee.emit('error', e),
    data: (chunk) => ee.emit('data', chunk),
  });
  ee.drop = h.drop;
  ee.write = h.write;
  return ee;
}

class SpawnerProcess {
  private readonly child: ChildProcess;
  private readonly live = new Map<number, Spawned & { pid: number | undefined }>();
  private next = 1;
  dead = false;

  constructor(file: string, setpriv: string | null) {
    const args = [...process.execArgv.filter((a) => !a.startsWith('--cpu-prof') && !a.startsWith('--inspect')), file];
    this.child = setpriv
      ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', process.execPath, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
      : fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.child.on('message', (m: SpawnerReply) => this.reply(m));
    this.child.on('exit', () => this.died());
    this.child.on('error', () => this.died());
    this.idle();
  }

  /** The spawner's pid: the parent the launched trees check for (launch.ts guard). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  private idle(): void {
    // Do not keep outlast alive for the spawner's sake when nothing is running.
    if (this.live.size === 0) {
      this.child.unref();
      (this.child.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
    }
  }

  private reply(m: SpawnerReply): void {
    const s = this.live.get(m.id);
    if (!s) return;
    if (m.t === 'pid') {
      s.pid = m.pid;
      s.emit('spawn');
    }
    else if (m.t === 'exit') s.emit('exit', m.code, m.signal);
    else if (m.t === 'error') s.emit('error', new Error(m.message));
    else if (m.t === 'data') s.emit('data', Buffer.from(m.chunk));
    else if (m.t === 'close') {
      this.live.delete(m.id);
      s.emit('close', { output: m.output, truncated_bytes: m.truncated_bytes });
      this.idle();
    }
  }

  private died(): void {
    this.dead = true;
    for (const s of this.live.values()) {
      s.emit('error', new Error('the spawner process died'));
    }
    this.live.clear();
  }

  spawn(req: SpawnRequest): Spawned {
    const id = this.next++;
    const ee = new EventEmitter() as Spawned & { pid: number | undefined };
    ee.pid = undefined;
    ee.drop = () => this.child.connected && this.child.send({ t: 'drop', id });
    ee.write = (data) => void (this.child.connected && this.child.send({ t: 'write', id, data }));
    this.live.set(id, ee);
    this.child.ref();
    (this.child.channel as unknown as { ref?: () => void } | undefined)?.ref?.();
    this.child.send({ t: 'spawn', id, file: req.file, args: req.args, cwd: req.cwd, env: req.env, stdin: req.stdin, fd3: req.fd3, cap: req.cap, stream: req.stream });
    return ee;
  }
}

let shared: SpawnerProcess | null = null;

/**
 * The spawner for this process, started on first use; null when spawning directly (no compiled
 * spawner entry, or OUTLAST_SPAWNER=0).
 */
export function spawner(setpriv: string | null): { pid: number; spawn(req: SpawnRequest): Spawned } | null {
  if (process.env.OUTLAST_SPAWNER === '0') return null;
  if (shared?.dead) shared = null;
  if (!shared) {
    const file = entry();
    if (!file) return null;
    shared = new SpawnerProcess(file, setpriv);
  }
  const pid = shared.pid;
  if (pid === undefined) return null;
  const s = shared;
  return { pid, spawn: (req) => s.spawn(req) };
}

/** Spawn through the spawner when there is one, else directly. */
export function spawnTree(req: SpawnRequest, via: ReturnType<typeof spawner>): Spawned {
  return via ? via.spawn(req) : direct(req);
}
