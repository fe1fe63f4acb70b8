/* driver.c — benchmark and correctness driver of the sgemm kernel (see bench.h).
 * Workload line keys: name, m, n, k (each n or lo:hi, drawn from the seed). */
#include "bench.h"
#include "kernel.h"

void ref_sgemm(const SgemmArgs *args);

typedef struct {
  int M, N, K;
  float *A, *B;
} St;

static void *setup(const char *line, Rng *rng, char *err, size_t cap) {
  long lo, hi;
  St *s = (St *)calloc(1, sizeof(St));
  wl_range(line, "m", 1, &lo, &hi);
  s->M = (int)rng_range(rng, lo, hi);
  wl_range(line, "n", 1, &lo, &hi);
  s->N = (int)rng_range(rng, lo, hi);
  wl_range(line, "k", 1, &lo, &hi);
  s->K = (int)rng_range(rng, lo, hi);
  if (s->M < 1 || s->N < 1 || s->K < 1) {
    snprintf(err, cap, "invalid shape");
    free(s);
    return NULL;
  }
  s->A = (float *)bench_alloc(sizeof(float) * (size_t)s->M * s->K);
  s->B = (float *)bench_alloc(sizeof(float) * (size_t)s->K * s->N);
  return s;
}

static void regen(void *p, Rng *rng) {
  St *s = (St *)p;
  fill_uniform(s->A, (size_t)s->M * s->K, 1.0f, rng);
  fill_uniform(s->B, (size_t)s->K * s->N, 1.0f, rng);
}

static size_t out_len(void *p) {
  St *s = (St *)p;
  return (size_t)s->M * s->N;
}

static void run(void *p, int which, float *out) {
  St *s = (St *)p;
  SgemmArgs a = {s->M, s->N, s->K, s->A, s->B, out};
  if (which) sgemm(&a);
  else ref_sgemm(&a);
}

static void ref64(void *p, double *out) {
  St *s = (St *)p;
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

static void describe(void *p, char *buf, size_t cap) {
  St *s = (St *)p;
  snprintf(buf, cap, "{\"m\":%d,\"n\":%d,\"k\":%d}", s->M, s->N, s->K);
}

static void teardown(void *p) {
  St *s = (St *)p;
  free(s->A);
  free(s->B);
  free(s);
}

int main(int argc, char **argv) {
  static const KernelSpec K = {"sgemm", 1e-4, setup, regen, out_len, run, ref64, describe, teardown};
  return bench_main(argc, argv, &K);
}
