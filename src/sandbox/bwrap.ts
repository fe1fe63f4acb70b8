// The bubblewrap sandbox. Each exec is a fresh bwrap: new user, PID, network (loopback only, no
// route out), IPC, UTS and cgroup namespaces; all capabilities dropped; the host's /usr and /etc
// read-only (the /bin, /lib*, /sbin entries recreated as the host has them: symlinks on merged-/usr
// systems, read-only binds otherwise); a fresh /dev, /proc and private tmpfs /tmp; the workspace
// read-write at `workdir`; nothing else of the host (no /root, /home, /tmp, /work, /run, /sys).
// Limits and tree killing are runTree's job (run.ts).
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { hostCaps, processLimitsEnforced, type HostCaps } from './host.js';
import { runTree } from './run.js';
import { BASE_ENV, type EnforcedLimits, type ExecOptions, type ExecResult, type Mount, type Sandbox } from './sandbox.js';

/** Read-only system directories bound from the host when present. */
const SYSTEM_DIRS = ['/usr', '/etc'];
/** Top-level entries that are symlinks into /usr on merged-/usr systems, directories elsewhere. */
const SYSTEM_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** Host secrets under /etc hidden behind an empty file. */
const MASKED_FILES = ['/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-'];
/** Directories under /etc whose private-key files (`*_key`, `*.key`, `*.pem` keys) are hidden too. */
const MASKED_KEY_DIRS = ['/etc/ssh', '/etc/ssl/private'];

/** The private-key files under `dirs` (default: the host's MASKED_KEY_DIRS); every file of a `private` directory counts. */
export function hostKeyFiles(dirs: readonly string[] = MASKED_KEY_DIRS): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = `${dir}/${n}`;
      const isKey = dir.endsWith('/private') || /_key$/.test(n);
      if (isKey && lstatSync(p).isFile()) out.push(p);
    }
  }
  return out;
}
/** bwrap's own processes in the tree: the outer monitor and the PID-namespace init. */
const BWRAP_PROCESSES = 2;

function checkPath(what: string, p: string): string {
  if (!isAbsolute(p) || normalize(p) !== p || p === '/') {
    throw new Error(`sandbox: ${what} must be an absolute, normalized path, got ${JSON.stringify(p)}`);
  }
  return p;
}

/** bwrap arguments for the host's system directories (computed once: they do not change). */
function systemArgs(): string[] {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) if (existsSync(dir)) args.push('--ro-bind', dir, dir);
  for (const entry of SYSTEM_LINKS) {
    let st;
    try {
      st = lstatSync(entry);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(entry), entry);
    else if (st.isDirectory()) args.push('--ro-bind', entry, entry);
  }
  for (const f of [...MASKED_FILES, ...hostKeyFiles()]) if (existsSync(f)) args.push('--ro-bind', '/dev/null', f);
  return args;
}

export class BwrapSandbox implements Sandbox {
  readonly mode = 'bwrap' as const;
  readonly unsandboxed = false;
  readonly enforced: EnforcedLimits;
  private readonly system: string[];

  /** @param bwrap absolute path of the bwrap binary (see createSandbox for the lookup). */
  constructor(
    private readonly bwrap: string,
    private readonly host: HostCaps = hostCaps(),
  ) {
    this.system = systemArgs();
    this.enforced = { wall_time: true, network: true, filesystem: true, ...processLimitsEnforced(host) };
  }

  /** The full bwrap argv (without the binary) for one exec. Exposed for tests and debugging. */
  args(opts: ExecOptions): string[] {
    const workdir = checkPath('workdir', opts.workdir);
    const env = { ...BASE_ENV, ...opts.env, OUTLAST_WORKDIR: workdir };
    const a = ['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--hostname', 'sandbox', '--clearenv'];
    for (const [k, v] of Object.entries(env)) a.push('--setenv', k, v);
    a.push(...this.system, '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');
    if (!existsSync(checkPath('workspace', opts.workspace))) throw new Error(`sandbox: workspace does not exist: ${opts.workspace}`);
    a.push('--bind', opts.workspace, workdir);
    for (const m of opts.mounts ?? []) a.push(...mountArgs(m));
    a.push('--chdir', workdir, '--', '/bin/sh', '-c', opts.command);
    return a;
  }

  exec(opts: ExecOptions): Promise<ExecResult> {
    return runTree({
      argv: [this.bwrap, ...this.args(opts)],
      cwd: '/',
      env: {},
      limits: opts.limits,
      stdin: opts.stdin,
      signal: opts.signal,
      host: this.host,
      launcherProcesses: BWRAP_PROCESSES,
      // The PID namespace already takes the whole tree down: a cgroup only when counting processes.
      trackWithCgroup: false,
    });
  }
}

function mountArgs(m: Mount): string[] {
  checkPath('mount host path', m.host);
  checkPath('mount target', m.target);
  if (!existsSync(m.host)) throw new Error(`sandbox: mount source does not exist: ${m.host}`);
  return [m.readonly ? '--ro-bind' : '--bind', m.host, m.target];
}
