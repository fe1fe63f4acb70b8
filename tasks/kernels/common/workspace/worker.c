/* worker.c — the process a kernel runs in (one worker links the reference kernel, another the
 * candidate; see ipc.h and docs/kernels.md, "The process boundary").
 *
 * usage: worker ARENA_FILE OUT_FILE CTL_FILE ARENA_BYTES OUT_BYTES
 *
 * It maps the arena read-only, its output file and its control page read-write, each at its fixed
 * address, closes every file descriptor but 0-2, forbids the time-stamp counter (PR_SET_TSC), installs
 * a seccomp filter (an allowlist: memory, futexes, threads of its own process; no open, no clocks, no
 * signals to other processes, no ptrace, no process_vm_*, no sockets, no exec, no fork), says it is
 * ready, and then serves requests: CMD_RUN calls kernel_run() on the state the grader names, CMD_NOOP
 * only answers (the grader times no-op requests to measure the handshake), CMD_EXIT exits.
 * Everything here runs before any kernel code: the kernel object may hold no constructors, so the
 * first candidate instruction runs inside the first CMD_RUN, behind the filter. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "driver.h"
#include "ipc.h"

/* The worker never allocates driver state: only the grader does. */
void *bench_alloc(size_t bytes) {
  (void)bytes;
  fprintf(stderr, "worker: bench_alloc called in a worker\n");
  abort();
}

static void die(const char *what) {
  fprintf(stderr, "worker: %s: %s\n", what, strerror(errno));
  _exit(70);
}

static void *map_file(const char *path, void *addr, size_t bytes, int writable) {
  int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) die(path);
  void *p = mmap(addr, bytes, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
  if (p == MAP_FAILED || p != addr) die("mmap");
  close(fd);
  return p;
}

/* ---------- the seccomp filter ---------- */
#define ALLOW_NR(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define ARG_LO(i) offsetof(struct seccomp_data, args[i])
#define ARG_HI(i) (offsetof(struct seccomp_data, args[i]) + 4)
#define DENY(err) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err))

static void install_filter(void) {
  const uint32_t self = (uint32_t)getpid();
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      /* x32 system calls: refused */
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      /* memory, futexes, signals of its own, threads' bookkeeping, reads/writes of fds 0-2 */
      ALLOW_NR(SYS_read), ALLOW_NR(SYS_write), ALLOW_NR(SYS_writev), ALLOW_NR(SYS_close), ALLOW_NR(SYS_fstat), ALLOW_NR(SYS_newfstatat),
      ALLOW_NR(SYS_lseek), ALLOW_NR(SYS_mmap), ALLOW_NR(SYS_munmap), ALLOW_NR(SYS_mprotect), ALLOW_NR(SYS_mremap), ALLOW_NR(SYS_madvise),
      ALLOW_NR(SYS_brk), ALLOW_NR(SYS_futex), ALLOW_NR(SYS_set_robust_list), ALLOW_NR(SYS_get_robust_list), ALLOW_NR(SYS_rseq),
      ALLOW_NR(SYS_rt_sigaction), ALLOW_NR(SYS_rt_sigprocmask), ALLOW_NR(SYS_rt_sigreturn), ALLOW_NR(SYS_sigaltstack),
      ALLOW_NR(SYS_sched_yield), ALLOW_NR(SYS_sched_getaffinity), ALLOW_NR(SYS_sched_setaffinity), ALLOW_NR(SYS_getpid),
      ALLOW_NR(SYS_gettid), ALLOW_NR(SYS_getrandom), ALLOW_NR(SYS_exit), ALLOW_NR(SYS_exit_group), ALLOW_NR(SYS_membarrier),
      /* clone: threads of this process only (CLONE_THREAD); no fork, no new namespaces */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      DENY(EPERM),
      /* clone3 passes its flags in memory the filter cannot read: ENOSYS makes glibc fall back to clone */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
      DENY(ENOSYS),
      /* tgkill (abort, raise): only to this process */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_tgkill, 0, 4),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, self, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      DENY(EPERM),
      /* prlimit64: reading limits only (new_limit == NULL) */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prlimit64, 0, 6),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(2)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      DENY(EPERM),
      /* everything else */
      DENY(EPERM),
  };
  struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) die("PR_SET_NO_NEW_PRIVS");
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) die("seccomp");
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: worker ARENA_FILE OUT_FILE CTL_FILE ARENA_BYTES OUT_BYTES\n");
    return 64;
  }
  size_t arena_bytes = strtoull(argv[4], NULL, 10), out_bytes = strtoull(argv[5], NULL, 10);
  map_file(argv[1], ARENA_ADDR, arena_bytes, 0);
  float *out = (float *)map_file(argv[2], OUT_ADDR, out_bytes, 1);
  Ctl *ctl = (Ctl *)map_file(argv[3], CTL_ADDR, CTL_BYTES, 1);
  if (ctl->magic != CTL_MAGIC) {
    fprintf(stderr, "worker: bad control page\n");
    return 70;
  }
  /* no descriptor but stdin/stdout/stderr survives into the kernel's process */
  if (syscall(SYS_close_range, 3u, ~0u, 0u)) die("close_range");
  /* the time-stamp counter faults from here on (rdtsc/rdtscp: SIGSEGV) */
  if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0)) die("PR_SET_TSC");
  install_filter();
  atomic_store(&ctl->ready, 1);
  futex_wake(&ctl->ready);
  uint32_t last = 0;
  for (;;) {
    uint32_t r;
    while ((r = atomic_load_explicit(&ctl->req, memory_order_acquire)) == last) futex_wait(&ctl->req, last, NULL);
    last = r;
    uint32_t cmd = ctl->cmd;
    if (cmd == CMD_RUN) kernel_run((const void *)(uintptr_t)ctl->state, out);
    else if (cmd == CMD_EXIT) _exit(0);
    atomic_store_explicit(&ctl->ack, r, memory_order_release);
    futex_wake(&ctl->ack);
  }
}
