/* driver.c — the sgemm kernel for the kernels suite's grader (see tasks/kernels/common/workspace/driver.h).
 * Workload line keys: name, m, n, k (each n or lo:hi, drawn from the seed). */
#include "driver.h"
#include "kernel.h"

void KERNEL_ENTRY(const SgemmArgs *args);

typedef struct {
  int M, N, K;
  float *A, *B;
} St;

static void *setup(const char *line, Rng *rng, char *err, size_t cap) {
  long lo, hi;
  int d[3];
  const char *keys[3] = {"m", "n", "k"};
  for (int i = 0; i < 3; i++) {
    wl_range(line, keys[i], 1, &lo, &hi);
    d[i] = (int)rng_range(rng, lo, hi);
  }
  if (d[0] < 1 || d[1] < 1 || d[2] < 1) {
    snprintf(err, cap, "invalid shape");
    return NULL;
  }
  St *s = (St *)bench_alloc(sizeof(St));
  s->M = d[0], s->N = d[1], s->K = d[2];
  s->A = (float *)bench_alloc(sizeof(float) * (size_t)s->M * s->K);
  s->B = (float *)bench_alloc(sizeof(float) * (size_t)s->K * s->N);
  return s;
}

static void regen(void *p, Rng *rng) {
  St *s = (St *)p;
  fill_uniform(s->A, (size_t)s->M * s->K, 1.0f, rng);
  fill_uniform(s->B, (size_t)s->K * s->N, 1.0f, rng);
}

static size_t out_len(const void *p) {
  const St *s = (const St *)p;
  return (size_t)s->M * s->N;
}

void kernel_run(const void *p, float *out) {
  const St *s = (const St *)p;
  SgemmArgs a = {s->M, s->N, s->K, s->A, s->B, out};
  KERNEL_ENTRY(&a);
}

static void ref64(const void *p, double *out) {
  const St *s = (const St *)p;
  const int M = s->M, N = s->N, K = s->K;
  for (size_t i = 0; i < (size_t)M * N; i++) out[i] = 0;
  for (int i = 0; i < M; i++)
    for (int k = 0; k < K; k++) {
      const double a = s->A[(size_t)i * K + k];
      const float *b = s->B + (size_t)k * N;
      double *c = out + (size_t)i * N;
      for (int j = 0; j < N; j++) c[j] += a * (double)b[j];
    }
}

static void describe(const void *p, char *buf, size_t cap) {
  const St *s = (const St *)p;
  snprintf(buf, cap, "{\"m\":%d,\"n\":%d,\"k\":%d}", s->M, s->N, s->K);
}

/* A and B read once, C written once; M*N*K multiply-adds */
static void cost(const void *p, double *bytes, double *flops) {
  const St *s = (const St *)p;
  *bytes = 4.0 * ((double)s->M * s->K + (double)s->K * s->N + (double)s->M * s->N);
  *flops = 2.0 * s->M * s->N * s->K;
}

const KernelSpec KERNEL = {"sgemm", 1e-4, setup, regen, out_len, NULL, ref64, describe, cost};
