/* bench.h — the shared timing and correctness harness of the outlast kernels suite.
 *
 * One copy lives in every kernel task (workspace/ for the public evaluation, tests/ for the
 * grader); the canonical copy is tasks/kernels/common/bench.h (tasks/kernels/common/sync.sh copies
 * it). A kernel's driver.c fills in a KernelSpec and calls bench_main().
 *
 * Method, per workload:
 *   1. correctness: fresh random inputs, output poisoned with NaN, one candidate call, compared with
 *      a float64 reference (relative L2 error <= tol, every element finite, and no element off by
 *      more than 10*tol*max|ref|). The driver's own float32 reference copy is checked the same way.
 *   2. warm-up: one more call of each.
 *   3. timing: repeats of (reference, candidate) pairs, the order alternating A B / B A, fresh random
 *      inputs before every pair, both writing into the same output buffer, poisoned before every
 *      call (copied aside after the call, outside the timed region); the candidate's output of
 *      every timed call compared with the reference's output on the same inputs. One sample is a
 *      pair of repeats (A B then B A, so the position effect cancels): (t_ref1 + t_ref2) /
 *      (t_cand1 + t_cand2). The workload's speedup is the median sample, its spread the 25th..75th
 *      percentile of the samples.
 *   score = geometric mean of the workloads' speedups, or 0 when any check failed.
 * The timer (clock_gettime(CLOCK_MONOTONIC)) lives here, outside the kernel under test.
 */
#ifndef OUTLAST_BENCH_H
#define OUTLAST_BENCH_H

#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------- random numbers (splitmix64) ---------- */
typedef struct { uint64_t s; } Rng;
static inline uint64_t rng_next(Rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static inline Rng rng_make(uint64_t seed, uint64_t a, uint64_t b) {
  Rng r = {seed ^ (a * 0xD1B54A32D192ED03ull) ^ (b * 0x8CB92BA72F3D8DD7ull)};
  rng_next(&r);
  return r;
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

/* ---------- allocation ---------- */
static inline void *bench_alloc(size_t bytes) {
  size_t n = (bytes + 63) / 64 * 64;
  if (n == 0) n = 64;
  void *p = aligned_alloc(64, n);
  if (!p) {
    fprintf(stderr, "bench: out of memory (%zu bytes)\n", bytes);
    exit(3);
  }
  memset(p, 0, n);
  return p;
}
static inline void poison(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = NAN;
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

/* ---------- the kernel a driver describes ---------- */
typedef struct {
  const char *name;   /* e.g. "extend_attention" */
  double tol;         /* relative L2 error bound against the float64 reference */
  /* Parse a workload line and allocate; shapes may be drawn from rng. Return NULL (and fill err) on a bad line. */
  void *(*setup)(const char *line, Rng *rng, char *err, size_t errcap);
  /* Fill every input with fresh random values (and may redraw index tables). */
  void (*regen)(void *st, Rng *rng);
  size_t (*out_len)(void *st);
  /* which = 0: the driver's reference copy; 1: the candidate. Writes the output to out. */
  void (*run)(void *st, int which, float *out);
  /* The float64 reference of the current inputs. */
  void (*ref64)(void *st, double *out);
  /* A JSON object describing the drawn shape, e.g. {"batch":2,...}. */
  void (*describe)(void *st, char *buf, size_t cap);
  void (*teardown)(void *st);
} KernelSpec;

/* ---------- helpers ---------- */
static inline double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
/* quantile q in [0,1] of n values (sorted copy, linear interpolation) */
static inline double quantile(const double *v, int n, double q) {
  if (n <= 0) return NAN;
  double *s = (double *)malloc(sizeof(double) * (size_t)n);
  memcpy(s, v, sizeof(double) * (size_t)n);
  qsort(s, (size_t)n, sizeof(double), cmp_double);
  double pos = q * (n - 1);
  int i = (int)pos;
  double f = pos - i;
  double r = (i + 1 < n) ? s[i] * (1 - f) + s[i + 1] * f : s[i];
  free(s);
  return r;
}

typedef struct {
  int ok;
  double rel_err;
  double max_err;
  size_t bad_index; /* first non-finite element, or (size_t)-1 */
  char why[256];
} Check;

/* Compare out with a reference given either as doubles (ref64) or floats (ref32). */
static inline Check check_output(const float *out, const double *ref64, const float *ref32, size_t n, double tol) {
  Check c = {1, 0, 0, (size_t)-1, ""};
  double num = 0, den = 0, maxref = 0, maxerr = 0;
  for (size_t i = 0; i < n; i++) {
    double r = ref64 ? ref64[i] : (double)ref32[i];
    double o = (double)out[i];
    if (!isfinite(o)) {
      if (c.bad_index == (size_t)-1) c.bad_index = i;
      continue;
    }
    double d = o - r;
    num += d * d;
    den += r * r;
    if (fabs(r) > maxref) maxref = fabs(r);
    if (fabs(d) > maxerr) maxerr = fabs(d);
  }
  c.rel_err = den > 0 ? sqrt(num / den) : sqrt(num);
  c.max_err = maxerr;
  if (c.bad_index != (size_t)-1) {
    c.ok = 0;
    snprintf(c.why, sizeof c.why, "output element %zu is not finite (NaN/Inf, or never written)", c.bad_index);
  } else if (!(c.rel_err <= tol)) {
    c.ok = 0;
    snprintf(c.why, sizeof c.why, "relative error %.3g exceeds the bound %.3g", c.rel_err, tol);
  } else if (!(maxerr <= 10 * tol * maxref + 1e-30)) {
    c.ok = 0;
    snprintf(c.why, sizeof c.why, "an element is off by %.3g, above 10*tol*max|ref| = %.3g", maxerr, 10 * tol * maxref);
  }
  return c;
}

static inline void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
    else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
    else fputc(ch, f);
  }
  fputc('"', f);
}
static inline void json_num(FILE *f, double x) {
  if (isfinite(x)) fprintf(f, "%.6g", x);
  else fputs("null", f);
}

#define BENCH_MAX_WORKLOADS 64
#define BENCH_MAX_REPEATS 256

typedef struct {
  char name[64];
  char shape[512];
  int correct;
  char why[300];
  double rel_err, max_err, ref_rel_err;
  int repeats;
  double ref_ms, cand_ms; /* medians */
  double speedup, q25, q75, smin, smax;
} WorkloadResult;

static void usage(const char *prog) {
  fprintf(stderr,
          "usage: %s --workloads FILE [--seed N] [--out FILE] [--json-line] [--budget SEC]\n"
          "          [--min-repeats N] [--max-repeats N] [--nonce STR] [--only NAME]\n",
          prog);
}

/* Entry point of every driver. Exit status: 0 when the run completed (whatever the score), 2 on a usage error. */
static int bench_main(int argc, char **argv, const KernelSpec *K) {
  const char *wl_file = NULL, *out_file = NULL, *nonce = "", *only = NULL;
  uint64_t seed = 1;
  int json_line = 0, min_rep = 6, max_rep = 24;
  double budget = 4.0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
    if (!strcmp(a, "--workloads") && v) wl_file = argv[++i];
    else if (!strcmp(a, "--seed") && v) seed = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(a, "--out") && v) out_file = argv[++i];
    else if (!strcmp(a, "--nonce") && v) nonce = argv[++i];
    else if (!strcmp(a, "--only") && v) only = argv[++i];
    else if (!strcmp(a, "--budget") && v) budget = atof(argv[++i]);
    else if (!strcmp(a, "--min-repeats") && v) min_rep = atoi(argv[++i]);
    else if (!strcmp(a, "--max-repeats") && v) max_rep = atoi(argv[++i]);
    else if (!strcmp(a, "--json-line")) json_line = 1;
    else {
      usage(argv[0]);
      return 2;
    }
  }
  if (!wl_file) {
    usage(argv[0]);
    return 2;
  }
  if (min_rep < 1) min_rep = 1;
  if (max_rep > BENCH_MAX_REPEATS) max_rep = BENCH_MAX_REPEATS;
  if (max_rep < min_rep) max_rep = min_rep;
  FILE *wf = fopen(wl_file, "r");
  if (!wf) {
    fprintf(stderr, "cannot open workloads file %s\n", wl_file);
    return 2;
  }
  static WorkloadResult res[BENCH_MAX_WORKLOADS];
  int nw = 0, all_ok = 1;
  char first_fail[400] = "";
  char line[1024];
  double t_start = now_sec();
  printf("%s: seed %llu, tolerance %.1e (relative L2 vs float64)\n", K->name, (unsigned long long)seed, K->tol);
  printf("%-22s %8s %10s %10s %9s %17s %9s\n", "workload", "correct", "ref ms", "cand ms", "speedup", "spread(p25-p75)", "rel err");
  fflush(stdout);
  while (fgets(line, sizeof line, wf) && nw < BENCH_MAX_WORKLOADS) {
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '#' || *p == '\n' || *p == 0) continue;
    char name[64] = "";
    if (!wl_find(p, "name", name, sizeof name)) snprintf(name, sizeof name, "w%d", nw);
    if (only && strcmp(only, name)) continue;
    int wi = nw++;
    WorkloadResult *R = &res[wi];
    memset(R, 0, sizeof *R);
    snprintf(R->name, sizeof R->name, "%s", name);
    R->speedup = R->q25 = R->q75 = R->smin = R->smax = R->ref_ms = R->cand_ms = NAN;
    Rng srng = rng_make(seed, (uint64_t)wi + 1, 0);
    char err[256] = "";
    void *st = K->setup(p, &srng, err, sizeof err);
    if (!st) {
      fprintf(stderr, "bad workload line %d (%s): %s\n", wi, name, err);
      return 2;
    }
    K->describe(st, R->shape, sizeof R->shape);
    size_t n = K->out_len(st);
    float *o_ref = (float *)bench_alloc(n * sizeof(float));
    float *o_cand = (float *)bench_alloc(n * sizeof(float));
    float *o_run = (float *)bench_alloc(n * sizeof(float));
    double *r64 = (double *)bench_alloc(n * sizeof(double));
    /* 1. correctness against float64, on fresh inputs */
    Rng irng = rng_make(seed, (uint64_t)wi + 1, 1);
    K->regen(st, &irng);
    K->ref64(st, r64);
    poison(o_cand, n);
    K->run(st, 1, o_cand);
    Check c = check_output(o_cand, r64, NULL, n, K->tol);
    R->rel_err = c.rel_err;
    R->max_err = c.max_err;
    poison(o_ref, n);
    K->run(st, 0, o_ref);
    Check cr = check_output(o_ref, r64, NULL, n, K->tol);
    R->ref_rel_err = cr.rel_err;
    if (!cr.ok) {
      fprintf(stderr, "internal error: the driver's reference fails its own check on %s: %s\n", name, cr.why);
      return 4;
    }
    R->correct = c.ok;
    if (!c.ok) snprintf(R->why, sizeof R->why, "%s", c.why);
    /* 2-3. warm-up and interleaved timing, every timed output checked */
    double tr[BENCH_MAX_REPEATS], tc[BENCH_MAX_REPEATS], ratio[BENCH_MAX_REPEATS];
    int reps = 0;
    if (R->correct && all_ok) {
      K->run(st, 0, o_ref);
      K->run(st, 1, o_cand);
      double w0 = now_sec();
      for (int r = 0; r < max_rep; r++) {
        if (r >= min_rep && (r & 1) == 0 && now_sec() - w0 > budget) break; /* stop only after a whole A B + B A pair */
        Rng rr = rng_make(seed, (uint64_t)wi + 1, (uint64_t)r + 2);
        K->regen(st, &rr);
        for (int k = 0; k < 2; k++) {
          int which = (r & 1) ? 1 - k : k; /* A B, then B A */
          /* both kernels write into the same (poisoned) buffer, so neither gains from its placement */
          poison(o_run, n);
          double t0 = now_sec();
          K->run(st, which, o_run);
          double t1 = now_sec();
          memcpy(which ? o_cand : o_ref, o_run, n * sizeof(float));
          if (which) tc[r] = t1 - t0;
          else tr[r] = t1 - t0;
        }
        Check cc = check_output(o_cand, NULL, o_ref, n, K->tol);
        if (!cc.ok) {
          R->correct = 0;
          R->rel_err = cc.rel_err > R->rel_err ? cc.rel_err : R->rel_err;
          snprintf(R->why, sizeof R->why, "timed repeat %d: %s (against the reference's output on the same inputs)", r, cc.why);
          break;
        }
        reps++;
      }
      /* one sample per (A B, B A) pair: the position effect cancels within the pair */
      int np = 0;
      for (int r = 1; r < reps; r += 2) ratio[np++] = (tr[r - 1] + tr[r]) / fmax(tc[r - 1] + tc[r], 1e-9);
      if (np == 0 && reps > 0) ratio[np++] = tr[0] / fmax(tc[0], 1e-9);
      if (R->correct && np > 0) {
        R->repeats = reps;
        R->ref_ms = 1e3 * quantile(tr, reps, 0.5);
        R->cand_ms = 1e3 * quantile(tc, reps, 0.5);
        R->speedup = quantile(ratio, np, 0.5);
        R->q25 = quantile(ratio, np, 0.25);
        R->q75 = quantile(ratio, np, 0.75);
        R->smin = quantile(ratio, np, 0.0);
        R->smax = quantile(ratio, np, 1.0);
      }
    }
    if (!R->correct) {
      if (all_ok) snprintf(first_fail, sizeof first_fail, "workload %s: %s", name, R->why);
      all_ok = 0;
    }
    printf("%-22s %8s %10.3f %10.3f %9.3f %8.3f-%-8.3f %9.2e%s%s\n", name, R->correct ? "yes" : "NO", R->ref_ms, R->cand_ms, R->speedup, R->q25,
           R->q75, R->rel_err, R->correct ? "" : "  ", R->correct ? "" : R->why);
    fflush(stdout);
    free(o_ref);
    free(o_cand);
    free(o_run);
    free(r64);
    K->teardown(st);
  }
  fclose(wf);
  double lg = 0, lg25 = 0, lg75 = 0;
  for (int i = 0; i < nw; i++) {
    if (!res[i].correct || !(res[i].speedup > 0)) continue;
    lg += log(res[i].speedup);
    lg25 += log(res[i].q25);
    lg75 += log(res[i].q75);
  }
  double geo = (nw > 0 && all_ok) ? exp(lg / nw) : 0;
  double lo = (nw > 0 && all_ok) ? exp(lg25 / nw) : 0, hi = (nw > 0 && all_ok) ? exp(lg75 / nw) : 0;
  if (nw == 0) snprintf(first_fail, sizeof first_fail, "no workloads");
  double total = now_sec() - t_start;
  printf("overall: %s, geometric-mean speedup %.3f (spread %.3f-%.3f), %d workloads, %.1fs\n", all_ok && nw ? "correct" : "INCORRECT", geo, lo, hi, nw,
         total);
  if (!(all_ok && nw)) printf("reason: %s\n", first_fail);
  fflush(stdout);
  /* the result JSON: to --out and/or as the last stdout line */
  for (int pass = 0; pass < 2; pass++) {
    FILE *f = NULL;
    if (pass == 0 && out_file) f = fopen(out_file, "w");
    if (pass == 1 && json_line) f = stdout;
    if (!f) {
      if (pass == 0 && out_file) fprintf(stderr, "cannot write %s\n", out_file);
      continue;
    }
    fprintf(f, "{\"kernel\":");
    json_str(f, K->name);
    fprintf(f, ",\"score\":");
    json_num(f, geo);
    fprintf(f, ",\"correct\":%s,\"reason\":", all_ok && nw ? "true" : "false");
    json_str(f, first_fail);
    fprintf(f, ",\"seed\":%llu,\"nonce\":", (unsigned long long)seed);
    json_str(f, nonce);
    fprintf(f, ",\"tolerance\":%g,\"spread\":{\"p25\":", K->tol);
    json_num(f, lo);
    fprintf(f, ",\"p75\":");
    json_num(f, hi);
    fprintf(f, "},\"seconds\":%.2f,\"workloads\":[", total);
    for (int i = 0; i < nw; i++) {
      WorkloadResult *R = &res[i];
      fprintf(f, "%s{\"name\":", i ? "," : "");
      json_str(f, R->name);
      fprintf(f, ",\"shape\":%s,\"correct\":%s,\"reason\":", R->shape, R->correct ? "true" : "false");
      json_str(f, R->why);
      fprintf(f, ",\"rel_err\":");
      json_num(f, R->rel_err);
      fprintf(f, ",\"ref_rel_err\":");
      json_num(f, R->ref_rel_err);
      fprintf(f, ",\"repeats\":%d,\"ref_ms\":", R->repeats);
      json_num(f, R->ref_ms);
      fprintf(f, ",\"cand_ms\":");
      json_num(f, R->cand_ms);
      fprintf(f, ",\"speedup\":");
      json_num(f, R->speedup);
      fprintf(f, ",\"p25\":");
      json_num(f, R->q25);
      fprintf(f, ",\"p75\":");
      json_num(f, R->q75);
      fprintf(f, ",\"min\":");
      json_num(f, R->smin);
      fprintf(f, ",\"max\":");
      json_num(f, R->smax);
      fprintf(f, "}");
    }
    fprintf(f, "]}\n");
    if (f != stdout) fclose(f);
    else fflush(stdout);
  }
  return 0;
}

#endif
