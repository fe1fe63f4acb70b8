/* kernel.c — single-precision matrix multiply, the reference implementation (the starting point;
 * make it faster). The straightforward i-k-j loop order: the inner loop runs along rows of B and C
 * (contiguous, so the compiler vectorizes it). Single-threaded, no blocking. */
#include "kernel.h"

void sgemm(const SgemmArgs *args) {
  const int M = args->M, N = args->N, K = args->K;
  for (int i = 0; i < M; i++) {
    float *c = args->C + (long)i * N;
    for (int j = 0; j < N; j++) c[j] = 0.0f;
    for (int k = 0; k < K; k++) {
      const float a = args->A[(long)i * K + k];
      const float *b = args->B + (long)k * N;
      for (int j = 0; j < N; j++) c[j] += a * b[j];
    }
  }
}
