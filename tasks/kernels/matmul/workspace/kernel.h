/* kernel.h — the fixed interface of the matrix-multiply kernel. Do not edit: the grader compiles
 * your kernel.c against its own copy of this header. */
#ifndef SGEMM_KERNEL_H
#define SGEMM_KERNEL_H

typedef struct {
  int M, N, K;
  const float *A; /* [M][K] row-major */
  const float *B; /* [K][N] row-major */
  float *C;       /* [M][N] row-major output: C = A * B (overwrite; C's old contents are garbage) */
} SgemmArgs;

/* Single-precision matrix multiply C = A B. */
void sgemm(const SgemmArgs *args);
#endif
