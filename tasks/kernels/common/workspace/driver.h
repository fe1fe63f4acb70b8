/* driver.h — the contract between a kernel task's driver.c and the shared grader of the kernels
 * suite (tasks/kernels/common). A driver describes one kernel: how to parse a workload line, how to
 * draw fresh inputs, the float64 reference, how the output divides for checking, and the cost of
 * one call for the roofline bound. It never times anything and never decides a score.
 *
 * Three processes use a driver:
 *   - the grader (trusted): setup, regen, ref64, segments, describe, cost;
 *   - two workers, one linking the reference kernel and one the candidate: kernel_run only.
 * The state that setup returns and every input must be allocated with bench_alloc(): they live in a
 * shared arena mapped at the same address in the grader (read-write) and in the workers (read-only),
 * so pointers inside the state are valid in all three. Keep nothing else in the state (no RNG state,
 * no outputs, no reference results): whatever is in the arena, the candidate can read.
 *
 * A driver.c defines `const KernelSpec KERNEL = {...};` and `void kernel_run(const void *st, float *out)`,
 * which calls the entry point named by the macro KERNEL_ENTRY (the worker is compiled with
 * -DKERNEL_ENTRY=<entry> for the candidate and -DKERNEL_ENTRY=ref_<entry> for the reference). */
#ifndef OUTLAST_DRIVER_H
#define OUTLAST_DRIVER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- random numbers (splitmix64); the grader seeds them from fresh entropy ---------- */
typedef struct { uint64_t s; } Rng;
static inline uint64_t rng_next(Rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* uniform in [-1, 1) */
static inline float rng_uniform(Rng *r) { return (float)((double)(rng_next(r) >> 40) * (2.0 / 16777216.0) - 1.0); }
/* uniform integer in [lo, hi] */
static inline long rng_range(Rng *r, long lo, long hi) {
  if (hi <= lo) return lo;
  return lo + (long)(rng_next(r) % (uint64_t)(hi - lo + 1));
}
static inline void fill_uniform(float *x, size_t n, float scale, Rng *r) {
  for (size_t i = 0; i < n; i++) x[i] = scale * rng_uniform(r);
}

/* ---------- workload lines: "key=value key=lo:hi ..." ---------- */
static inline int wl_find(const char *line, const char *key, char *val, size_t cap) {
  size_t kl = strlen(key);
  const char *p = line;
  while (*p) {
    while (*p == ' ' || *p == '\t') p++;
    const char *tok = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n') p++;
    if ((size_t)(p - tok) > kl && strncmp(tok, key, kl) == 0 && tok[kl] == '=') {
      size_t n = (size_t)(p - tok) - kl - 1;
      if (n >= cap) n = cap - 1;
      memcpy(val, tok + kl + 1, n);
      val[n] = 0;
      return 1;
    }
    if (*p) p++;
  }
  return 0;
}
static inline long wl_int(const char *line, const char *key, long def) {
  char v[64];
  return wl_find(line, key, v, sizeof v) ? strtol(v, NULL, 10) : def;
}
static inline double wl_num(const char *line, const char *key, double def) {
  char v[64];
  return wl_find(line, key, v, sizeof v) ? strtod(v, NULL) : def;
}
/* "n" or "lo:hi" */
static inline void wl_range(const char *line, const char *key, long def, long *lo, long *hi) {
  char v[64];
  *lo = *hi = def;
  if (!wl_find(line, key, v, sizeof v)) return;
  char *end;
  *lo = strtol(v, &end, 10);
  *hi = (*end == ':') ? strtol(end + 1, NULL, 10) : *lo;
  if (*hi < *lo) *hi = *lo;
}

/* ---------- the shared arena ---------- */
/* 64-byte aligned, zeroed memory in the shared arena (state and inputs). Never freed one by one: the
 * arena is reset between workloads. Exits with a message when the arena is full. */
void *bench_alloc(size_t bytes);

/* ---------- what a driver describes ---------- */
/* A part of the output buffer checked on its own against the float64 reference (e.g. the attention
 * output and the log-sum-exp, which have different scales). */
typedef struct {
  const char *name;   /* e.g. "o", "lse" */
  size_t offset, len; /* in floats, within the output buffer */
  double tol;         /* relative L2 error bound of this part */
} OutputSegment;

#define MAX_SEGMENTS 8

typedef struct {
  const char *name; /* e.g. "extend_attention" (the entry point) */
  double tol;       /* the bound used when `segments` is NULL (one segment: the whole output) */
  /* Parse a workload line and allocate (bench_alloc); shapes may be drawn from rng. Return NULL and
   * fill err on a bad line. */
  void *(*setup)(const char *line, Rng *rng, char *err, size_t errcap);
  /* Fill every input with fresh random values (may redraw index tables); grader only. */
  void (*regen)(void *st, Rng *rng);
  /* Floats in the output buffer. */
  size_t (*out_len)(const void *st);
  /* How the output divides for checking; returns the number of segments (<= max). May be NULL. */
  int (*segments)(const void *st, OutputSegment *seg, int max);
  /* The float64 reference of the current inputs (out_len doubles); grader only. */
  void (*ref64)(const void *st, double *out);
  /* A JSON object describing the drawn shape, e.g. {"batch":2,...}. */
  void (*describe)(const void *st, char *buf, size_t cap);
  /* The least bytes one call must move to/from memory and the FLOPs it must do (an FMA counts as 2),
   * for the roofline bound; see docs/kernels.md for each kernel's formula. */
  void (*cost)(const void *st, double *bytes, double *flops);
} KernelSpec;

extern const KernelSpec KERNEL;

/* Worker side: run the kernel (KERNEL_ENTRY) on the current inputs, writing out_len floats to out. */
void kernel_run(const void *st, float *out);

#endif
