// The bubblewrap sandbox. Each exec is a fresh bwrap (a session, session.ts, is one long-lived bwrap
// with the same walls running many commands): new PID, network (loopback only, no route
// out), IPC, UTS and cgroup namespaces; the host's /usr and /etc read-only (the /bin, /lib*, /sbin
// entries recreated as the host has them: symlinks on merged-/usr systems, read-only binds
// otherwise); a fresh /dev and /proc; private, size-limited tmpfs /tmp and /dev/shm; the workspace
// read-write at `workdir`; nothing else of the host (no /root, /home, /tmp, /work, /run, /sys); the
// seccomp filter of seccomp.ts.
//
// Who the processes are depends on who runs outlast:
//   - root: bwrap runs privileged (no user namespace, which would map the sandbox to host root) and
//     keeps only CAP_SETUID/CAP_SETGID/CAP_SETPCAP, which `setpriv` uses as the sandbox's first
//     process to become the exec's dedicated unprivileged uid (identity.ts), clear its groups,
//     capabilities and bounding set and set no_new_privs before it runs the command. Host files the
//     sandbox writes are owned by that uid; /proc/sys and every root-owned file are read-only to it.
//   - anyone else: bwrap makes a user namespace mapping the sandbox to the caller's uid and drops
//     every capability (bubblewrap's normal mode).
// Limits and tree killing are runTree's job (run.ts); tying the tree to the runner's life (so a
// runner killed mid-launch leaves nothing running) is the launcher's (launch.ts).
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { adoptTree } from './adopt.js';
import { hostCaps, processLimitsEnforced, type HostCaps } from './host.js';
import { anonymousIdentity, type SandboxIdentity } from './identity.js';
import { diesWithRunner } from './launch.js';
import { runTree, startStreamedTree } from './run.js';
import { EXECUTOR, EXECUTOR_PROCESSES, TreeSession } from './session.js';
import { SESSION_MOUNT } from '../core/mounts.js';
import { BASE_ENV, DEFAULT_TMP_MB, type EnforcedLimits, type ExecOptions, type ExecResult, type Mount, type Sandbox, type SandboxSession, type SessionOptions } from './sandbox.js';
import { seccompProgram } from './seccomp.js';

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
/** The file descriptor bwrap reads the seccomp program from (runTree opens it there). */
const SECCOMP_FD = 3;
const MIB = 1024 * 1024;

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
  private readonly seccomp: Buffer | null;

  /** @param bwrap absolute path of the bwrap binary (see createSandbox for the lookup). */
  constructor(
    private readonly bwrap: string,
    private readonly host: HostCaps = hostCaps(),
  ) {
    if (host.isRoot && !host.setpriv) {
      throw new Error('sandbox: setpriv (util-linux) is needed to run sandboxed processes as an unprivileged uid when outlast runs as root');
    }
    this.system = systemArgs();
    this.seccomp = seccompProgram();
    this.enforced = {
      wall_time: true,
      network: true,
      filesystem: true,
      ...processLimitsEnforced(host),
      dedicated_uid: host.isRoot,
      seccomp: this.seccomp !== null,
      tmp_size: true,
      dies_with_runner: diesWithRunner(host, true),
    };
  }

  /** The full bwrap argv (without the binary) for one exec. Exposed for tests and debugging. */
  args(opts: Omit<ExecOptions, 'limits'> & { limits: Pick<ExecOptions['limits'], 'tmp_mb'> }): string[] {
    const workdir = checkPath('workdir', opts.workdir);
    const env = { ...BASE_ENV, ...opts.env, OUTLAST_WORKDIR: workdir };
    const a = this.host.isRoot
      ? // privileged: no user namespace (it would map the sandbox to host root); setpriv drops to the identity
        ['--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--cap-drop', 'ALL', ...PRIVILEGED_CAPS]
      : ['--unshare-all', '--cap-drop', 'ALL'];
    a.push('--die-with-parent', '--new-session', '--hostname', 'sandbox', '--clearenv');
    for (const [k, v] of Object.entries(env)) a.push('--setenv', k, v);
    const tmpBytes = String(Math.floor((opts.limits.tmp_mb ?? DEFAULT_TMP_MB) * MIB));
    a.push(...this.system, '--dev', '/dev', '--proc', '/proc');
    a.push('--perms', '1777', '--size', tmpBytes, '--tmpfs', '/tmp', '--perms', '1777', '--size', tmpBytes, '--tmpfs', '/dev/shm');
    if (!existsSync(checkPath('workspace', opts.workspace))) throw new Error(`sandbox: workspace does not exist: ${opts.workspace}`);
    // bwrap makes the missing parents of a mount point 0700 (root's): make them 0755 first, so the
    // identity can reach what is mounted below them (e.g. /logs of /logs/verifier).
    for (const d of parentsToMake([workdir, ...(opts.mounts ?? []).map((m) => m.target)])) a.push('--perms', '0755', '--dir', d);
    a.push('--bind', opts.workspace, workdir);
    for (const m of opts.mounts ?? []) a.push(...mountArgs(m));
    if (this.seccomp) a.push('--seccomp', String(SECCOMP_FD));
    if (this.host.isRoot) {
      // bwrap, without CAP_DAC_OVERRIDE by then, could not enter a workspace only its owner may: the
      // identity changes directory itself.
      a.push('--', ...dropTo(this.host.setpriv!, opts.identity ?? anonymousIdentity()));
      a.push('/bin/sh', '-c', `cd "$OUTLAST_WORKDIR" || exit 125; ${opts.command}`);
    } else {
      a.push('--chdir', workdir, '--', '/bin/sh', '-c', opts.command);
    }
    return a;
  }

  async adopt(dir: string, identity?: SandboxIdentity): Promise<void> {
    if (this.host.isRoot) await adoptTree(dir, identity ?? anonymousIdentity());
  }

  /** A long-lived sandbox running commands one after another (session.ts). */
  session(opts: SessionOptions): SandboxSession {
    return new TreeSession(opts, (o, dir, first, onData) =>
      startStreamedTree(
        {
          argv: [this.bwrap, ...this.args({ ...o, command: EXECUTOR, mounts: [...(o.mounts ?? []), { host: dir, target: SESSION_MOUNT, readonly: true }] })],
          cwd: '/',
          env: {},
          limits: o.limits,
          host: this.host,
          launcherProcesses: BWRAP_PROCESSES + EXECUTOR_PROCESSES,
          trackWithCgroup: false,
          pidNamespace: true,
          ...(this.seccomp ? { fd3: this.seccomp } : {}),
        },
        first,
        onData,
      ),
    );
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
      // The PID namespace already takes the whole tree down: a cgroup only for the limits it holds.
      trackWithCgroup: false,
      // ... and an outer one whose init dies with this process closes bwrap's setup window (launch.ts).
      pidNamespace: true,
      ...(this.seccomp ? { fd3: this.seccomp } : {}),
    });
  }
}

/** What privileged bwrap keeps for the sandbox's first process (setpriv), which drops it all. */
const PRIVILEGED_CAPS = ['--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP'];

/** setpriv arguments that become `id` for good: no groups but its own, no capabilities, no way back. */
function dropTo(setpriv: string, id: SandboxIdentity): string[] {
  return [
    setpriv,
    `--reuid=${id.uid}`,
    `--regid=${id.gid}`,
    id.groups.length ? `--groups=${id.groups.join(',')}` : '--clear-groups',
    '--inh-caps=-all',
    '--ambient-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
    '--',
  ];
}

/** Top-level entries the sandbox has anyway (system directories, /dev, /proc, /tmp). */
const PROVIDED = new Set(['/usr', '/etc', ...SYSTEM_LINKS, '/dev', '/proc', '/tmp']);

/** The missing parent directories of mount points, outermost first (under a provided directory: none). */
export function parentsToMake(targets: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of targets) {
    const parts = t.split('/').filter(Boolean);
    if (parts.length < 2 || PROVIDED.has(`/${parts[0]}`)) continue;
    for (let i = 1; i < parts.length; i++) {
      const d = `/${parts.slice(0, i).join('/')}`;
      if (!out.includes(d)) out.push(d);
    }
  }
  return out;
}

function mountArgs(m: Mount): string[] {
  checkPath('mount host path', m.host);
  checkPath('mount target', m.target);
  if (!existsSync(m.host)) throw new Error(`sandbox: mount source does not exist: ${m.host}`);
  return [m.readonly ? '--ro-bind' : '--bind', m.host, m.target];
}
