// Reading one file the agent (or code the agent wrote) may have made, from the host: a reward file,
// a file the agent asked to read. The open never follows a symlink at the last component and never
// blocks (a FIFO answers at once), the type is checked on the open descriptor (no race between a
// check and the open), and at most `maxBytes` are read. Parents are the caller's business (a path
// resolved with realpath inside a directory the agent cannot change while it is read).
import { constants as C, promises as fs } from 'node:fs';

export type AgentFile = { ok: true; data: Buffer; size: number } | { ok: false; missing: boolean; reason: string };

/** Read a regular file of at most `maxBytes` bytes; anything else is refused with a reason. */
export async function readAgentFile(file: string | Buffer, maxBytes: number): Promise<AgentFile> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, missing: true, reason: 'does not exist' };
    if (code === 'ELOOP') return { ok: false, missing: false, reason: 'is a symbolic link' };
    if (code === 'ENXIO') return { ok: false, missing: false, reason: 'is a socket or a FIFO with no writer' };
    return { ok: false, missing: false, reason: `cannot be opened (${code ?? (err as Error).message})` };
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) return { ok: false, missing: false, reason: 'is a directory' };
    if (!st.isFile()) return { ok: false, missing: false, reason: 'is not a regular file' };
    if (st.size > maxBytes) return { ok: false, missing: false, reason: `is ${st.size} bytes, more than the ${maxBytes} allowed` };
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > maxBytes) return { ok: false, missing: false, reason: `grew past the ${maxBytes} bytes allowed while it was read` };
    return { ok: true, data: buf.subarray(0, n), size: n };
  } finally {
    await fh.close();
  }
}
