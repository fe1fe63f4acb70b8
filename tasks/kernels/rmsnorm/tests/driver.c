/* driver.c — benchmark and correctness driver of the RMSNorm kernel (see bench.h).
 * Workload line keys: name, rows, hidden (each n or lo:hi, drawn from the seed), eps (default 1e-6). */
#include "bench.h"
#include "kernel.h"

void ref_rmsnorm(const RmsNormArgs *args);

typedef struct {
  int rows, hidden;
  float eps;
  float *x, *w;
} St;

static void *setup(const char *line, Rng *rng, char *err, size_t cap) {
  long rlo, rhi, hlo, hhi;
  wl_range(line, "rows", 1, &rlo, &rhi);
  wl_range(line, "hidden", 1, &hlo, &hhi);
  St *s = (St *)calloc(1, sizeof(St));
  s->rows = (int)rng_range(rng, rlo, rhi);
  s->hidden = (int)rng_range(rng, hlo, hhi);
  s->eps = (float)wl_num(line, "eps", 1e-6);
  if (s->rows < 1 || s->hidden < 1) {
    snprintf(err, cap, "invalid shape");
    free(s);
    return NULL;
  }
  s->x = (float *)bench_alloc(sizeof(float) * (size_t)s->rows * s->hidden);
  s->w = (float *)bench_alloc(sizeof(float) * (size_t)s->hidden);
  return s;
}

static void regen(void *p, Rng *rng) {
  St *s = (St *)p;
  /* rows of very different magnitudes, so the per-row scale matters */
  for (int r = 0; r < s->rows; r++) fill_uniform(s->x + (size_t)r * s->hidden, (size_t)s->hidden, 0.01f + 4.0f * (1.0f + rng_uniform(rng)), rng);
  for (int c = 0; c < s->hidden; c++) s->w[c] = 1.0f + 0.5f * rng_uniform(rng);
}

static size_t out_len(void *p) {
  St *s = (St *)p;
  return (size_t)s->rows * s->hidden;
}

static void run(void *p, int which, float *out) {
  St *s = (St *)p;
  RmsNormArgs a = {s->rows, s->hidden, s->eps, s->x, s->w, out};
  if (which) rmsnorm(&a);
  else ref_rmsnorm(&a);
}

static void ref64(void *p, double *out) {
  St *s = (St *)p;
  for (int r = 0; r < s->rows; r++) {
    const float *x = s->x + (size_t)r * s->hidden;
    double ss = 0;
    for (int c = 0; c < s->hidden; c++) ss += (double)x[c] * x[c];
    double inv = 1.0 / sqrt(ss / s->hidden + (double)s->eps);
    for (int c = 0; c < s->hidden; c++) out[(size_t)r * s->hidden + c] = x[c] * inv * s->w[c];
  }
}

static void describe(void *p, char *buf, size_t cap) {
  St *s = (St *)p;
  snprintf(buf, cap, "{\"rows\":%d,\"hidden\":%d,\"eps\":%g}", s->rows, s->hidden, s->eps);
}

static void teardown(void *p) {
  St *s = (St *)p;
  free(s->x);
  free(s->w);
  free(s);
}

int main(int argc, char **argv) {
  static const KernelSpec K = {"rmsnorm", 1e-5, setup, regen, out_len, run, ref64, describe, teardown};
  return bench_main(argc, argv, &K);
}
