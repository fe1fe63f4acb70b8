/* kernel.c — the oracle for extend attention: what a careful optimization reaches.
 *
 *  - Work items = (sequence, KV head, block of query tokens), spread over all cores with OpenMP.
 *  - GQA: the query heads that share a KV head are processed together, so every key/value row is
 *    loaded once per group of rows (rows = tokens x heads of the group).
 *  - Each block of BN keys is gathered from the paged cache and transposed (Kt[d][j]), so that
 *    S = Q.K^T is a sequence of vectorizable axpy's over the key dimension.
 *  - Online softmax with a vectorizable exp (range reduction + polynomial, ~1e-7 relative error).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "kernel.h"

#define BN 64
#define MAX_ROWS 128

static inline float fast_exp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  float n = floorf(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693145751953125f - n * 1.42860682030941723e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.0083333333f + r * 0.0013888889f)))));
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/* cap * tanh(x / cap), via exp: tanh(y) = 1 - 2 / (exp(2y) + 1) */
static inline float soft_cap(float x, float cap) {
  float y = x / cap;
  y = y > 9.0f ? 9.0f : (y < -9.0f ? -9.0f : y);
  float e = fast_exp(2.0f * y);
  return cap * (1.0f - 2.0f / (e + 1.0f));
}

typedef struct {
  float *q;  /* [MAX_ROWS][D] scaled queries */
  float *kt; /* [D][BN] */
  float *s;  /* [MAX_ROWS][BN] */
  float *acc; /* [MAX_ROWS][Dv] */
  float m[MAX_ROWS], l[MAX_ROWS];
  const float *vrow[BN];
} Scratch;

/* One block of keys: kt/vrow filled, nn valid keys, key positions kpos0.. (for the causal mask;
 * limit[r] = last visible key position of row r, or INT32_MAX for the prefix). */
static void process_block(Scratch *w, int R, int D, int Dv, int nn, float cap, int causal, int kpos0, const int *limit) {
  for (int r = 0; r < R; r++) {
    float *s = w->s + (size_t)r * BN;
    const float *q = w->q + (size_t)r * D;
#pragma omp simd
    for (int j = 0; j < BN; j++) s[j] = 0.0f;
    for (int d = 0; d < D; d++) {
      const float qd = q[d];
      const float *kt = w->kt + (size_t)d * BN;
#pragma omp simd
      for (int j = 0; j < BN; j++) s[j] += qd * kt[j];
    }
    if (cap > 0.0f) {
#pragma omp simd
      for (int j = 0; j < BN; j++) s[j] = soft_cap(s[j], cap);
    }
    const int lim = causal ? limit[r] - kpos0 : nn - 1; /* last visible j */
    const int last = lim < nn - 1 ? lim : nn - 1;
    float mx = w->m[r];
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < BN; j++)
      if (j <= last) mx = s[j] > mx ? s[j] : mx;
    if (last < 0) continue;
    const float alpha = fast_exp(w->m[r] - mx);
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < BN; j++) {
      float p = j <= last ? fast_exp(s[j] - mx) : 0.0f;
      s[j] = p;
      sum += p;
    }
    w->l[r] = w->l[r] * alpha + sum;
    w->m[r] = mx;
    float *a = w->acc + (size_t)r * Dv;
#pragma omp simd
    for (int d = 0; d < Dv; d++) a[d] *= alpha;
    for (int j = 0; j <= last; j++) {
      const float p = s[j];
      const float *v = w->vrow[j];
#pragma omp simd
      for (int d = 0; d < Dv; d++) a[d] += p * v[d];
    }
  }
}

void extend_attention(const ExtendAttnArgs *args) {
  const int B = args->batch, Hq = args->num_q_heads, Hkv = args->num_kv_heads;
  const int D = args->head_dim, Dv = args->v_head_dim, group = Hq / Hkv;
  const float scale = args->sm_scale, cap = args->logit_cap;
  const int nthr = omp_get_max_threads();
  /* tokens per block: as many rows as fit MAX_ROWS, but enough items to keep every core busy */
  int max_ext = 0;
  long total_ext = args->qo_indptr[B] - args->qo_indptr[0];
  for (int b = 0; b < B; b++) {
    int e = args->qo_indptr[b + 1] - args->qo_indptr[b];
    if (e > max_ext) max_ext = e;
  }
  int bm = MAX_ROWS / group;
  if (bm < 1) bm = 1;
  long want = 4L * nthr;
  while (bm > 1 && (long)Hkv * ((total_ext + bm - 1) / bm + B) < want) bm /= 2;
  /* item list */
  long n_items = 0;
  for (int b = 0; b < B; b++) n_items += (long)Hkv * ((args->qo_indptr[b + 1] - args->qo_indptr[b] + bm - 1) / bm);
  int32_t *items = malloc(sizeof(int32_t) * 3 * (size_t)(n_items > 0 ? n_items : 1));
  long it = 0;
  /* longest prefixes first: better load balance with a dynamic schedule */
  for (int b = 0; b < B; b++) {
    int e = args->qo_indptr[b + 1] - args->qo_indptr[b];
    for (int kh = 0; kh < Hkv; kh++)
      for (int mb = 0; mb < e; mb += bm) {
        items[3 * it] = b, items[3 * it + 1] = kh, items[3 * it + 2] = mb;
        it++;
      }
  }
  (void)max_ext;
#pragma omp parallel
  {
    Scratch *w = aligned_alloc(64, sizeof(Scratch));
    w->q = aligned_alloc(64, sizeof(float) * MAX_ROWS * (size_t)((D + 15) / 16 * 16));
    w->kt = aligned_alloc(64, sizeof(float) * BN * (size_t)D);
    w->s = aligned_alloc(64, sizeof(float) * MAX_ROWS * BN);
    w->acc = aligned_alloc(64, sizeof(float) * MAX_ROWS * (size_t)((Dv + 15) / 16 * 16));
    int limit[MAX_ROWS];
#pragma omp for schedule(dynamic, 1)
    for (long t = 0; t < n_items; t++) {
      const int b = items[3 * t], kh = items[3 * t + 1], mb = items[3 * t + 2];
      const int q0 = args->qo_indptr[b], n_ext = args->qo_indptr[b + 1] - q0;
      const int kv0 = args->kv_indptr[b], n_pre = args->kv_indptr[b + 1] - kv0;
      const int nm = n_ext - mb < bm ? n_ext - mb : bm;
      const int R = nm * group;
      for (int i = 0; i < nm; i++)
        for (int g = 0; g < group; g++) {
          const int r = i * group + g;
          const float *src = args->q_extend + ((size_t)(q0 + mb + i) * Hq + (size_t)kh * group + g) * D;
          float *dst = w->q + (size_t)r * D;
          for (int d = 0; d < D; d++) dst[d] = src[d] * scale;
          w->m[r] = -INFINITY;
          w->l[r] = 0.0f;
          memset(w->acc + (size_t)r * Dv, 0, sizeof(float) * (size_t)Dv);
          limit[r] = mb + i;
        }
      /* the prefix */
      for (int nb = 0; nb < n_pre; nb += BN) {
        const int nn = n_pre - nb < BN ? n_pre - nb : BN;
        for (int j = 0; j < nn; j++) {
          const size_t slot = (size_t)args->kv_indices[kv0 + nb + j] * Hkv + kh;
          const float *k = args->k_buffer + slot * D;
          for (int d = 0; d < D; d++) w->kt[(size_t)d * BN + j] = k[d];
          w->vrow[j] = args->v_buffer + slot * Dv;
        }
        for (int j = nn; j < BN; j++)
          for (int d = 0; d < D; d++) w->kt[(size_t)d * BN + j] = 0.0f;
        process_block(w, R, D, Dv, nn, cap, 0, 0, limit);
      }
      /* the extend tokens up to the last row of this block, causal */
      const int n_vis = mb + nm;
      for (int nb = 0; nb < n_vis; nb += BN) {
        const int nn = n_vis - nb < BN ? n_vis - nb : BN;
        for (int j = 0; j < nn; j++) {
          const size_t row = (size_t)(q0 + nb + j) * Hkv + kh;
          const float *k = args->k_extend + row * D;
          for (int d = 0; d < D; d++) w->kt[(size_t)d * BN + j] = k[d];
          w->vrow[j] = args->v_extend + row * Dv;
        }
        for (int j = nn; j < BN; j++)
          for (int d = 0; d < D; d++) w->kt[(size_t)d * BN + j] = 0.0f;
        process_block(w, R, D, Dv, nn, cap, 1, nb, limit);
      }
      for (int r = 0; r < R; r++) {
        const int i = r / group, g = r % group;
        float *o = args->o_extend + ((size_t)(q0 + mb + i) * Hq + (size_t)kh * group + g) * Dv;
        const float inv = 1.0f / w->l[r];
        const float *a = w->acc + (size_t)r * Dv;
        for (int d = 0; d < Dv; d++) o[d] = a[d] * inv;
      }
    }
    free(w->q), free(w->kt), free(w->s), free(w->acc), free(w);
  }
  free(items);
}
