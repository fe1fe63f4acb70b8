/* workers.h — the grader's side of the process boundary: the shared arena, starting a worker in
 * its own sandbox (nested bwrap, or plain fork/exec when bwrap cannot run), calling it through its
 * control page, and accounting for the CPU time it uses inside and outside its calls. */
#ifndef OUTLAST_WORKERS_H
#define OUTLAST_WORKERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ipc.h"

typedef enum { SANDBOX_AUTO, SANDBOX_BWRAP, SANDBOX_NONE } SandboxMode;

typedef struct {
  SandboxMode mode;     /* what the workers run in (AUTO until the first worker decided it) */
  char note[300];       /* why the workers run without bwrap, when they do */
  char dir[256];        /* private directory of the shared files */
  char arena_path[300];
  int arena_fd;
  size_t arena_bytes;   /* size of the arena mapping */
  size_t arena_used;    /* bump pointer */
  size_t arena_file;    /* current size of the arena file */
  size_t out_bytes;     /* size of each output mapping */
  char places[1024];    /* the workers' OMP_PLACES: one place per CPU the grader may use */
} Boundary;

typedef struct {
  const char *role; /* "reference" or "candidate" */
  pid_t child;      /* our child: bwrap, or the worker itself */
  pid_t worker;     /* the worker process, as this process sees it */
  clockid_t clock;  /* the worker's CPU-time clock */
  Ctl *ctl;         /* the grader's mapping of the worker's control page */
  float *out;       /* the grader's mapping of the worker's output file */
  int out_fd;
  size_t out_size;  /* current size of the output file */
  char log_path[300];
  uint32_t seq;
  int threads;      /* threads the worker may use (OMP_NUM_THREADS) */
  int running;      /* set after its first CMD_RUN */
  double cpu_start; /* CPU seconds when it was ready */
  double cpu_last;  /* CPU seconds at the end of the last request */
  double cpu_in;    /* CPU seconds inside the windows of its CMD_RUN calls */
  double cpu_out;   /* CPU seconds outside them, since its first CMD_RUN */
  double last_cpu;  /* CPU seconds inside the last request's window */
  long calls;       /* CMD_RUN calls */
  double rusage_total; /* CPU seconds of its whole process tree, from wait4 (after stop) */
  int bwrap;        /* runs inside bwrap */
  int dead;
  char why[400];
} Worker;

/* Create the private directory and the arena (mapped at ARENA_ADDR). Returns 0, or -1 with err. */
int boundary_open(Boundary *b, SandboxMode mode, size_t arena_bytes, size_t out_bytes, char *err, size_t cap);
/* Forget every allocation (a new workload); frees the arena file's pages. */
void arena_reset(Boundary *b);
/* Read every cache line of the arena in use, so that each kernel's call starts from the same cache
 * state whatever the previous call (the other kernel's) left behind, e.g. inputs flushed from the
 * caches at the end of a call to slow the kernel that runs next. */
void arena_warm(const Boundary *b);
void boundary_close(Boundary *b);

/* Start a worker running `exe` with `threads` OpenMP threads; waits until it is ready. 0 or -1 (w->why). */
int worker_start(Boundary *b, Worker *w, const char *role, const char *exe, int threads);
/* Make the worker's output file hold at least `bytes`. 0 or -1 (w->why). */
int worker_size_output(Boundary *b, Worker *w, size_t bytes);
/* One request (CMD_RUN with state `st`, or CMD_NOOP), timed by this process's clock around the
 * handshake: *seconds = time from the request to the answer. 0, or -1 when the worker died, hung or
 * broke a rule (w->why). */
int worker_call(Worker *w, int cmd, const void *st, double timeout_sec, double *seconds);
/* Ask the worker to exit, reap it (w->rusage_total), remove nothing. */
void worker_stop(Worker *w);
/* CPU seconds the worker has used so far (NaN when it is gone). */
double worker_cpu(const Worker *w);

#endif
