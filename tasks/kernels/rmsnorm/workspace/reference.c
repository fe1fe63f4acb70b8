/* kernel.c — RMSNorm, the reference implementation (the starting point; make it faster).
 * Two passes per row: the mean of squares, then the scaled output. Single-threaded, plain C. */
#include <math.h>

#include "kernel.h"

void rmsnorm(const RmsNormArgs *args) {
  const int hidden = args->hidden;
  for (int r = 0; r < args->rows; r++) {
    const float *x = args->x + (long)r * hidden;
    float *y = args->y + (long)r * hidden;
    float ss = 0.0f;
    for (int c = 0; c < hidden; c++) ss += x[c] * x[c];
    const float inv = 1.0f / sqrtf(ss / (float)hidden + args->eps);
    for (int c = 0; c < hidden; c++) y[c] = x[c] * inv * args->weight[c];
  }
}
