/* workers.c — the grader's side of the process boundary (see workers.h and docs/kernels.md).
 *
 * Files: a private directory (mkdtemp under $TMPDIR, /dev/shm or /tmp) holds the arena, and per
 * worker its output file, its control page and its stderr log. A worker runs either in a nested
 * bubblewrap sandbox (own user, PID, mount, network, IPC namespaces; the worker is PID 1 of its
 * namespace; it sees /usr, its executable, the arena read-only, its output file and its control page,
 * nothing else: no /proc, no /dev, no /tmp) or, when bwrap cannot run here, as a plain child process.
 * Either way the worker itself installs its seccomp filter before the first kernel call.
 *
 * The clock is this process's (CLOCK_MONOTONIC, read around the handshake); the worker's CPU time is
 * read from its CPU-time clock (clock_getcpuclockid) before and after every request, so the grader
 * knows how much CPU the worker used inside each call window and outside all of them. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "workers.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"
#include "measure.h"

static Boundary *g_arena; /* the boundary whose arena bench_alloc allocates from */

#define ARENA_GROW (64ul << 20)

void *bench_alloc(size_t bytes) {
  Boundary *b = g_arena;
  if (!b) {
    fprintf(stderr, "bench_alloc: no arena\n");
    exit(3);
  }
  size_t n = (bytes + 63) / 64 * 64;
  if (n == 0) n = 64;
  if (b->arena_used + n > b->arena_bytes) {
    fprintf(stderr, "bench_alloc: the arena is full (%zu + %zu bytes > %zu; raise ARENA_MB)\n", b->arena_used, n, b->arena_bytes);
    exit(3);
  }
  size_t need = b->arena_used + n;
  if (need > b->arena_file) {
    size_t grow = (need + ARENA_GROW - 1) / ARENA_GROW * ARENA_GROW;
    if (grow > b->arena_bytes) grow = b->arena_bytes;
    if (ftruncate(b->arena_fd, (off_t)grow)) {
      fprintf(stderr, "bench_alloc: cannot grow the arena to %zu bytes: %s\n", grow, strerror(errno));
      exit(3);
    }
    b->arena_file = grow;
  }
  void *p = (char *)ARENA_ADDR + b->arena_used;
  b->arena_used = need;
  return p; /* zero: fresh file pages, or pages freed by arena_reset */
}

static const char *tmp_base(void) {
  const char *t = getenv("TMPDIR");
  struct stat st;
  if (t && *t && stat(t, &st) == 0 && S_ISDIR(st.st_mode) && access(t, W_OK) == 0) return t;
  if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0) return "/dev/shm";
  return "/tmp";
}

int boundary_open(Boundary *b, SandboxMode mode, size_t arena_bytes, size_t out_bytes, char *err, size_t cap) {
  memset(b, 0, sizeof *b);
  b->mode = mode;
  b->arena_bytes = arena_bytes;
  b->out_bytes = out_bytes;
  /* one OpenMP place per CPU this process may run on: "{0},{1},..." */
  cpu_set_t cs;
  size_t at = 0;
  if (sched_getaffinity(0, sizeof cs, &cs) == 0)
    for (int c = 0; c < CPU_SETSIZE && at + 16 < sizeof b->places; c++)
      if (CPU_ISSET(c, &cs)) at += (size_t)snprintf(b->places + at, sizeof b->places - at, "%s{%d}", at ? "," : "", c);
  if (!at) snprintf(b->places, sizeof b->places, "threads");
  snprintf(b->dir, sizeof b->dir, "%s/outlast-grader-XXXXXX", tmp_base());
  if (!mkdtemp(b->dir)) {
    snprintf(err, cap, "cannot create a private directory: %s", strerror(errno));
    return -1;
  }
  snprintf(b->arena_path, sizeof b->arena_path, "%s/arena", b->dir);
  b->arena_fd = open(b->arena_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (b->arena_fd < 0) {
    snprintf(err, cap, "cannot create the arena: %s", strerror(errno));
    return -1;
  }
  void *p = mmap(ARENA_ADDR, arena_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, b->arena_fd, 0);
  if (p != ARENA_ADDR) {
    snprintf(err, cap, "cannot map the arena (%zu bytes): %s", arena_bytes, strerror(errno));
    return -1;
  }
  g_arena = b;
  return 0;
}

void arena_reset(Boundary *b) {
  if (b->arena_file) fallocate(b->arena_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)b->arena_file);
  b->arena_used = 0;
}

void arena_warm(const Boundary *b) {
  const volatile unsigned char *p = (const volatile unsigned char *)ARENA_ADDR;
  unsigned char x = 0;
  for (size_t i = 0; i < b->arena_used; i += 64) x ^= p[i];
  (void)x;
}

void boundary_close(Boundary *b) {
  char p[400];
  const char *names[] = {"arena", "out-reference", "out-candidate", "ctl-reference", "ctl-candidate", "log-reference", "log-candidate"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", b->dir, names[i]);
    unlink(p);
  }
  rmdir(b->dir);
}

double worker_cpu(const Worker *w) {
  struct timespec ts;
  if (clock_gettime(w->clock, &ts)) return NAN;
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The first line of a worker's stderr log (what it or bwrap said before dying), cleaned up. */
static void log_head(const Worker *w, char *buf, size_t cap) {
  buf[0] = 0;
  int fd = open(w->log_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  if (n <= 0) {
    buf[0] = 0;
    return;
  }
  buf[n] = 0;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '\n') {
      buf[i] = 0;
      break;
    } else if ((unsigned char)buf[i] < 0x20) buf[i] = ' ';
}

static void describe_status(int st, int via_bwrap, char *buf, size_t cap) {
  if (WIFSIGNALED(st)) snprintf(buf, cap, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
  else if (WIFEXITED(st) && via_bwrap && WEXITSTATUS(st) > 128)
    snprintf(buf, cap, "killed by signal %d (%s)", WEXITSTATUS(st) - 128, strsignal(WEXITSTATUS(st) - 128));
  else if (WIFEXITED(st)) snprintf(buf, cap, "exited with status %d", WEXITSTATUS(st));
  else snprintf(buf, cap, "stopped");
}

/* Non-blocking: has the worker's process tree ended? Fills w->why. */
static int check_dead(Worker *w) {
  if (w->dead) return 1;
  int st;
  struct rusage ru;
  pid_t r = wait4(w->child, &st, WNOHANG, &ru);
  if (r != w->child) return 0;
  w->dead = 1;
  w->rusage_total = (double)ru.ru_utime.tv_sec + 1e-6 * ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec + 1e-6 * ru.ru_stime.tv_usec;
  char how[120], said[200];
  describe_status(st, w->bwrap, how, sizeof how);
  log_head(w, said, sizeof said);
  snprintf(w->why, sizeof w->why, "the %s's process %s%s%s", w->role, how, said[0] ? ": " : "", said);
  return 1;
}

static int make_file(const char *path, size_t size) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (size && ftruncate(fd, (off_t)size)) {
    close(fd);
    return -1;
  }
  return fd;
}

/* bwrap arguments for the host's /usr and its merged-/usr links (or directories). */
static int system_args(const char **a, int n, char links[][256]) {
  static const char *entries[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
  a[n++] = "--ro-bind", a[n++] = "/usr", a[n++] = "/usr";
  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
    struct stat st;
    if (lstat(entries[i], &st)) continue;
    if (S_ISLNK(st.st_mode)) {
      ssize_t k = readlink(entries[i], links[i], 255);
      if (k <= 0) continue;
      links[i][k] = 0;
      a[n++] = "--symlink", a[n++] = links[i], a[n++] = entries[i];
    } else if (S_ISDIR(st.st_mode)) {
      a[n++] = "--ro-bind", a[n++] = entries[i], a[n++] = entries[i];
    }
  }
  return n;
}

/* Fork the worker (directly, or inside bwrap). Returns 0 once it is ready, -1 otherwise (w->why). */
static int spawn(Boundary *b, Worker *w, const char *exe, SandboxMode mode) {
  char out_path[300], ctl_path[300], abytes[32], obytes[32], threads[16];
  snprintf(out_path, sizeof out_path, "%s/out-%s", b->dir, w->role);
  snprintf(ctl_path, sizeof ctl_path, "%s/ctl-%s", b->dir, w->role);
  snprintf(abytes, sizeof abytes, "%zu", b->arena_bytes);
  snprintf(obytes, sizeof obytes, "%zu", b->out_bytes);
  snprintf(threads, sizeof threads, "%d", w->threads);
  char env_threads[40];
  snprintf(env_threads, sizeof env_threads, "OMP_NUM_THREADS=%d", w->threads);
  /* OpenMP: idle threads sleep (a spinning thread would use CPU outside the calls), and each thread
   * stays on its own CPU (woken threads are otherwise often placed beside the thread that woke them
   * and share a core for the whole call). The places are listed explicitly: libgomp cannot work
   * them out without /sys, which no sandbox here has. */
  char env_places[sizeof b->places + 16];
  snprintf(env_places, sizeof env_places, "OMP_PLACES=%s", b->places);
  char *envp[] = {"PATH=/usr/bin:/bin", env_threads, "OMP_WAIT_POLICY=passive", "OMP_DYNAMIC=false", "OMP_PROC_BIND=spread", env_places, NULL};
  const char *a[96];
  char links[6][256];
  int n = 0, info[2] = {-1, -1};
  if (mode == SANDBOX_BWRAP) {
    if (pipe2(info, O_CLOEXEC)) {
      snprintf(w->why, sizeof w->why, "pipe: %s", strerror(errno));
      return -1;
    }
    a[n++] = "bwrap";
    a[n++] = "--unshare-all", a[n++] = "--die-with-parent", a[n++] = "--as-pid-1", a[n++] = "--new-session";
    a[n++] = "--cap-drop", a[n++] = "ALL", a[n++] = "--clearenv";
    a[n++] = "--setenv", a[n++] = "OMP_NUM_THREADS", a[n++] = threads;
    a[n++] = "--setenv", a[n++] = "OMP_WAIT_POLICY", a[n++] = "passive";
    a[n++] = "--setenv", a[n++] = "OMP_DYNAMIC", a[n++] = "false";
    a[n++] = "--setenv", a[n++] = "OMP_PROC_BIND", a[n++] = "spread";
    a[n++] = "--setenv", a[n++] = "OMP_PLACES", a[n++] = b->places;
    n = system_args(a, n, links);
    a[n++] = "--ro-bind", a[n++] = exe, a[n++] = "/worker";
    a[n++] = "--ro-bind", a[n++] = b->arena_path, a[n++] = "/arena";
    a[n++] = "--bind", a[n++] = out_path, a[n++] = "/output";
    a[n++] = "--bind", a[n++] = ctl_path, a[n++] = "/control";
    a[n++] = "--info-fd", a[n++] = "3";
    a[n++] = "--", a[n++] = "/worker", a[n++] = "/arena", a[n++] = "/output", a[n++] = "/control";
  } else {
    a[n++] = exe, a[n++] = b->arena_path, a[n++] = out_path, a[n++] = ctl_path;
  }
  a[n++] = abytes, a[n++] = obytes, a[n] = NULL;

  int logfd = open(w->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (logfd < 0) {
    snprintf(w->why, sizeof w->why, "cannot create %s: %s", w->log_path, strerror(errno));
    return -1;
  }
  atomic_store(&w->ctl->ready, 0);
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(w->why, sizeof w->why, "fork: %s", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setsid();
    /* the workers go first when memory runs out: a kernel that eats the sandbox's memory is killed
     * itself (and scores 0), it cannot get the grader killed (which would read as a broken grader) */
    int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (adj >= 0) {
      if (write(adj, "1000", 4) != 4) { /* best effort: without /proc the kernel's own choice stands */ }
      close(adj);
    }
    int devnull = open("/dev/null", O_RDWR);
    if (devnull < 0) _exit(71);
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(logfd, 2);
    if (info[1] >= 0) dup2(info[1], 3);
    syscall(SYS_close_range, mode == SANDBOX_BWRAP ? 4u : 3u, ~0u, 0u);
    if (mode == SANDBOX_BWRAP) execvpe("bwrap", (char *const *)a, envp);
    else execve(exe, (char *const *)a, envp);
    fprintf(stderr, "cannot run %s: %s\n", mode == SANDBOX_BWRAP ? "bwrap" : exe, strerror(errno));
    _exit(72);
  }
  close(logfd);
  w->child = pid;
  w->worker = pid;
  w->dead = 0;
  w->bwrap = mode == SANDBOX_BWRAP;
  if (mode == SANDBOX_BWRAP) {
    /* bwrap reports the sandboxed process's PID (as this process sees it) on the info fd, then
     * closes it: read to the end (closing early would kill bwrap with SIGPIPE) */
    close(info[1]);
    char buf[1024] = "";
    size_t got = 0;
    int found = 0;
    double t0 = now_sec();
    while (now_sec() - t0 < 20) {
      struct pollfd pf = {info[0], POLLIN, 0};
      if (poll(&pf, 1, 200) <= 0) continue;
      char tmp[256];
      ssize_t k = read(info[0], tmp, sizeof tmp);
      if (k <= 0) break;
      size_t take = (size_t)k < sizeof buf - 1 - got ? (size_t)k : sizeof buf - 1 - got;
      memcpy(buf + got, tmp, take);
      got += take;
      buf[got] = 0;
    }
    char *q = strstr(buf, "\"child-pid\"");
    if (q && strchr(q, ':')) {
      w->worker = (pid_t)atol(strchr(q, ':') + 1);
      found = w->worker > 0;
    }
    close(info[0]);
    if (!found) {
      int st;
      waitpid(pid, &st, 0);
      w->dead = 1;
      char said[200];
      log_head(w, said, sizeof said);
      snprintf(w->why, sizeof w->why, "bwrap could not start the %s's sandbox: %s", w->role, said[0] ? said : "no reason given");
      return -1;
    }
  }
  if (clock_getcpuclockid(w->worker, &w->clock)) {
    snprintf(w->why, sizeof w->why, "cannot read the %s's CPU clock", w->role);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    w->dead = 1;
    return -1;
  }
  double t0 = now_sec();
  while (atomic_load(&w->ctl->ready) != 1) {
    struct timespec to = {0, 50 * 1000 * 1000};
    futex_wait(&w->ctl->ready, 0, &to);
    if (atomic_load(&w->ctl->ready) == 1) break;
    if (check_dead(w)) return -1;
    if (now_sec() - t0 > 30) {
      snprintf(w->why, sizeof w->why, "the %s's process did not get ready within 30 s", w->role);
      kill(pid, SIGKILL);
      return -1;
    }
  }
  w->cpu_start = w->cpu_last = worker_cpu(w);
  return 0;
}

int worker_start(Boundary *b, Worker *w, const char *role, const char *exe, int threads) {
  memset(w, 0, sizeof *w);
  w->role = role;
  w->threads = threads;
  w->out_fd = -1;
  char path[300];
  snprintf(w->log_path, sizeof w->log_path, "%s/log-%s", b->dir, role);
  snprintf(path, sizeof path, "%s/out-%s", b->dir, role);
  w->out_fd = make_file(path, 0);
  snprintf(path, sizeof path, "%s/ctl-%s", b->dir, role);
  int ctl_fd = make_file(path, CTL_BYTES);
  if (w->out_fd < 0 || ctl_fd < 0) {
    snprintf(w->why, sizeof w->why, "cannot create the %s's files: %s", role, strerror(errno));
    return -1;
  }
  w->out = (float *)mmap(NULL, b->out_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, w->out_fd, 0);
  w->ctl = (Ctl *)mmap(NULL, CTL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, ctl_fd, 0);
  close(ctl_fd);
  if (w->out == MAP_FAILED || w->ctl == MAP_FAILED) {
    snprintf(w->why, sizeof w->why, "cannot map the %s's files: %s", role, strerror(errno));
    return -1;
  }
  w->ctl->magic = CTL_MAGIC;
  if (b->mode != SANDBOX_NONE) {
    if (spawn(b, w, exe, SANDBOX_BWRAP) == 0) {
      b->mode = SANDBOX_BWRAP;
      return 0;
    }
    if (b->mode == SANDBOX_BWRAP) return -1;
    /* AUTO: bwrap cannot run here (e.g. no user namespaces for this uid); fall back, and say so */
    snprintf(b->note, sizeof b->note, "nested bwrap unavailable (%s); workers run as plain processes with their seccomp filter", w->why);
    b->mode = SANDBOX_NONE;
  }
  return spawn(b, w, exe, SANDBOX_NONE);
}

int worker_size_output(Boundary *b, Worker *w, size_t bytes) {
  size_t want = (bytes + 4095) / 4096 * 4096;
  if (want > b->out_bytes) {
    snprintf(w->why, sizeof w->why, "the output (%zu bytes) is larger than the output mapping (%zu bytes; raise OUT_MB)", bytes, b->out_bytes);
    return -1;
  }
  if (want != w->out_size) {
    if (ftruncate(w->out_fd, (off_t)want)) {
      snprintf(w->why, sizeof w->why, "cannot size the %s's output file: %s", w->role, strerror(errno));
      return -1;
    }
    w->out_size = want;
  }
  return 0;
}

int worker_call(Worker *w, int cmd, const void *st, double timeout_sec, double *seconds) {
  if (w->dead) return -1;
  double c0 = worker_cpu(w);
  if (w->running) w->cpu_out += c0 - w->cpu_last;
  w->ctl->cmd = (uint32_t)cmd;
  w->ctl->state = (uint64_t)(uintptr_t)st;
  uint32_t seq = ++w->seq;
  double t0 = now_sec();
  atomic_store_explicit(&w->ctl->req, seq, memory_order_release);
  futex_wake(&w->ctl->req);
  for (;;) {
    uint32_t a = atomic_load_explicit(&w->ctl->ack, memory_order_acquire);
    if (a == seq) break;
    struct timespec to = {0, 100 * 1000 * 1000};
    futex_wait(&w->ctl->ack, a, &to);
    if (atomic_load_explicit(&w->ctl->ack, memory_order_acquire) == seq) break;
    if (now_sec() - t0 > timeout_sec) {
      snprintf(w->why, sizeof w->why, "the %s did not return within %.0f s", w->role, timeout_sec);
      return -1;
    }
    if (check_dead(w)) {
      /* gone (bwrap exits right after its child): w->why says how */
      return -1;
    }
  }
  double t1 = now_sec();
  double c1 = worker_cpu(w);
  *seconds = t1 - t0;
  if (isnan(c1)) {
    w->dead = 1;
    snprintf(w->why, sizeof w->why, "the %s's process is gone", w->role);
    return -1;
  }
  if (cmd == CMD_RUN) {
    w->cpu_in += c1 - c0;
    w->calls++;
    w->running = 1;
  }
  w->last_cpu = c1 - c0;
  w->cpu_last = c1;
  return 0;
}

void worker_stop(Worker *w) {
  if (!w->child) return;
  if (!w->dead) {
    w->ctl->cmd = CMD_EXIT;
    atomic_store_explicit(&w->ctl->req, ++w->seq, memory_order_release);
    futex_wake(&w->ctl->req);
    for (int i = 0; i < 100; i++) {
      int st;
      struct rusage ru;
      if (wait4(w->child, &st, WNOHANG, &ru) == w->child) {
        w->rusage_total = (double)ru.ru_utime.tv_sec + 1e-6 * ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec + 1e-6 * ru.ru_stime.tv_usec;
        w->dead = 1;
        break;
      }
      usleep(20000);
    }
    if (!w->dead) {
      kill(w->worker, SIGKILL);
      kill(w->child, SIGKILL);
      struct rusage ru;
      wait4(w->child, NULL, 0, &ru);
      w->rusage_total = (double)ru.ru_utime.tv_sec + 1e-6 * ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec + 1e-6 * ru.ru_stime.tv_usec;
      w->dead = 1;
    }
  }
  w->child = 0;
}
