/* ipc.h — what the grader (grader.c) and a worker (worker.c) share: where the three shared mappings
 * sit, the layout of the control page, and the futex handshake. See docs/kernels.md ("The process
 * boundary").
 *
 *   arena    the driver's state and inputs (bench_alloc): read-write in the grader, read-only in the
 *            workers, at ARENA_ADDR in every process so that pointers inside the state are valid
 *            everywhere. It holds nothing the grader keeps secret.
 *   output   one file per worker, at OUT_ADDR in that worker: the kernel writes its output there;
 *            the grader poisons it before each call and reads it after.
 *   control  one page per worker, at CTL_ADDR in that worker: the grader writes a request (command,
 *            state address, sequence number), the worker answers with the sequence number when done.
 *
 * The candidate's code runs in its worker and can read or write everything its worker maps,
 * including its control page: the grader trusts nothing it reads back except as a claim to check
 * (the output is checked, the CPU time the worker used is measured by the grader, outside). */
#ifndef OUTLAST_IPC_H
#define OUTLAST_IPC_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ARENA_ADDR ((void *)0x200000000000ull)
#define OUT_ADDR ((void *)0x300000000000ull)
#define CTL_ADDR ((void *)0x3f0000000000ull)
#define CTL_BYTES 4096
#define CTL_MAGIC 0x6f75746cu /* "outl" */

enum { CMD_NONE = 0, CMD_RUN = 1, CMD_NOOP = 2, CMD_EXIT = 3 };

/* One control page. Fields the grader writes and fields the worker writes sit on separate cache lines. */
typedef struct {
  /* written by the grader */
  uint32_t magic;
  uint32_t cmd;
  uint64_t state; /* address of the driver state (in the arena) for CMD_RUN */
  _Atomic uint32_t req; /* sequence number of the latest request */
  char pad0[64 - 20];
  /* written by the worker */
  _Atomic uint32_t ready; /* 1 once the worker is set up and sandboxed */
  _Atomic uint32_t ack;   /* sequence number of the latest request done */
  char pad1[64 - 8];
} Ctl;

static inline long futex_wait(_Atomic uint32_t *addr, uint32_t expected, const struct timespec *timeout) {
  return syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT, expected, timeout, NULL, 0);
}
static inline long futex_wake(_Atomic uint32_t *addr) { return syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE, 1, NULL, NULL, 0); }

#endif
