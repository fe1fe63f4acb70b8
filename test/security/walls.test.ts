// Attack classes 1 and 2 of docs/security.md: the walls of the agent's sandbox, tried from `bash`
// tool calls of a scripted agent through the real CLI. Run as root (as CI does), the sandbox must
// still hold: no host sysctl, keyring, setuid file, device or process is reachable, and resources
// are limited for the whole sandbox, not per process.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isRoot, out, runAgent, task, type Outcome } from './helpers.js';

describe('class 1: the sandbox walls, from bash tool calls', () => {
  const coreBefore = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
  const overcommitBefore = fs.readFileSync('/proc/sys/vm/overcommit_memory', 'utf8');
  let o: Outcome;
  const steps = [
    /* 0 */ 'echo "|/tmp/pwn %p" > /proc/sys/kernel/core_pattern; echo rc=$?',
    // only files it may open for writing are tried, with their own value (a few: the rest fail at open)
    /* 1 */ 'echo 1 > /proc/sys/vm/overcommit_memory; echo rc=$?; find /proc/sys -type f 2>/dev/null | while read -r f; do { : >> "$f"; } 2>/dev/null || continue; v=$(cat "$f" 2>/dev/null); { printf "%s\\n" "$v" > "$f"; } 2>/dev/null && echo "WROTE $f"; done; echo scanned',
    /* 2 */ 'id -u; id -g; echo host-owned > mine.txt',
    /* 3 */ 'python3 -c "import ctypes; l=ctypes.CDLL(None, use_errno=True); r=l.syscall(250, 0, -3, 0); print(\'keyctl\', r, ctypes.get_errno())"; cat /proc/keys',
    /* 4 */ 'cp /bin/sh suid-sh; chmod u+s suid-sh; echo chmod=$?; install -m 4755 /bin/true suid-install; echo install=$?; python3 -c "import os; os.open(\'suid-open\', os.O_CREAT|os.O_WRONLY, 0o6755)"; echo open=$?; chmod g+s . ; echo dir=$?',
    /* 5 */ 'mknod fake-sda b 8 0; echo mknod=$?; ls /dev | tr "\\n" " "',
    /* 6 */ 'grep -c . /proc/self/mountinfo; cut -d" " -f5 /proc/self/mountinfo | sort -u | tr "\\n" " "; echo; grep -E ":(memory|pids):" /proc/self/cgroup',
    /* 7 */ `kill -9 ${process.pid}; echo kill=$?; ls /proc | grep -c "^[0-9]"; cat /proc/1/cmdline | tr "\\0" " "`,
    /* 8 */ 'ls /sys 2>&1 | head -1; ls /root 2>&1 | head -1; ls /run /var 2>&1 | head -2; touch /usr/x /etc/x 2>&1 | head -2',
    /* 9 */ 'unshare -r id 2>&1; echo userns=$?; unshare -rm sh -c "mount -t proc proc /proc" 2>&1; echo mnt=$?',
  ];
  beforeAll(async () => {
    o = await runAgent(task({}), steps);
  }, 120_000);

  it('the rollout runs to the end, scored, not as an infrastructure error', () => {
    expect(o.cli.code, o.cli.stderr).toBe(0);
    expect(o.finished?.outcome).toBe('completed');
    expect(o.results).toHaveLength(steps.length + 1);
  });

  it('cannot change a host sysctl (kernel.core_pattern)', () => {
    expect(out(o, 0)).toMatch(/Permission denied|Read-only/);
    expect(fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(coreBefore);
  });

  it('cannot write any /proc/sys file at all', () => {
    expect(out(o, 1)).toContain('scanned');
    expect(out(o, 1)).not.toMatch(/WROTE/);
    expect(fs.readFileSync('/proc/sys/vm/overcommit_memory', 'utf8')).toBe(overcommitBefore);
  });

  it('runs as an unprivileged uid, and its files are not root-owned on the host', () => {
    const [uid, gid] = out(o, 2).trim().split('\n').map(Number);
    expect(uid).not.toBe(0);
    expect(gid).not.toBe(0);
    const st = fs.statSync(path.join(o.rolloutDir, 'workspace/mine.txt'));
    if (isRoot) {
      expect(st.uid).toBe(uid);
      expect(st.uid).toBeGreaterThanOrEqual(1000);
    } else expect(st.uid).toBe(process.getuid!());
  });

  it('sees no keyring of the host: keyctl is refused', () => {
    expect(out(o, 3)).toMatch(/keyctl -1 1\b/); // EPERM
    expect(out(o, 3)).not.toMatch(/_uid\.0|_uid_ses\.0/); // none of root's keyrings
  });

  it('makes no setuid or setgid file that lands on the host', () => {
    expect(out(o, 4)).toMatch(/chmod=1/);
    expect(out(o, 4)).toMatch(/install=1/);
    expect(out(o, 4)).toMatch(/PermissionError/);
    expect(out(o, 4)).toMatch(/dir=1/);
    for (const f of ['suid-sh', 'suid-install', 'suid-open']) {
      const p = path.join(o.rolloutDir, 'workspace', f);
      if (fs.existsSync(p)) expect(fs.statSync(p).mode & 0o6000, f).toBe(0);
    }
    expect(fs.statSync(path.join(o.rolloutDir, 'workspace')).mode & 0o6000).toBe(0);
  });

  it('cannot make device nodes, and sees only the harmless ones', () => {
    expect(out(o, 5)).toMatch(/mknod=1/);
    expect(fs.existsSync(path.join(o.rolloutDir, 'workspace/fake-sda'))).toBe(false);
    const devices = out(o, 5).trim().split('\n').pop()!;
    expect(devices).not.toMatch(/\b(sda|vda|nvme0n1|mem|kmem|kvm|port)\b/);
  });

  // /outlast/session: the tool session's command files (src/sandbox/session.ts); /outlast/task: the task's starting files.
  it('mountinfo lists only the sandbox\'s own mounts, and the cgroup path is hidden', () => {
    const mounts = out(o, 6).split('\n')[1]!.trim().split(' ');
    for (const m of mounts) expect(['/', '/usr', '/etc', '/dev', '/proc', '/tmp', '/dev/shm', '/workspace', '/dev/mqueue', '/dev/pts', '/outlast/session', '/outlast/task', '/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-'].some((ok) => m === ok || m.startsWith('/etc/ssh/') || m.startsWith('/etc/ssl/private/') || m.startsWith('/proc/') || m.startsWith('/dev/')), m).toBe(true);
    expect(out(o, 6)).not.toMatch(/\/sys\b|\/root\b|outlast-attack-home/);
    expect(out(o, 6)).toMatch(/memory:\/\n|memory:\/$/m);
  });

  it('cannot signal or even see host processes (its own PID namespace)', () => {
    expect(out(o, 7)).toMatch(/kill=1/);
    const procs = Number(out(o, 7).split('\n').find((l) => /^\d+$/.test(l.trim())));
    expect(procs).toBeLessThan(10);
  });

  it('sees nothing of the host but the read-only system', () => {
    const text = out(o, 8);
    expect(text).toMatch(/\/sys.*No such file/);
    expect(text).toMatch(/\/root.*No such file/);
    expect(text).toMatch(/Read-only file system/);
    expect(fs.existsSync('/usr/x')).toBe(false);
  });

  it('a user namespace of its own gives no power over the host', () => {
    // nested namespaces are allowed (the kernels suite nests a sandbox); inside one the agent is
    // "root" of nothing: still no host sysctl (checked above, after this ran) and no host files
    expect(fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(coreBefore);
  });
});

describe('class 2: resources are limited per sandbox, not per process', () => {
  let o: Outcome;
  const steps = [
    /* 0 */ 'for i in 1 2 3 4; do python3 -c "import time; b = bytearray(200*1024*1024); time.sleep(2)" & done; wait; echo waited',
    /* 1 */ 'for i in 1 2 3 4 5 6; do head -c 8M /dev/zero > /tmp/fill$i || break; done; du -sm /tmp | cut -f1',
    /* 2 */ 'for i in 1 2 3 4 5 6; do head -c 8M /dev/zero > /dev/shm/fill$i || break; done; du -sm /dev/shm | cut -f1',
    /* 3 */ 'head -c 30M /dev/zero > big.bin; echo rc=$?; ls -l big.bin | cut -d" " -f5',
    /* 4 */ 'python3 -c "\nimport os, time\nt=time.time()\nwhile time.time()-t < 1.5: pass\nprint(\'cpu\', round(time.process_time(), 2))"',
    // (in Python: bash retries a failed fork with a growing back-off, dash gives up on the first)
    /* 5 */ 'python3 -c "\nimport os, time\nn = 0\nfor i in range(100):\n  try:\n    if os.fork() == 0:\n      time.sleep(30); os._exit(0)\n    n += 1\n  except OSError: pass\nprint(\'forked\', n)"',
  ];
  beforeAll(async () => {
    const t = task({}, '[sandbox]\nmemory_mb = 300\ntmp_mb = 32\nfile_size_mb = 10\ncpus = 0.5\nprocesses = 40\n');
    o = await runAgent(t, steps);
  }, 120_000);

  it('the rollout still ends normally', () => {
    expect(o.cli.code, o.cli.stderr).toBe(0);
    expect(o.finished?.outcome).toBe('completed');
  });

  it('stops four processes that together go over the memory limit, and says so', () => {
    expect(out(o, 0)).toMatch(/memory limit \(300 MiB, all processes together\) was reached/);
  });

  it('/tmp and /dev/shm are bounded', () => {
    expect(out(o, 1)).toMatch(/No space left on device/);
    expect(Number(out(o, 1).trim().split('\n').pop())).toBeLessThanOrEqual(33);
    expect(out(o, 2)).toMatch(/No space left on device/);
    expect(Number(out(o, 2).trim().split('\n').pop())).toBeLessThanOrEqual(33);
  });

  it('a file cannot grow past the file-size limit', () => {
    expect(out(o, 3)).toMatch(/File size limit exceeded|rc=153/);
    expect(fs.statSync(path.join(o.rolloutDir, 'workspace/big.bin')).size).toBeLessThanOrEqual(10 * 1024 * 1024);
  });

  it('a CPU quota holds a busy loop to its share', () => {
    const cpu = Number(/cpu ([\d.]+)/.exec(out(o, 4))?.[1]);
    expect(cpu).toBeGreaterThan(0.2);
    expect(cpu).toBeLessThan(1.1); // 1.5 s of wall time at 0.5 cores
  });

  it('a fork bomb stops at the process limit', () => {
    const n = Number(/forked (\d+)/.exec(out(o, 5))?.[1]);
    expect(n).toBeGreaterThan(5);
    expect(n).toBeLessThan(40);
  });
});
