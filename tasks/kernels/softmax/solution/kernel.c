/* kernel.c — the oracle for softmax: vectorized passes (GCC vector extensions, OpenMP simd reductions,
 * a polynomial exp), rows spread over all cores; long rows are read twice instead of three times
 * (an online running max and sum, then the output). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernel.h"

static inline float fast_exp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
  float r = x - n * 0.693145751953125f - n * 1.42860682030941723e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.0083333333f + r * 0.0013888889f)))));
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/* GCC vector extensions: 16 floats at a time, whatever the target's vector width. */
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

static inline v16f vmax(v16f a, v16f b) {
  v16i gt = a > b; /* all ones where a > b */
  return (v16f)((gt & (v16i)a) | (~gt & (v16i)b));
}

static inline v16f vexp(v16f x) {
  const v16f zero = {0};
  const v16f lo = zero - 87.0f, hi = zero + 88.0f;
  x = vmax(x, lo);
  x = -vmax(-x, -hi);
  v16f t = x * 1.44269504088896341f;
  v16f n = (t + 12582912.0f) - 12582912.0f; /* round to nearest */
  v16f r = x - n * 0.693145751953125f - n * 1.42860682030941723e-06f;
  v16f p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.0083333333f + r * 0.0013888889f)))));
  v16i bits = (__builtin_convertvector(n, v16i) + 127) << 23;
  return p * (v16f)bits;
}

/* One read of the row: per-lane running maximum and running sum of exp(x - max) (online softmax). */
static void max_sum(const float *x, long n, float *m_out, float *s_out) {
  v16f m = {0}, s = {0};
  m = m - INFINITY;
  long c = 0;
  for (; c + 16 <= n; c += 16) {
    v16f v;
    memcpy(&v, x + c, sizeof v);
    v16f mn = vmax(v, m);
    s = s * vexp(m - mn) + vexp(v - mn);
    m = mn;
  }
  float M = -INFINITY;
  for (int l = 0; l < 16; l++) M = m[l] > M ? m[l] : M;
  for (long k = c; k < n; k++) M = x[k] > M ? x[k] : M;
  float S = 0.0f;
  for (int l = 0; l < 16; l++) S += m[l] == -INFINITY ? 0.0f : s[l] * fast_exp(m[l] - M);
  for (long k = c; k < n; k++) S += fast_exp(x[k] - M);
  *m_out = M, *s_out = S;
}

/* Short rows: three vectorized passes over a row that sits in L1. */
static void short_row(const float *x, float *y, long n) {
  float m = -INFINITY, s = 0.0f;
#pragma omp simd reduction(max : m)
  for (long c = 0; c < n; c++) m = x[c] > m ? x[c] : m;
#pragma omp simd reduction(+ : s)
  for (long c = 0; c < n; c++) {
    y[c] = fast_exp(x[c] - m);
    s += y[c];
  }
  const float k = 1.0f / s;
#pragma omp simd
  for (long c = 0; c < n; c++) y[c] *= k;
}

/* Second read: y = exp(x - m) * k. */
static void write_row(const float *x, float *y, long n, float m, float k) {
#pragma omp simd
  for (long c = 0; c < n; c++) y[c] = fast_exp(x[c] - m) * k;
}

void softmax(const SoftmaxArgs *args) {
  const int rows = args->rows;
  const long cols = args->cols;
  /* small dynamic chunks (~64 KiB of rows): if a core is taken away mid-call, the other takes over */
  const int chunk = cols >= 16384 ? 1 : (int)(16384 / cols);
#pragma omp parallel for schedule(dynamic, chunk) if ((long)rows * cols > 65536)
  for (int r = 0; r < rows; r++) {
    const float *x = args->x + (long)r * cols;
    if (cols < 512) {
      short_row(x, args->y + (long)r * cols, cols);
      continue;
    }
    float m, s;
    max_sum(x, cols, &m, &s);
    write_row(x, args->y + (long)r * cols, cols, m, 1.0f / s);
  }
}
