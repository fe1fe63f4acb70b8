/* kernel.c — extend attention, the reference implementation (the starting point; make it faster).
 *
 * A direct port of the blocked structure of SGLang's Triton extend-attention kernel: for each
 * sequence, each query head and each block of BLOCK_M query rows, stream the keys in blocks of
 * BLOCK_N with an online softmax (running max m, running sum l, accumulator acc): first the paged
 * prefix (gathered through kv_indices), then the extend tokens with the causal mask.
 * Single-threaded, plain C. */
#include <math.h>
#include <stdlib.h>

#include "kernel.h"

#define BLOCK_M 16
#define BLOCK_N 64

/* Fold one block of scores s[i][j] (i < nm, j < nn; -INFINITY = masked) and the value rows v[j]
 * into the running softmax state of the query block. */
static void online_softmax_update(int nm, int nn, int Dv, float s[BLOCK_M][BLOCK_N], const float *const *v, float *m, float *l, float *acc) {
  for (int i = 0; i < nm; i++) {
    float m_new = m[i];
    for (int j = 0; j < nn; j++)
      if (s[i][j] > m_new) m_new = s[i][j];
    if (m_new == -INFINITY) continue; /* every key of this block is masked for this row */
    float alpha = expf(m[i] - m_new);
    float *a = acc + (size_t)i * Dv;
    for (int d = 0; d < Dv; d++) a[d] *= alpha;
    float sum = 0.0f;
    for (int j = 0; j < nn; j++) {
      if (s[i][j] == -INFINITY) continue;
      float p = expf(s[i][j] - m_new);
      sum += p;
      for (int d = 0; d < Dv; d++) a[d] += p * v[j][d];
    }
    l[i] = l[i] * alpha + sum;
    m[i] = m_new;
  }
}

static float dot(const float *a, const float *b, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

void extend_attention(const ExtendAttnArgs *args) {
  const int Hq = args->num_q_heads, Hkv = args->num_kv_heads;
  const int D = args->head_dim, Dv = args->v_head_dim;
  const int group = Hq / Hkv;
  const float scale = args->sm_scale, cap = args->logit_cap;
  float s[BLOCK_M][BLOCK_N], m[BLOCK_M], l[BLOCK_M];
  const float *vrow[BLOCK_N];
  float *acc = malloc(sizeof(float) * BLOCK_M * (size_t)Dv);

  for (int b = 0; b < args->batch; b++) {
    const int q0 = args->qo_indptr[b], n_ext = args->qo_indptr[b + 1] - q0;
    const int kv0 = args->kv_indptr[b], n_pre = args->kv_indptr[b + 1] - kv0;
    for (int h = 0; h < Hq; h++) {
      const int kh = h / group;
      for (int mb = 0; mb < n_ext; mb += BLOCK_M) {
        const int nm = n_ext - mb < BLOCK_M ? n_ext - mb : BLOCK_M;
        for (int i = 0; i < nm; i++) {
          m[i] = -INFINITY;
          l[i] = 0.0f;
          for (int d = 0; d < Dv; d++) acc[(size_t)i * Dv + d] = 0.0f;
        }
        /* stage 1: the prefix, read from the paged cache */
        for (int nb = 0; nb < n_pre; nb += BLOCK_N) {
          const int nn = n_pre - nb < BLOCK_N ? n_pre - nb : BLOCK_N;
          for (int j = 0; j < nn; j++) vrow[j] = args->v_buffer + ((size_t)args->kv_indices[kv0 + nb + j] * Hkv + kh) * Dv;
          for (int i = 0; i < nm; i++) {
            const float *q = args->q_extend + ((size_t)(q0 + mb + i) * Hq + h) * D;
            for (int j = 0; j < nn; j++) {
              const float *k = args->k_buffer + ((size_t)args->kv_indices[kv0 + nb + j] * Hkv + kh) * D;
              float x = dot(q, k, D) * scale;
              if (cap > 0.0f) x = cap * tanhf(x / cap);
              s[i][j] = x;
            }
          }
          online_softmax_update(nm, nn, Dv, s, vrow, m, l, acc);
        }
        /* stage 2: the extend tokens, causal (token mb+i sees extend tokens 0 .. mb+i) */
        const int n_vis = mb + nm;
        for (int nb = 0; nb < n_vis; nb += BLOCK_N) {
          const int nn = n_vis - nb < BLOCK_N ? n_vis - nb : BLOCK_N;
          for (int j = 0; j < nn; j++) vrow[j] = args->v_extend + ((size_t)(q0 + nb + j) * Hkv + kh) * Dv;
          for (int i = 0; i < nm; i++) {
            const float *q = args->q_extend + ((size_t)(q0 + mb + i) * Hq + h) * D;
            for (int j = 0; j < nn; j++) {
              if (nb + j > mb + i) {
                s[i][j] = -INFINITY;
                continue;
              }
              const float *k = args->k_extend + ((size_t)(q0 + nb + j) * Hkv + kh) * D;
              float x = dot(q, k, D) * scale;
              if (cap > 0.0f) x = cap * tanhf(x / cap);
              s[i][j] = x;
            }
          }
          online_softmax_update(nm, nn, Dv, s, vrow, m, l, acc);
        }
        for (int i = 0; i < nm; i++) {
          float *o = args->o_extend + ((size_t)(q0 + mb + i) * Hq + h) * Dv;
          for (int d = 0; d < Dv; d++) o[d] = acc[(size_t)i * Dv + d] / l[i];
        }
      }
    }
  }
  free(acc);
}
