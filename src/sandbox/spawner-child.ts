// The spawner process's side (see spawner.ts): one spawn per request, its output captured here and
// sent back when it is done.
// Leaves when the outlast process that started it goes away (and the kernel kills it then anyway:
// it is started under a parent-death signal).
import { type CapturedHandle, spawnCaptured } from './spawn-captured.js';
import type { SpawnerReply, SpawnerRequest } from './spawner-protocol.js';

const send = (m: SpawnerReply): void => void process.send?.(m);

function start(m: Extract<SpawnerRequest, { t: 'spawn' }>, live: Map<number, CapturedHandle>): void {
  const handle = spawnCaptured(m, {
    spawn: (pid) => send({ t: 'pid', id: m.id, pid }),
    exit: (code, signal) => send({ t: 'exit', id: m.id, code, signal }),
    close: (captured) => {
      live.delete(m.id);
      send({ t: 'close', id: m.id, ...captured });
    },
    error: (e) => send({ t: 'error', id: m.id, message: e.message }),
    data: (chunk) => send({ t: 'data', id: m.id, chunk }),
  });
  live.set(m.id, handle);
}

export function runSpawner(): void {
  const live = new Map<number, CapturedHandle>();
  process.on('message', (m: SpawnerRequest) => {
    if (m.t === 'spawn') start(m, live);
    else if (m.t === 'drop') live.get(m.id)?.drop();
    else if (m.t === 'write') live.get(m.id)?.write(m.data);
  });
  process.on('disconnect', () => process.exit(0));
  // Started after its parent already died: nothing to serve.
  if (process.ppid === 1) process.exit(0);
}
