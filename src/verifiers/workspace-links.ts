// After the agent's code ran over the verifier's workspace copy (agent-run), what it left there is
// made safe for the grading code that reads it next, as the snapshot made the agent's workspace safe:
// a symlink that would lead the verifier to a file the agent never had (/tests, /logs/verifier,
// /proc, /outlast... — sandboxLinkPolicy) is removed, and so are FIFOs and sockets (a FIFO in place of
// an output file would hang the grading code's read). The walk is iterative, takes names as bytes and
// never follows a link; a tree deeper, longer or bigger than the snapshot allows is refused (the
// agent's doing: the verification scores 0 with the reason).
import { promises as fs } from 'node:fs';
import { DEFAULT_TREE_LIMITS, sandboxLinkPolicy, type TreeLimits } from '../sandbox/tree.js';

export interface LinkSweep {
  /** Links, FIFOs and sockets removed. */
  removed: number;
  /** Set when the tree could not be checked: why. */
  refused?: string;
}

const SLASH = Buffer.from('/');

function join(a: Buffer, b: Buffer): Buffer {
  return a.length === 0 ? b : Buffer.concat([a, SLASH, b]);
}

/** Remove, from the workspace copy at `root` (mounted at `workdir`), what the grading code must not meet. */
export async function sweepWorkspace(root: string, workdir: string, limits: TreeLimits = DEFAULT_TREE_LIMITS): Promise<LinkSweep> {
  const keep = sandboxLinkPolicy(workdir);
  const rootB = Buffer.from(root);
  const links: Buffer[] = [];
  const others: Buffer[] = [];
  const stack: Array<{ rel: Buffer; depth: number }> = [{ rel: Buffer.alloc(0), depth: 0 }];
  let entries = 0;
  try {
    while (stack.length > 0) {
      const d = stack.pop()!;
      for (const ent of await fs.readdir(join(rootB, d.rel), { withFileTypes: true, encoding: 'buffer' })) {
        const rel = join(d.rel, ent.name as unknown as Buffer);
        if (++entries > limits.maxEntries) return { removed: 0, refused: `the agent's code left more than ${limits.maxEntries} entries in the workspace` };
        if (rel.length > limits.maxPathBytes) return { removed: 0, refused: `the agent's code left a path longer than ${limits.maxPathBytes} bytes in the workspace` };
        if (ent.isDirectory()) {
          if (d.depth + 1 > limits.maxDepth) return { removed: 0, refused: `the agent's code nested directories deeper than ${limits.maxDepth} levels in the workspace` };
          stack.push({ rel, depth: d.depth + 1 });
        } else if (ent.isSymbolicLink()) links.push(rel);
        else if (ent.isFIFO() || ent.isSocket()) others.push(rel);
      }
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { removed: 0 }; // the workspace itself is gone: the grading code will find nothing
    return { removed: 0, refused: `the workspace the agent's code left cannot be read (${code ?? (err as Error).message})` };
  }
  let removed = 0;
  const drop = [...others];
  for (const rel of links) if (!(await keep(rel, root))) drop.push(rel);
  for (const rel of drop) {
    await fs.unlink(join(rootB, rel)).then(
      () => removed++,
      () => {},
    );
  }
  return { removed };
}
