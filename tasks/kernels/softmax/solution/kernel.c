/* kernel.c — the oracle for softmax: vectorizable passes (OpenMP simd reductions and a polynomial
 * exp), rows spread over all cores, and long rows split across cores when there are few rows. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <omp.h>

#include "kernel.h"

static inline float fast_exp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  float n = floorf(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693145751953125f - n * 1.42860682030941723e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.0083333333f + r * 0.0013888889f)))));
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

#define LANES 16

/* One read of the row: per-lane running maximum and running sum of exp(x - max) (online softmax). */
static void max_sum(const float *x, long n, float *m_out, float *s_out) {
  float m[LANES], s[LANES];
  for (int l = 0; l < LANES; l++) m[l] = -INFINITY, s[l] = 0.0f;
  long c = 0;
  for (; c + LANES <= n; c += LANES) {
#pragma omp simd
    for (int l = 0; l < LANES; l++) {
      const float v = x[c + l];
      const float mn = v > m[l] ? v : m[l];
      s[l] = s[l] * fast_exp(m[l] - mn) + fast_exp(v - mn);
      m[l] = mn;
    }
  }
  float M = -INFINITY;
  for (int l = 0; l < LANES; l++) M = m[l] > M ? m[l] : M;
  for (; c < n; c++) M = x[c] > M ? x[c] : M;
  float S = 0.0f;
  for (int l = 0; l < LANES; l++) S += m[l] == -INFINITY ? 0.0f : s[l] * fast_exp(m[l] - M);
  for (c = n / LANES * LANES; c < n; c++) S += fast_exp(x[c] - M);
  *m_out = M, *s_out = S;
}

/* Second read: y = exp(x - m) * k. */
static void write_row(const float *x, float *y, long n, float m, float k) {
#pragma omp simd
  for (long c = 0; c < n; c++) y[c] = fast_exp(x[c] - m) * k;
}

void softmax(const SoftmaxArgs *args) {
  const int rows = args->rows;
  const long cols = args->cols;
  const int nthr = omp_get_max_threads();
  if (rows >= 4 * nthr || cols < 65536) {
#pragma omp parallel for schedule(static) if ((long)rows * cols > 32768)
    for (int r = 0; r < rows; r++) {
      const float *x = args->x + (long)r * cols;
      float m, s;
      max_sum(x, cols, &m, &s);
      write_row(x, args->y + (long)r * cols, cols, m, 1.0f / s);
    }
    return;
  }
  /* few long rows: every core takes a slice of each row, then the slices are combined */
  for (int r = 0; r < rows; r++) {
    const float *x = args->x + (long)r * cols;
    float *y = args->y + (long)r * cols;
    float pm[256], ps[256];
    int used = 1;
#pragma omp parallel
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const long lo = cols * t / nt, hi = cols * (t + 1) / nt;
      if (t < 256) max_sum(x + lo, hi - lo, &pm[t], &ps[t]);
#pragma omp single
      used = nt < 256 ? nt : 256;
      /* implicit barrier after single */
      float M = -INFINITY, S = 0.0f;
      for (int i = 0; i < used; i++) M = pm[i] > M ? pm[i] : M;
      for (int i = 0; i < used; i++) S += ps[i] == 0.0f ? 0.0f : ps[i] * fast_exp(pm[i] - M);
      write_row(x + lo, y + lo, hi - lo, M, 1.0f / S);
    }
  }
}
