/* kernel.h — the fixed interface of the softmax kernel. Do not edit: the grader compiles your
 * kernel.c against its own copy of this header. */
#ifndef SOFTMAX_KERNEL_H
#define SOFTMAX_KERNEL_H

typedef struct {
  int rows;       /* number of rows */
  int cols;       /* length of each row */
  const float *x; /* [rows][cols] input */
  float *y;       /* [rows][cols] output: y[r][c] = exp(x[r][c] - max_r) / sum_c' exp(x[r][c'] - max_r) */
} SoftmaxArgs;

/* Row-wise softmax. */
void softmax(const SoftmaxArgs *args);
#endif
