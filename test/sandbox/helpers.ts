// Shared helpers of the sandbox tests: temp workspaces and a host-side scan for leftover processes.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'outlast-sbx-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A sleep duration no other process on the machine uses, to find our own sleeps on the host. */
export function uniqueSleep(): string {
  return `${900000 + Math.floor(Math.random() * 99999)}`;
}

/** Host pids whose command line contains `needle` (excluding zombies). */
export function hostProcessesWith(needle: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!cmd.includes(needle)) continue;
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1];
      if (state !== 'Z') found.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Poll until no host process matches (the kernel may take a moment to tear a namespace down). */
export async function waitGone(needle: string, ms = 2000): Promise<number[]> {
  const until = Date.now() + ms;
  for (;;) {
    const left = hostProcessesWith(needle);
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}
