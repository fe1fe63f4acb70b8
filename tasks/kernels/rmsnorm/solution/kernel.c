/* kernel.c — the oracle for RMSNorm: the sum of squares as a vectorized reduction (OpenMP simd),
 * a vectorized output pass, and rows spread over all cores in small dynamic chunks. */
#include <math.h>

#include "kernel.h"

void rmsnorm(const RmsNormArgs *args) {
  const int rows = args->rows;
  const long hidden = args->hidden;
  const float eps = args->eps;
  const float *w = args->weight;
  /* small dynamic chunks (~64 KiB of rows): if a core is taken away mid-call, the other takes over */
  const int chunk = hidden >= 16384 ? 1 : (int)(16384 / hidden);
#pragma omp parallel for schedule(dynamic, chunk) if ((long)rows * hidden > 65536)
  for (int r = 0; r < rows; r++) {
    const float *x = args->x + r * hidden;
    float *y = args->y + r * hidden;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (long c = 0; c < hidden; c++) ss += x[c] * x[c];
    const float inv = 1.0f / sqrtf(ss / (float)hidden + eps);
#pragma omp simd
    for (long c = 0; c < hidden; c++) y[c] = x[c] * inv * w[c];
  }
}
