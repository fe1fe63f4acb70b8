/* kernel.c — extend attention, the reference implementation (the starting point; make it faster).
 *
 * A direct port of the blocked structure of SGLang's Triton extend-attention kernel (_fwd_kernel in
 * extend_attention.py): for each sequence, each query head and each block of BLOCK_M query rows,
 * stream the keys in blocks of BLOCK_N with an online softmax (running max m, running sum l,
 * accumulator acc): first the paged prefix (gathered through kv_indices), then the extend tokens.
 * Masks as in the Triton kernel: the custom mask (prefix columns only without
 * skip_prefix_custom_mask), otherwise causal on the extend part, and the sliding window; a block in
 * which every (row, key) pair is masked is skipped. With a bfloat16 KV cache it keeps the Triton
 * kernel's numerics: the queries are rounded to bfloat16 for q.k (q.to(k.dtype)) and the
 * probabilities for p.v (p.to(v.dtype)); every sum is float32. Single-threaded, plain C. */
#include <math.h>
#include <stdlib.h>

#include "kernel.h"

#define BLOCK_M 16
#define BLOCK_N 64

typedef struct {
  const ExtendAttnArgs *a;
  int bf16, Hkv, D, Dv, kh;
  float scale, cap;
  float s[BLOCK_M][BLOCK_N]; /* scores of one block; -INFINITY = masked */
  float m[BLOCK_M], l[BLOCK_M];
  float *acc;  /* [BLOCK_M][Dv] */
  float *q;    /* [BLOCK_M][D]: the block's queries (rounded to bfloat16 with a bfloat16 cache) */
  float *krow; /* [D] */
  float *v;    /* [BLOCK_N][Dv]: the block's values, as float */
} Block;

/* element i of a K/V array as float */
static inline float kv_get(const void *base, int bf16, size_t i) {
  return bf16 ? ea_bf16_to_f32(((const uint16_t *)base)[i]) : ((const float *)base)[i];
}

static float dot(const float *a, const float *b, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* s[i][j] for the rows i < nm and keys j < nn of one block; vis[i][j] says which pairs are visible.
 * base/row(j): where key j's K and V rows live. */
static void block_scores(Block *w, int nm, int nn, const void *kbase, const size_t *rows, unsigned char vis[BLOCK_M][BLOCK_N]) {
  for (int j = 0; j < nn; j++) {
    int any = 0;
    for (int i = 0; i < nm; i++) any |= vis[i][j];
    if (!any) {
      for (int i = 0; i < nm; i++) w->s[i][j] = -INFINITY;
      continue;
    }
    const size_t off = (rows[j] * w->Hkv + w->kh) * w->D;
    for (int d = 0; d < w->D; d++) w->krow[d] = kv_get(kbase, w->bf16, off + d);
    for (int i = 0; i < nm; i++) {
      if (!vis[i][j]) {
        w->s[i][j] = -INFINITY;
        continue;
      }
      float x = dot(w->q + (size_t)i * w->D, w->krow, w->D) * w->scale;
      if (w->cap > 0.0f) x = w->cap * tanhf(x / w->cap);
      w->s[i][j] = x;
    }
  }
}

/* Fold one block of scores and its values into the running softmax state of the query block. */
static void online_softmax_update(Block *w, int nm, int nn, const void *vbase, const size_t *rows) {
  const int Dv = w->Dv;
  for (int j = 0; j < nn; j++) {
    const size_t off = (rows[j] * w->Hkv + w->kh) * Dv;
    for (int d = 0; d < Dv; d++) w->v[(size_t)j * Dv + d] = kv_get(vbase, w->bf16, off + d);
  }
  for (int i = 0; i < nm; i++) {
    float m_new = w->m[i];
    for (int j = 0; j < nn; j++)
      if (w->s[i][j] > m_new) m_new = w->s[i][j];
    if (m_new == -INFINITY) continue; /* every key of this block is masked for this row */
    const float alpha = expf(w->m[i] - m_new);
    float *acc = w->acc + (size_t)i * Dv;
    for (int d = 0; d < Dv; d++) acc[d] *= alpha;
    float sum = 0.0f;
    for (int j = 0; j < nn; j++) {
      if (w->s[i][j] == -INFINITY) continue;
      const float p = expf(w->s[i][j] - m_new);
      sum += p;
      const float pv = w->bf16 ? ea_bf16_to_f32(ea_f32_to_bf16(p)) : p;
      const float *v = w->v + (size_t)j * Dv;
      for (int d = 0; d < Dv; d++) acc[d] += pv * v[d];
    }
    w->l[i] = w->l[i] * alpha + sum;
    w->m[i] = m_new;
  }
}

void extend_attention(const ExtendAttnArgs *args) {
  const int Hq = args->num_q_heads, G = Hq / args->num_kv_heads;
  const int D = args->head_dim, Dv = args->v_head_dim, W = args->sliding_window_size;
  const uint8_t *mask = args->custom_mask;
  const int mask_prefix = mask && !args->skip_prefix_custom_mask;
  Block *w = malloc(sizeof(Block));
  w->a = args, w->bf16 = args->kv_dtype == EA_BF16, w->Hkv = args->num_kv_heads, w->D = D, w->Dv = Dv;
  w->scale = args->sm_scale, w->cap = args->logit_cap;
  w->acc = malloc(sizeof(float) * BLOCK_M * (size_t)Dv);
  w->q = malloc(sizeof(float) * BLOCK_M * (size_t)D);
  w->krow = malloc(sizeof(float) * (size_t)D);
  w->v = malloc(sizeof(float) * BLOCK_N * (size_t)Dv);
  unsigned char vis[BLOCK_M][BLOCK_N];
  size_t rows[BLOCK_N];

  for (int b = 0; b < args->batch; b++) {
    const int q0 = args->qo_indptr[b], n_ext = args->qo_indptr[b + 1] - q0;
    const int kv0 = args->kv_indptr[b], n_pre = args->kv_indptr[b + 1] - kv0;
    const uint8_t *mseq = mask ? mask + args->mask_indptr[b] : NULL;
    const size_t mstride = (size_t)n_pre + n_ext;
    for (int h = 0; h < Hq; h++) {
      w->kh = h / G;
      for (int mb = 0; mb < n_ext; mb += BLOCK_M) {
        const int nm = n_ext - mb < BLOCK_M ? n_ext - mb : BLOCK_M;
        for (int i = 0; i < nm; i++) {
          w->m[i] = -INFINITY;
          w->l[i] = 0.0f;
          for (int d = 0; d < Dv; d++) w->acc[(size_t)i * Dv + d] = 0.0f;
          const float *q = args->q_extend + ((size_t)(q0 + mb + i) * Hq + h) * D;
          for (int d = 0; d < D; d++) w->q[(size_t)i * D + d] = w->bf16 ? ea_bf16_to_f32(ea_f32_to_bf16(q[d])) : q[d];
        }
        /* stage 1: the prefix, read from the paged cache */
        for (int nb = 0; nb < n_pre; nb += BLOCK_N) {
          const int nn = n_pre - nb < BLOCK_N ? n_pre - nb : BLOCK_N;
          if (W > 0 && n_pre + mb - (nb + nn - 1) > W) continue; /* the block is before every row's window */
          int any = 0;
          for (int i = 0; i < nm; i++)
            for (int j = 0; j < nn; j++) {
              const int qpos = n_pre + mb + i, kpos = nb + j;
              int v = 1;
              if (mask_prefix) v = mseq[(size_t)(mb + i) * mstride + kpos] != 0;
              if (W > 0 && qpos - kpos > W) v = 0;
              vis[i][j] = (unsigned char)v;
              any |= v;
            }
          if (!any) continue; /* the whole block is masked */
          for (int j = 0; j < nn; j++) rows[j] = (size_t)args->kv_indices[kv0 + nb + j];
          block_scores(w, nm, nn, args->k_buffer, rows, vis);
          online_softmax_update(w, nm, nn, args->v_buffer, rows);
        }
        /* stage 2: the extend tokens up to the end of this query block (the causal bound) */
        const int n_vis = mb + nm;
        for (int nb = 0; nb < n_vis; nb += BLOCK_N) {
          const int nn = n_vis - nb < BLOCK_N ? n_vis - nb : BLOCK_N;
          if (W > 0 && mb - (nb + nn - 1) > W) continue;
          int any = 0;
          for (int i = 0; i < nm; i++)
            for (int j = 0; j < nn; j++) {
              const int qi = mb + i, kj = nb + j;
              int v = mask ? mseq[(size_t)qi * mstride + n_pre + kj] != 0 : kj <= qi;
              if (W > 0 && qi - kj > W) v = 0;
              vis[i][j] = (unsigned char)v;
              any |= v;
            }
          if (!any) continue;
          for (int j = 0; j < nn; j++) rows[j] = (size_t)q0 + nb + j;
          block_scores(w, nm, nn, args->k_extend, rows, vis);
          online_softmax_update(w, nm, nn, args->v_extend, rows);
        }
        for (int i = 0; i < nm; i++) {
          const size_t t = (size_t)(q0 + mb + i) * Hq + h;
          float *o = args->o_extend + t * Dv;
          for (int d = 0; d < Dv; d++) o[d] = w->acc[(size_t)i * Dv + d] / w->l[i];
          if (args->lse) args->lse[t] = w->m[i] + logf(w->l[i]);
        }
      }
    }
  }
  free(w->acc), free(w->q), free(w->krow), free(w->v), free(w);
}
