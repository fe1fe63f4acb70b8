/* driver.c — the softmax kernel for the kernels suite's grader (see tasks/kernels/common/workspace/driver.h).
 * Workload line keys: name, rows, cols (each n or lo:hi, drawn from the seed), scale (input range, default 8). */
#include "driver.h"
#include "kernel.h"

void KERNEL_ENTRY(const SoftmaxArgs *args);

typedef struct {
  int rows, cols;
  float scale;
  float *x;
} St;

static void *setup(const char *line, Rng *rng, char *err, size_t cap) {
  long rlo, rhi, clo, chi;
  wl_range(line, "rows", 1, &rlo, &rhi);
  wl_range(line, "cols", 1, &clo, &chi);
  int rows = (int)rng_range(rng, rlo, rhi), cols = (int)rng_range(rng, clo, chi);
  if (rows < 1 || cols < 1) {
    snprintf(err, cap, "invalid shape");
    return NULL;
  }
  St *s = (St *)bench_alloc(sizeof(St));
  s->rows = rows, s->cols = cols;
  s->scale = (float)wl_num(line, "scale", 8);
  s->x = (float *)bench_alloc(sizeof(float) * (size_t)rows * cols);
  return s;
}

static void regen(void *p, Rng *rng) {
  St *s = (St *)p;
  fill_uniform(s->x, (size_t)s->rows * s->cols, s->scale, rng);
  /* a few large values so that the max subtraction matters */
  for (int r = 0; r < s->rows; r += 7) s->x[(size_t)r * s->cols + (size_t)rng_range(rng, 0, s->cols - 1)] = 60.0f + 20.0f * rng_uniform(rng);
}

static size_t out_len(const void *p) {
  const St *s = (const St *)p;
  return (size_t)s->rows * s->cols;
}

void kernel_run(const void *p, float *out) {
  const St *s = (const St *)p;
  SoftmaxArgs a = {s->rows, s->cols, s->x, out};
  KERNEL_ENTRY(&a);
}

static void ref64(const void *p, double *out) {
  const St *s = (const St *)p;
  for (int r = 0; r < s->rows; r++) {
    const float *x = s->x + (size_t)r * s->cols;
    double *y = out + (size_t)r * s->cols, mx = -INFINITY, sum = 0;
    for (int c = 0; c < s->cols; c++) mx = x[c] > mx ? x[c] : mx;
    for (int c = 0; c < s->cols; c++) sum += (y[c] = exp((double)x[c] - mx));
    for (int c = 0; c < s->cols; c++) y[c] /= sum;
  }
}

static void describe(const void *p, char *buf, size_t cap) {
  const St *s = (const St *)p;
  snprintf(buf, cap, "{\"rows\":%d,\"cols\":%d}", s->rows, s->cols);
}

/* read x once, write y once; per element at least a subtraction, an exponential (counted as one
 * operation), an addition and a multiplication */
static void cost(const void *p, double *bytes, double *flops) {
  const St *s = (const St *)p;
  double n = (double)s->rows * s->cols;
  *bytes = 8 * n;
  *flops = 4 * n;
}

const KernelSpec KERNEL = {"softmax", 1e-5, setup, regen, out_len, NULL, ref64, describe, cost};
