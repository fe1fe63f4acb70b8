// Copying workspaces: the task's starting workspace into a rollout, and the final workspace into
// the verifier's private copy (the snapshot). Only regular files, directories and symlinks are
// copied (symlinks as links, never followed); anything else (sockets, FIFOs, devices) is skipped
// and counted, so an agent cannot break grading by leaving one behind.
import fs from 'node:fs';
import path from 'node:path';

export interface CopyReport {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  skipped: string[];
}

export function copyWorkspace(src: string, dst: string): CopyReport {
  const r: CopyReport = { files: 0, dirs: 0, symlinks: 0, bytes: 0, skipped: [] };
  const walk = (from: string, to: string, rel: string): void => {
    fs.mkdirSync(to, { recursive: true });
    fs.chmodSync(to, fs.statSync(from).mode & 0o7777);
    r.dirs++;
    for (const ent of fs.readdirSync(from, { withFileTypes: true })) {
      const a = path.join(from, ent.name);
      const b = path.join(to, ent.name);
      const relName = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) walk(a, b, relName);
      else if (ent.isFile()) {
        fs.copyFileSync(a, b);
        const st = fs.statSync(a);
        fs.chmodSync(b, st.mode & 0o7777);
        r.files++;
        r.bytes += st.size;
      } else if (ent.isSymbolicLink()) {
        fs.symlinkSync(fs.readlinkSync(a), b);
        r.symlinks++;
      } else r.skipped.push(relName);
    }
  };
  walk(src, dst, '');
  return r;
}
