/* kernel.h — the fixed interface of the RMSNorm kernel. Do not edit: the grader compiles your
 * kernel.c against its own copy of this header. */
#ifndef RMSNORM_KERNEL_H
#define RMSNORM_KERNEL_H

typedef struct {
  int rows;            /* number of rows (tokens) */
  int hidden;          /* length of each row */
  float eps;           /* added to the mean square */
  const float *x;      /* [rows][hidden] input */
  const float *weight; /* [hidden] per-channel gain */
  float *y;            /* [rows][hidden] output: y[r][c] = x[r][c] / sqrt(mean_c'(x[r][c']^2) + eps) * weight[c] */
} RmsNormArgs;

/* Root-mean-square layer normalization, row by row. */
void rmsnorm(const RmsNormArgs *args);
#endif
