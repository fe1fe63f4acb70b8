/* driver.c — the RMSNorm kernel for the kernels suite's grader (see tasks/kernels/common/workspace/driver.h).
 * Workload line keys: name, rows, hidden (each n or lo:hi, drawn from the seed), eps (default 1e-6). */
#include "driver.h"
#include "kernel.h"

void KERNEL_ENTRY(const RmsNormArgs *args);

typedef struct {
  int rows, hidden;
  float eps;
  float *x, *w;
} St;

static void *setup(const char *line, Rng *rng, char *err, size_t cap) {
  long rlo, rhi, hlo, hhi;
  wl_range(line, "rows", 1, &rlo, &rhi);
  wl_range(line, "hidden", 1, &hlo, &hhi);
  int rows = (int)rng_range(rng, rlo, rhi), hidden = (int)rng_range(rng, hlo, hhi);
  if (rows < 1 || hidden < 1) {
    snprintf(err, cap, "invalid shape");
    return NULL;
  }
  St *s = (St *)bench_alloc(sizeof(St));
  s->rows = rows, s->hidden = hidden;
  s->eps = (float)wl_num(line, "eps", 1e-6);
  s->x = (float *)bench_alloc(sizeof(float) * (size_t)rows * hidden);
  s->w = (float *)bench_alloc(sizeof(float) * (size_t)hidden);
  return s;
}

static void regen(void *p, Rng *rng) {
  St *s = (St *)p;
  /* rows of very different magnitudes, so the per-row scale matters */
  for (int r = 0; r < s->rows; r++) fill_uniform(s->x + (size_t)r * s->hidden, (size_t)s->hidden, 0.01f + 4.0f * (1.0f + rng_uniform(rng)), rng);
  for (int c = 0; c < s->hidden; c++) s->w[c] = 1.0f + 0.5f * rng_uniform(rng);
}

static size_t out_len(const void *p) {
  const St *s = (const St *)p;
  return (size_t)s->rows * s->hidden;
}

void kernel_run(const void *p, float *out) {
  const St *s = (const St *)p;
  RmsNormArgs a = {s->rows, s->hidden, s->eps, s->x, s->w, out};
  KERNEL_ENTRY(&a);
}

static void ref64(const void *p, double *out) {
  const St *s = (const St *)p;
  for (int r = 0; r < s->rows; r++) {
    const float *x = s->x + (size_t)r * s->hidden;
    double ss = 0;
    for (int c = 0; c < s->hidden; c++) ss += (double)x[c] * x[c];
    double inv = 1.0 / sqrt(ss / s->hidden + (double)s->eps);
    for (int c = 0; c < s->hidden; c++) out[(size_t)r * s->hidden + c] = x[c] * inv * s->w[c];
  }
}

static void describe(const void *p, char *buf, size_t cap) {
  const St *s = (const St *)p;
  snprintf(buf, cap, "{\"rows\":%d,\"hidden\":%d,\"eps\":%g}", s->rows, s->hidden, s->eps);
}

/* read x and the weights once, write y once; per element a multiply-add (sum of squares) and two
 * multiplications (by the row's scale and the weight) */
static void cost(const void *p, double *bytes, double *flops) {
  const St *s = (const St *)p;
  double n = (double)s->rows * s->hidden;
  *bytes = 8 * n + 4.0 * s->hidden;
  *flops = 4 * n;
}

const KernelSpec KERNEL = {"rmsnorm", 1e-5, setup, regen, out_len, NULL, ref64, describe, cost};
