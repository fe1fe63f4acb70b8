/* driver.c — benchmark and correctness driver of the softmax kernel (see bench.h).
 * Workload line keys: name, rows, cols (each n or lo:hi, drawn from the seed), scale (input range, default 8). */
#include "bench.h"
#include "kernel.h"

void ref_softmax(const SoftmaxArgs *args);

typedef struct {
  int rows, cols;
  float scale;
  float *x;
} St;

static void *setup(const char *line, Rng *rng, char *err, size_t cap) {
  long rlo, rhi, clo, chi;
  wl_range(line, "rows", 1, &rlo, &rhi);
  wl_range(line, "cols", 1, &clo, &chi);
  St *s = (St *)calloc(1, sizeof(St));
  s->rows = (int)rng_range(rng, rlo, rhi);
  s->cols = (int)rng_range(rng, clo, chi);
  s->scale = (float)wl_num(line, "scale", 8);
  if (s->rows < 1 || s->cols < 1) {
    snprintf(err, cap, "invalid shape");
    free(s);
    return NULL;
  }
  s->x = (float *)bench_alloc(sizeof(float) * (size_t)s->rows * s->cols);
  return s;
}

static void regen(void *p, Rng *rng) {
  St *s = (St *)p;
  fill_uniform(s->x, (size_t)s->rows * s->cols, s->scale, rng);
  /* a few large values so that the max subtraction matters */
  for (int r = 0; r < s->rows; r += 7) s->x[(size_t)r * s->cols + (size_t)rng_range(rng, 0, s->cols - 1)] = 60.0f + 20.0f * rng_uniform(rng);
}

static size_t out_len(void *p) {
  St *s = (St *)p;
  return (size_t)s->rows * s->cols;
}

static void run(void *p, int which, float *out) {
  St *s = (St *)p;
  SoftmaxArgs a = {s->rows, s->cols, s->x, out};
  if (which) softmax(&a);
  else ref_softmax(&a);
}

static void ref64(void *p, double *out) {
  St *s = (St *)p;
  for (int r = 0; r < s->rows; r++) {
    const float *x = s->x + (size_t)r * s->cols;
    double *y = out + (size_t)r * s->cols, mx = -INFINITY, sum = 0;
    for (int c = 0; c < s->cols; c++) mx = x[c] > mx ? x[c] : mx;
    for (int c = 0; c < s->cols; c++) sum += (y[c] = exp((double)x[c] - mx));
    for (int c = 0; c < s->cols; c++) y[c] /= sum;
  }
}

static void describe(void *p, char *buf, size_t cap) {
  St *s = (St *)p;
  snprintf(buf, cap, "{\"rows\":%d,\"cols\":%d}", s->rows, s->cols);
}

static void teardown(void *p) {
  St *s = (St *)p;
  free(s->x);
  free(s);
}

int main(int argc, char **argv) {
  static const KernelSpec K = {"softmax", 1e-5, setup, regen, out_len, run, ref64, describe, teardown};
  return bench_main(argc, argv, &K);
}
