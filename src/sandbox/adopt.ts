// Giving a host-made tree to a sandbox identity. When outlast runs as root, sandboxed processes run
// as an unprivileged uid (identity.ts) and can only use files it owns or may read: a workspace, a
// scratch directory or a result directory the host made must be handed over first. The walk is
// iterative, never follows symlinks (lchown), and takes names as bytes, so any tree the host made can
// be handed over. (Trees the agent made are copied by the runner, which sets their owner as it goes.)
import { promises as fs } from 'node:fs';
import type { SandboxIdentity } from './identity.js';

/** lchown every entry of `dir` (itself included; a single file works too) to the identity's uid and gid. */
export async function adoptTree(dir: string, id: SandboxIdentity): Promise<void> {
  if (!(await fs.lstat(dir)).isDirectory()) return fs.lchown(dir, id.uid, id.gid);
  const stack: Buffer[] = [Buffer.from(dir)];
  while (stack.length > 0) {
    const d = stack.pop()!;
    await fs.lchown(d, id.uid, id.gid);
    for (const ent of await fs.readdir(d, { withFileTypes: true, encoding: 'buffer' })) {
      const p = Buffer.concat([d, Buffer.from('/'), ent.name as unknown as Buffer]);
      if (ent.isDirectory()) stack.push(p);
      else await fs.lchown(p, id.uid, id.gid);
    }
  }
}
