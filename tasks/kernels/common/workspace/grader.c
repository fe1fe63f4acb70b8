/* grader.c — the trusted grader of the kernels suite (see docs/kernels.md). It owns the inputs, the
 * float64 reference, the checks, the poisoning and the clock; the two kernels run in worker
 * processes (worker.c) it starts in their own sandboxes (workers.c).
 *
 * usage: grader --workloads FILE --worker-ref EXE --worker-cand EXE [--seed N] [--nonce S]
 *               [--out FILE] [--json-line] [--only NAME] [--budget SEC] [--min-repeats N]
 *               [--max-repeats N] [--threads N] [--ref-threads N] [--sandbox auto|bwrap|none]
 *               [--arena-mb N] [--out-mb N] [--call-timeout SEC] [--cpu-slack-ms MS]
 *               [--cpu-slack-per-call-ms MS]
 *
 * --seed picks the workloads' SHAPES (so a grade's shapes can be reproduced); the input VALUES come
 * from fresh entropy (getrandom) that no process but this one ever holds.
 *
 * Method, per workload:
 *   1. correctness: fresh inputs, both outputs poisoned (all bits set: NaN), one reference call (a
 *      sanity check of the driver) and one candidate call, each compared with the float64 reference
 *      segment by segment (relative L2 error <= tol, every element finite, no element off by more
 *      than 10*tol*max|ref|);
 *   2. warm-up: fresh inputs, one call of each, the candidate checked against the reference;
 *   3. timing: repeats of (reference, candidate) pairs, the order alternating A B / B A, fresh inputs
 *      before every pair (so after every candidate call), outputs poisoned before every call, each
 *      call timed by this process around the handshake, less the handshake's own cost (the median of
 *      no-op round trips measured before any kernel ran); every timed candidate output compared with
 *      the reference's output on the same inputs. A sample is a pair of repeats (A B then B A):
 *      (t_ref1 + t_ref2) / (t_cand1 + t_cand2). Speedup = median sample; spread = its p25..p75.
 *   Throughout, the candidate's CPU time is read from its CPU clock before and after every call: the
 *   CPU it uses outside its call windows must stay within a small slack (no computing between calls,
 *   no reading inputs before the clock starts, no "done" before the work is), and inside a window it
 *   may not use more than its allowed threads.
 *   score = geometric mean of the workloads' speedups, or 0 when any check failed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "driver.h"
#include "measure.h"
#include "workers.h"

#define MAX_WORKLOADS 64
#define MAX_REPEATS 256
#define NOOP_CALLS 64

typedef struct {
  char name[64];
  char shape[2048];
  int correct;
  char why[512];
  double rel_err, ref_rel_err;
  int repeats;
  double ref_ms, cand_ms, speedup, q25, q75, smin, smax;
  double bytes, flops;
  double cand_cpu_out_ms, cand_cpu_in_ms;
  double seconds, ref64_ms; /* wall time of the whole workload, and of its float64 reference */
} WorkloadResult;

typedef struct {
  const char *workloads, *worker_ref, *worker_cand, *nonce, *out_file, *only;
  uint64_t seed;
  int have_seed, json_line, min_rep, max_rep, threads, ref_threads;
  double budget, call_timeout, slack_ms, slack_per_call_ms;
  size_t arena_mb, out_mb;
  SandboxMode sandbox;
} Options;

static void usage(void) {
  fprintf(stderr, "usage: grader --workloads FILE --worker-ref EXE --worker-cand EXE [options] (see grader.c)\n");
  exit(2);
}

static Options parse(int argc, char **argv) {
  Options o = {0};
  o.nonce = "";
  o.min_rep = 6, o.max_rep = 24, o.budget = 3, o.call_timeout = 120, o.slack_ms = 5, o.slack_per_call_ms = 0.05;
  o.arena_mb = 1024, o.out_mb = 256, o.sandbox = SANDBOX_AUTO;
  o.threads = o.ref_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(flag) (strcmp(a, flag) == 0 && v && (i++, 1))
    if (OPT("--workloads")) o.workloads = v;
    else if (OPT("--worker-ref")) o.worker_ref = v;
    else if (OPT("--worker-cand")) o.worker_cand = v;
    else if (OPT("--seed")) o.seed = strtoull(v, NULL, 10), o.have_seed = 1;
    else if (OPT("--nonce")) o.nonce = v;
    else if (OPT("--out")) o.out_file = v;
    else if (OPT("--only")) o.only = v;
    else if (OPT("--budget")) o.budget = atof(v);
    else if (OPT("--min-repeats")) o.min_rep = atoi(v);
    else if (OPT("--max-repeats")) o.max_rep = atoi(v);
    else if (OPT("--threads")) o.threads = atoi(v);
    else if (OPT("--ref-threads")) o.ref_threads = atoi(v);
    else if (OPT("--arena-mb")) o.arena_mb = strtoull(v, NULL, 10);
    else if (OPT("--out-mb")) o.out_mb = strtoull(v, NULL, 10);
    else if (OPT("--call-timeout")) o.call_timeout = atof(v);
    else if (OPT("--cpu-slack-ms")) o.slack_ms = atof(v);
    else if (OPT("--cpu-slack-per-call-ms")) o.slack_per_call_ms = atof(v);
    else if (OPT("--sandbox")) {
      if (!strcmp(v, "auto")) o.sandbox = SANDBOX_AUTO;
      else if (!strcmp(v, "bwrap")) o.sandbox = SANDBOX_BWRAP;
      else if (!strcmp(v, "none")) o.sandbox = SANDBOX_NONE;
      else usage();
    } else if (strcmp(a, "--json-line") == 0) o.json_line = 1;
    else usage();
#undef OPT
  }
  if (!o.workloads || !o.worker_ref || !o.worker_cand) usage();
  if (o.min_rep < 2) o.min_rep = 2;
  if (o.max_rep > MAX_REPEATS) o.max_rep = MAX_REPEATS;
  if (o.max_rep < o.min_rep) o.max_rep = o.min_rep;
  if (o.threads < 1) o.threads = 1;
  if (o.ref_threads < 1) o.ref_threads = 1;
  return o;
}

static uint64_t entropy64(void) {
  uint64_t x;
  if (getrandom(&x, sizeof x, 0) != sizeof x) {
    fprintf(stderr, "grader: getrandom failed: %s\n", strerror(errno));
    exit(4);
  }
  return x;
}

static Rng rng_make(uint64_t seed, uint64_t a, uint64_t b) {
  Rng r = {seed ^ (a * 0xD1B54A32D192ED03ull) ^ (b * 0x8CB92BA72F3D8DD7ull)};
  rng_next(&r);
  return r;
}

/* state shared by the workload loop */
static Options O;
static Worker REF, CAND;
static double HANDSHAKE; /* seconds subtracted from every timed call */
static char FAIL[700];   /* first failure */

/* One call of one worker on `st`, its output poisoned first; *t = the call's time less the handshake.
 * Returns 0, or -1 with the reason in why (a dead, hung or rule-breaking worker). */
static Boundary *BOUNDARY;

static int run_one(Worker *w, const void *st, size_t n, double *t, char *why, size_t cap) {
  memset(w->out, 0xff, n * sizeof(float)); /* every bit set: NaN */
  arena_warm(BOUNDARY);                    /* the same cache state for every call */
  double secs;
  if (worker_call(w, CMD_RUN, st, O.call_timeout, &secs)) {
    snprintf(why, cap, "%s", w->why);
    return -1;
  }
  if (t) *t = fmax(secs - HANDSHAKE, 1e-7);
  /* inside its window: no more CPU than its threads can use */
  double allowed_in = secs * w->threads * 1.10 + 0.002;
  if (w->last_cpu > allowed_in) {
    snprintf(why, cap, "the %s's process used %.1f ms of CPU in a call of %.1f ms: more than its %d allowed thread%s", w->role, 1e3 * w->last_cpu, 1e3 * secs,
             w->threads, w->threads == 1 ? "" : "s");
    return -1;
  }
  /* outside its windows: only the handshake's crumbs */
  double allowed_out = 1e-3 * (O.slack_ms + O.slack_per_call_ms * (double)w->calls);
  if (w->cpu_out > allowed_out) {
    snprintf(why, cap,
             "the %s's process used %.1f ms of CPU outside its calls (allowed %.1f ms over %ld calls): a kernel may compute only while it is called", w->role,
             1e3 * w->cpu_out, 1e3 * allowed_out, w->calls);
    return -1;
  }
  return 0;
}

static int segments_of(const void *st, size_t n, OutputSegment *seg) {
  int k = KERNEL.segments ? KERNEL.segments(st, seg, MAX_SEGMENTS) : 0;
  if (k <= 0) {
    seg[0] = (OutputSegment){"out", 0, n, KERNEL.tol};
    k = 1;
  }
  return k;
}

/* Grade one workload line into R. Returns 0, or 4 on an internal error (the driver or the reference is broken). */
static int grade_workload(Boundary *b, const char *line, int wi, Rng *inputs, WorkloadResult *R, int timing) {
  const double t_start = now_sec();
  arena_reset(b);
  Rng shape = rng_make(O.seed, (uint64_t)wi + 1, 0);
  char err[256] = "";
  void *st = KERNEL.setup(line, &shape, err, sizeof err);
  if (!st) {
    fprintf(stderr, "grader: bad workload line %d (%s): %s\n", wi, R->name, err);
    exit(2);
  }
  KERNEL.describe(st, R->shape, sizeof R->shape);
  if (KERNEL.cost) KERNEL.cost(st, &R->bytes, &R->flops);
  size_t n = KERNEL.out_len(st);
  OutputSegment seg[MAX_SEGMENTS];
  int nseg = segments_of(st, n, seg);
  if (worker_size_output(b, &REF, n * sizeof(float)) || worker_size_output(b, &CAND, n * sizeof(float))) {
    fprintf(stderr, "grader: %s\n", REF.why[0] ? REF.why : CAND.why);
    return 4;
  }
  double *r64 = (double *)malloc(sizeof(double) * (n ? n : 1));
  char why[512] = "";
  /* 1. correctness against float64 */
  KERNEL.regen(st, inputs);
  double t64 = now_sec();
  KERNEL.ref64(st, r64);
  R->ref64_ms = 1e3 * (now_sec() - t64);
  if (run_one(&REF, st, n, NULL, why, sizeof why)) {
    fprintf(stderr, "grader: internal error: the reference failed on %s: %s\n", R->name, why);
    free(r64);
    return 4;
  }
  Check cr = check_output(REF.out, r64, NULL, n, seg, nseg);
  R->ref_rel_err = cr.rel_err;
  if (!cr.ok) {
    fprintf(stderr, "grader: internal error: the reference fails its own check on %s: %s\n", R->name, cr.why);
    free(r64);
    return 4;
  }
  R->correct = 1;
  if (run_one(&CAND, st, n, NULL, why, sizeof why)) R->correct = 0;
  else {
    Check c = check_output(CAND.out, r64, NULL, n, seg, nseg);
    R->rel_err = c.rel_err;
    if (!c.ok) R->correct = 0, snprintf(why, sizeof why, "%s", c.why);
  }
  free(r64);
  double cand_out0 = CAND.cpu_out, cand_in0 = CAND.cpu_in;
  /* 2. warm-up, 3. interleaved timing */
  double tr[MAX_REPEATS], tc[MAX_REPEATS], ratio[MAX_REPEATS];
  int reps = 0;
  if (R->correct && timing) {
    KERNEL.regen(st, inputs);
    if (run_one(&REF, st, n, NULL, why, sizeof why)) {
      fprintf(stderr, "grader: internal error: the reference failed on %s: %s\n", R->name, why);
      return 4;
    }
    if (run_one(&CAND, st, n, NULL, why, sizeof why)) R->correct = 0;
    else {
      Check c = check_output(CAND.out, NULL, REF.out, n, seg, nseg);
      if (!c.ok) R->correct = 0, snprintf(why, sizeof why, "warm-up call: %s (against the reference's output on the same inputs)", c.why);
    }
    double w0 = now_sec();
    for (int r = 0; R->correct && r < O.max_rep; r++) {
      if (r >= O.min_rep && (r & 1) == 0 && now_sec() - w0 > O.budget) break; /* only after a whole A B + B A pair */
      KERNEL.regen(st, inputs);
      for (int k = 0; k < 2 && R->correct; k++) {
        int cand = (r & 1) ? 1 - k : k; /* A B, then B A */
        Worker *w = cand ? &CAND : &REF;
        if (run_one(w, st, n, cand ? &tc[r] : &tr[r], why, sizeof why)) {
          if (!cand) {
            fprintf(stderr, "grader: internal error: the reference failed on %s: %s\n", R->name, why);
            return 4;
          }
          R->correct = 0;
        }
      }
      if (!R->correct) break;
      Check c = check_output(CAND.out, NULL, REF.out, n, seg, nseg);
      if (!c.ok) {
        R->correct = 0;
        if (c.rel_err > R->rel_err) R->rel_err = c.rel_err;
        snprintf(why, sizeof why, "timed repeat %d: %s (against the reference's output on the same inputs)", r, c.why);
        break;
      }
      reps++;
    }
    int np = 0;
    for (int r = 1; r < reps; r += 2) ratio[np++] = (tr[r - 1] + tr[r]) / (tc[r - 1] + tc[r]);
    if (R->correct && np > 0) {
      R->repeats = reps;
      R->ref_ms = 1e3 * quantile(tr, reps, 0.5);
      R->cand_ms = 1e3 * quantile(tc, reps, 0.5);
      R->speedup = quantile(ratio, np, 0.5);
      R->q25 = quantile(ratio, np, 0.25);
      R->q75 = quantile(ratio, np, 0.75);
      R->smin = quantile(ratio, np, 0.0);
      R->smax = quantile(ratio, np, 1.0);
    } else if (R->correct) {
      R->correct = 0;
      snprintf(why, sizeof why, "no complete A B / B A pair was timed");
    }
  }
  R->cand_cpu_out_ms = 1e3 * (CAND.cpu_out - cand_out0);
  R->cand_cpu_in_ms = 1e3 * (CAND.cpu_in - cand_in0);
  if (!R->correct) snprintf(R->why, sizeof R->why, "%s", why);
  R->seconds = now_sec() - t_start;
  return 0;
}

static void write_json(FILE *f, const WorkloadResult *res, int nw, double geo, double lo, double hi, int ok, double total, const Boundary *b,
                       const double *hs, int nhs) {
  fprintf(f, "{\"kernel\":");
  json_str(f, KERNEL.name);
  fprintf(f, ",\"score\":");
  json_num(f, geo);
  fprintf(f, ",\"correct\":%s,\"reason\":", ok ? "true" : "false");
  json_str(f, FAIL);
  fprintf(f, ",\"seed\":%llu,\"nonce\":", (unsigned long long)O.seed);
  json_str(f, O.nonce);
  fprintf(f, ",\"tolerance\":%g,\"spread\":{\"p25\":", KERNEL.tol);
  json_num(f, lo);
  fprintf(f, ",\"p75\":");
  json_num(f, hi);
  fprintf(f, "},\"seconds\":%.2f,\"repeats\":{\"min\":%d,\"max\":%d},\"budget_sec\":", total, O.min_rep, O.max_rep);
  json_num(f, O.budget);
  fprintf(f, ",\"handshake_us\":{\"median\":");
  json_num(f, 1e6 * quantile(hs, nhs, 0.5));
  fprintf(f, ",\"p90\":");
  json_num(f, 1e6 * quantile(hs, nhs, 0.9));
  fprintf(f, ",\"calls\":%d},\"boundary\":{\"workers\":\"%s\",\"note\":", nhs, b->mode == SANDBOX_BWRAP ? "bwrap" : "seccomp");
  json_str(f, b->note);
  fprintf(f, ",\"inputs\":\"getrandom\",\"wait_policy\":\"passive\",\"proc_bind\":\"spread\",\"places\":\"%s\",\"threads\":{\"candidate\":%d,\"reference\":%d}}", b->places, O.threads, O.ref_threads);
  fprintf(f, ",\"cpu_ms\":{");
  const Worker *ws[2] = {&CAND, &REF};
  for (int i = 0; i < 2; i++) {
    const Worker *w = ws[i];
    fprintf(f, "%s\"%s\":{\"startup\":", i ? "," : "", w->role);
    json_num(f, 1e3 * w->cpu_start);
    fprintf(f, ",\"in_calls\":");
    json_num(f, 1e3 * w->cpu_in);
    fprintf(f, ",\"outside_calls\":");
    json_num(f, 1e3 * w->cpu_out);
    fprintf(f, ",\"allowed_outside\":");
    json_num(f, O.slack_ms + O.slack_per_call_ms * (double)w->calls);
    fprintf(f, ",\"process_tree\":");
    json_num(f, 1e3 * w->rusage_total);
    fprintf(f, ",\"calls\":%ld}", w->calls);
  }
  fprintf(f, "},\"workloads\":[");
  for (int i = 0; i < nw; i++) {
    const WorkloadResult *R = &res[i];
    fprintf(f, "%s{\"name\":", i ? "," : "");
    json_str(f, R->name);
    fprintf(f, ",\"shape\":%s,\"correct\":%s,\"reason\":", R->shape[0] ? R->shape : "{}", R->correct ? "true" : "false");
    json_str(f, R->why);
    const double nums[] = {R->rel_err, R->ref_rel_err};
    const char *keys[] = {"rel_err", "ref_rel_err"};
    for (int k = 0; k < 2; k++) {
      fprintf(f, ",\"%s\":", keys[k]);
      json_num(f, nums[k]);
    }
    fprintf(f, ",\"repeats\":%d", R->repeats);
    const double t[] = {R->ref_ms, R->cand_ms, R->speedup, R->q25, R->q75, R->smin, R->smax, R->bytes, R->flops, R->cand_cpu_in_ms, R->cand_cpu_out_ms, R->seconds, R->ref64_ms};
    const char *tk[] = {"ref_ms", "cand_ms", "speedup", "p25", "p75", "min", "max", "bytes", "flops", "cand_cpu_in_ms", "cand_cpu_out_ms", "seconds", "ref64_ms"};
    for (int k = 0; k < 13; k++) {
      fprintf(f, ",\"%s\":", tk[k]);
      json_num(f, t[k]);
    }
    fprintf(f, "}");
  }
  fprintf(f, "]}\n");
}

int main(int argc, char **argv) {
  O = parse(argc, argv);
  if (!O.have_seed) O.seed = entropy64() >> 16;
  /* the input values: fresh entropy, held by this process only */
  Rng inputs = {entropy64()};
  rng_next(&inputs);
  double t_start = now_sec();
  FILE *wf = fopen(O.workloads, "r");
  if (!wf) {
    fprintf(stderr, "grader: cannot open %s\n", O.workloads);
    return 2;
  }
  Boundary b;
  char err[300];
  if (boundary_open(&b, O.sandbox, O.arena_mb << 20, O.out_mb << 20, err, sizeof err)) {
    fprintf(stderr, "grader: %s\n", err);
    return 4;
  }
  BOUNDARY = &b;
  /* the reference's worker first: it decides, before any candidate code exists in a process, what the workers run in */
  if (worker_start(&b, &REF, "reference", O.worker_ref, O.ref_threads)) {
    fprintf(stderr, "grader: cannot start the reference's worker: %s\n", REF.why);
    boundary_close(&b);
    return 4;
  }
  int cand_started = worker_start(&b, &CAND, "candidate", O.worker_cand, O.threads) == 0;
  /* the handshake's own cost, before any kernel ran: no-op round trips, alternating */
  double hs[2 * NOOP_CALLS];
  int nhs = 0;
  for (int i = 0; cand_started && i < NOOP_CALLS; i++) {
    double s;
    if (worker_call(&REF, CMD_NOOP, NULL, 10, &s) == 0) hs[nhs++] = s;
    if (worker_call(&CAND, CMD_NOOP, NULL, 10, &s) == 0) hs[nhs++] = s;
  }
  HANDSHAKE = nhs ? quantile(hs, nhs, 0.5) : 0;
  printf("workers: %s%s%s; handshake %.1f us (median of %d no-op calls, subtracted from every call); threads: candidate %d, reference %d\n",
         b.mode == SANDBOX_BWRAP ? "bwrap" : "seccomp only", b.note[0] ? " — " : "", b.note, 1e6 * HANDSHAKE, nhs, O.threads, O.ref_threads);
  printf("%-22s %8s %10s %10s %9s %17s %9s\n", "workload", "correct", "ref ms", "cand ms", "speedup", "spread(p25-p75)", "rel err");
  fflush(stdout);

  static WorkloadResult res[MAX_WORKLOADS];
  int nw = 0, all_ok = 1, rc = 0;
  if (!cand_started) {
    snprintf(FAIL, sizeof FAIL, "the candidate's worker did not start: %s", CAND.why);
    all_ok = 0;
  }
  char line[4096];
  while (all_ok >= 0 && cand_started && fgets(line, sizeof line, wf) && nw < MAX_WORKLOADS) {
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '#' || *p == '\n' || *p == 0) continue;
    char name[64] = "";
    if (!wl_find(p, "name", name, sizeof name)) snprintf(name, sizeof name, "w%d", nw);
    int wi = nw;
    if (O.only && strcmp(O.only, name)) {
      nw++;
      continue;
    }
    WorkloadResult *R = &res[nw++];
    memset(R, 0, sizeof *R);
    snprintf(R->name, sizeof R->name, "%s", name);
    R->speedup = R->q25 = R->q75 = R->smin = R->smax = R->ref_ms = R->cand_ms = R->rel_err = NAN;
    if ((rc = grade_workload(&b, p, wi, &inputs, R, all_ok)) != 0) break;
    if (!R->correct) {
      if (all_ok) snprintf(FAIL, sizeof FAIL, "workload %s: %s", name, R->why);
      all_ok = 0;
    }
    printf("%-22s %8s %10.3f %10.3f %9.3f %8.3f-%-8.3f %9.2e%s%s\n", name, R->correct ? "yes" : "NO", R->ref_ms, R->cand_ms, R->speedup, R->q25, R->q75,
           R->rel_err, R->correct ? "" : "  ", R->correct ? "" : R->why);
    fflush(stdout);
    if (CAND.dead) break;
  }
  fclose(wf);
  /* --only: keep just the named workload in the result */
  int kept = 0;
  for (int i = 0; i < nw; i++)
    if (res[i].name[0]) res[kept++] = res[i];
  nw = kept;
  double cand_clock = worker_cpu(&CAND);
  worker_stop(&CAND);
  worker_stop(&REF);
  boundary_close(&b);
  if (rc) return rc;
  /* the whole process tree of the candidate (bwrap included) against what its worker's clock showed */
  if (all_ok && isfinite(cand_clock) && CAND.rusage_total > cand_clock + 0.25 + 0.05 * cand_clock) {
    snprintf(FAIL, sizeof FAIL, "the candidate's process tree used %.0f ms of CPU, more than its worker's own %.0f ms: it ran work in another process",
             1e3 * CAND.rusage_total, 1e3 * cand_clock);
    all_ok = 0;
  }
  if (nw == 0 && all_ok) {
    snprintf(FAIL, sizeof FAIL, "no workloads");
    all_ok = 0;
  }
  double lg = 0, lg25 = 0, lg75 = 0;
  for (int i = 0; i < nw; i++) {
    if (!res[i].correct || !(res[i].speedup > 0)) continue;
    lg += log(res[i].speedup), lg25 += log(res[i].q25), lg75 += log(res[i].q75);
  }
  double geo = all_ok ? exp(lg / nw) : 0, lo = all_ok ? exp(lg25 / nw) : 0, hi = all_ok ? exp(lg75 / nw) : 0;
  double total = now_sec() - t_start;
  printf("overall: %s, geometric-mean speedup %.3f (spread %.3f-%.3f), %d workloads, %.1fs\n", all_ok ? "correct" : "INCORRECT", geo, lo, hi, nw, total);
  if (!all_ok) printf("reason: %s\n", FAIL);
  fflush(stdout);
  if (O.out_file) {
    FILE *f = fopen(O.out_file, "w");
    if (!f) {
      fprintf(stderr, "grader: cannot write %s\n", O.out_file);
      return 4;
    }
    write_json(f, res, nw, geo, lo, hi, all_ok, total, &b, hs, nhs);
    fclose(f);
  }
  if (O.json_line) write_json(stdout, res, nw, geo, lo, hi, all_ok, total, &b, hs, nhs);
  return 0;
}
