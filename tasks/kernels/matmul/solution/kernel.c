/* kernel.c — the oracle for sgemm: a cache-blocked GEMM in plain C.
 *  - B is packed, one KC x NC block at a time, into NR-wide column panels (contiguous, zero-padded);
 *  - a 6 x 32 register-blocked micro-kernel (GCC vector extensions: 12 vector accumulators) runs
 *    over each 6-row strip of A and each panel;
 *  - every thread computes its own block of C (rows, or columns for GEMV-like shapes) with its own
 *    packing buffer, so the threads never wait for each other (one OpenMP region per call).
 */
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "kernel.h"

typedef float v16f __attribute__((vector_size(64)));

#define MR 6
#define NR 32
#define KC 256
#define NC 1024

static inline v16f load16(const float *p) {
  v16f v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void store16(float *p, v16f v) { memcpy(p, &v, sizeof v); }

/* C[0..mr)[0..nr) (+)= A[0..mr)[0..kc) * Bp (kc x NR panel). Rows past mr read row 0 and are dropped. */
static void micro(int mr, int nr, int kc, const float *A, long lda, const float *Bp, float *C, long ldc, int accumulate) {
  const float *a[MR];
  for (int r = 0; r < MR; r++) a[r] = A + (r < mr ? r : 0) * lda;
  v16f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
  v16f c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
  for (int k = 0; k < kc; k++) {
    const v16f b0 = load16(Bp + (long)k * NR), b1 = load16(Bp + (long)k * NR + 16);
    float x;
    x = a[0][k], c00 += x * b0, c01 += x * b1;
    x = a[1][k], c10 += x * b0, c11 += x * b1;
    x = a[2][k], c20 += x * b0, c21 += x * b1;
    x = a[3][k], c30 += x * b0, c31 += x * b1;
    x = a[4][k], c40 += x * b0, c41 += x * b1;
    x = a[5][k], c50 += x * b0, c51 += x * b1;
  }
  v16f acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < mr; r++) {
    float *c = C + r * ldc;
    if (nr == NR) {
      if (accumulate) store16(c, load16(c) + acc[r][0]), store16(c + 16, load16(c + 16) + acc[r][1]);
      else store16(c, acc[r][0]), store16(c + 16, acc[r][1]);
    } else {
      float tmp[NR];
      memcpy(tmp, acc[r], sizeof tmp);
      for (int j = 0; j < nr; j++) c[j] = accumulate ? c[j] + tmp[j] : tmp[j];
    }
  }
}

/* C[M][N] = A[M][K] B[K][N] with leading dimensions lda, ldb, ldc, on one thread. */
static void gemm_serial(int M, int N, int K, const float *A, long lda, const float *B, long ldb, float *C, long ldc, float *Bp) {
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = N - jc < NC ? N - jc : NC;
    const int npanels = (nc + NR - 1) / NR;
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = K - pc < KC ? K - pc : KC;
      /* pack B[pc..pc+kc)[jc..jc+nc) into zero-padded panels Bp[p][k][0..NR) */
      for (int p = 0; p < npanels; p++) {
        const int j0 = jc + p * NR, w = N - j0 < NR ? N - j0 : NR;
        float *dst = Bp + (long)p * kc * NR;
        for (int k = 0; k < kc; k++) {
          const float *src = B + (long)(pc + k) * ldb + j0;
          float *d = dst + (long)k * NR;
          int j = 0;
          for (; j < w; j++) d[j] = src[j];
          for (; j < NR; j++) d[j] = 0.0f;
        }
      }
      for (int i = 0; i < M; i += MR) {
        const int mr = M - i < MR ? M - i : MR;
        for (int p = 0; p < npanels; p++) {
          const int j0 = jc + p * NR, nr = N - j0 < NR ? N - j0 : NR;
          micro(mr, nr, kc, A + (long)i * lda + pc, lda, Bp + (long)p * kc * NR, C + (long)i * ldc + j0, ldc, pc > 0);
        }
      }
    }
  }
}

/* Each thread computes its own block of C (a range of rows, or of columns when C has few rows) with
 * its own packing buffer: no barrier until the end, which also keeps the threads independent when
 * the machine is shared. */
void sgemm(const SgemmArgs *args) {
  const int M = args->M, N = args->N, K = args->K;
  const int nthr = omp_get_max_threads();
  const int par = nthr > 1 && (double)M * N * K > 4e6;
#pragma omp parallel if (par)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    float *Bp = aligned_alloc(64, sizeof(float) * KC * NC);
    if (M >= 4 * MR * nt || N < 2 * NR * nt) {
      const int strips = (M + MR - 1) / MR;
      const int s0 = (int)((long)strips * t / nt), s1 = (int)((long)strips * (t + 1) / nt);
      const int m0 = s0 * MR, m1 = s1 * MR < M ? s1 * MR : M;
      if (m1 > m0) gemm_serial(m1 - m0, N, K, args->A + (long)m0 * K, K, args->B, N, args->C + (long)m0 * N, N, Bp);
    } else {
      const int panels = (N + NR - 1) / NR;
      const int p0 = (int)((long)panels * t / nt), p1 = (int)((long)panels * (t + 1) / nt);
      const int n0 = p0 * NR, n1 = p1 * NR < N ? p1 * NR : N;
      if (n1 > n0) gemm_serial(M, n1 - n0, K, args->A, K, args->B + n0, N, args->C + n0, N, Bp);
    }
    free(Bp);
  }
}
