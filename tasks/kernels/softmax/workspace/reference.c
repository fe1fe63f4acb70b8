/* kernel.c — row-wise softmax, the reference implementation (the starting point; make it faster).
 * Numerically stable three-pass form: row maximum, exponentials and their sum, normalization.
 * Single-threaded, plain C. */
#include <math.h>

#include "kernel.h"

void softmax(const SoftmaxArgs *args) {
  const int cols = args->cols;
  for (int r = 0; r < args->rows; r++) {
    const float *x = args->x + (long)r * cols;
    float *y = args->y + (long)r * cols;
    float mx = -INFINITY;
    for (int c = 0; c < cols; c++)
      if (x[c] > mx) mx = x[c];
    float sum = 0.0f;
    for (int c = 0; c < cols; c++) {
      y[c] = expf(x[c] - mx);
      sum += y[c];
    }
    const float inv = 1.0f / sum;
    for (int c = 0; c < cols; c++) y[c] *= inv;
  }
}
