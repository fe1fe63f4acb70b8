/* kernel.c — the oracle for extend attention: what a careful optimization reaches.
 *
 *  - Work items = (sequence, KV head, block of query tokens), spread over all cores with OpenMP.
 *  - GQA: the query heads that share a KV head are processed together, so every key/value row is
 *    loaded once per group of rows (rows = tokens x heads of the group).
 *  - Each block of BN keys is gathered from the paged cache and transposed (Kt[d][j]); S = Q.K^T
 *    and the P.V update run as 4-row register tiles (GCC vector extensions).
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
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
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

typedef float v16f __attribute__((vector_size(64)));

static inline v16f ld(const float *p) {
  v16f v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void st(float *p, v16f v) { memcpy(p, &v, sizeof v); }

/* S[r][0..BN) = Q[r] . Kt for 4 rows at a time: 16 vector accumulators, each Kt row loaded once per 4 rows. */
static void scores(Scratch *w, int R, int D) {
  for (int r0 = 0; r0 < R; r0 += 4) {
    const float *q[4];
    for (int i = 0; i < 4; i++) q[i] = w->q + (size_t)(r0 + i < R ? r0 + i : r0) * D;
    v16f a00 = {0}, a01 = {0}, a02 = {0}, a03 = {0}, a10 = {0}, a11 = {0}, a12 = {0}, a13 = {0};
    v16f a20 = {0}, a21 = {0}, a22 = {0}, a23 = {0}, a30 = {0}, a31 = {0}, a32 = {0}, a33 = {0};
    for (int d = 0; d < D; d++) {
      const float *kt = w->kt + (size_t)d * BN;
      const v16f k0 = ld(kt), k1 = ld(kt + 16), k2 = ld(kt + 32), k3 = ld(kt + 48);
      float x;
      x = q[0][d], a00 += x * k0, a01 += x * k1, a02 += x * k2, a03 += x * k3;
      x = q[1][d], a10 += x * k0, a11 += x * k1, a12 += x * k2, a13 += x * k3;
      x = q[2][d], a20 += x * k0, a21 += x * k1, a22 += x * k2, a23 += x * k3;
      x = q[3][d], a30 += x * k0, a31 += x * k1, a32 += x * k2, a33 += x * k3;
    }
    v16f acc[4][4] = {{a00, a01, a02, a03}, {a10, a11, a12, a13}, {a20, a21, a22, a23}, {a30, a31, a32, a33}};
    for (int i = 0; i < 4 && r0 + i < R; i++)
      for (int c = 0; c < 4; c++) st(w->s + (size_t)(r0 + i) * BN + 16 * c, acc[i][c]);
  }
}

/* acc[r] += sum_j P[r][j] * v[j] for 4 rows at a time, 32 output columns per pass in registers. */
static void accumulate_pv(Scratch *w, int R, int Dv, int last) {
  for (int r0 = 0; r0 < R; r0 += 4) {
    const int nr = R - r0 < 4 ? R - r0 : 4;
    const float *p[4];
    for (int i = 0; i < 4; i++) p[i] = w->s + (size_t)(r0 + (i < nr ? i : 0)) * BN;
    int d0 = 0;
    for (; d0 + 32 <= Dv; d0 += 32) {
      v16f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
      for (int j = 0; j <= last; j++) {
        const float *v = w->vrow[j] + d0;
        const v16f v0 = ld(v), v1 = ld(v + 16);
        float x;
        x = p[0][j], c00 += x * v0, c01 += x * v1;
        x = p[1][j], c10 += x * v0, c11 += x * v1;
        x = p[2][j], c20 += x * v0, c21 += x * v1;
        x = p[3][j], c30 += x * v0, c31 += x * v1;
      }
      v16f c[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
      for (int i = 0; i < nr; i++) {
        float *a = w->acc + (size_t)(r0 + i) * Dv + d0;
        st(a, ld(a) + c[i][0]);
        st(a + 16, ld(a + 16) + c[i][1]);
      }
    }
    for (; d0 < Dv; d0++) /* leftover columns (Dv not a multiple of 32) */
      for (int i = 0; i < nr; i++) {
        float sum = 0.0f;
        for (int j = 0; j <= last; j++) sum += p[i][j] * w->vrow[j][d0];
        w->acc[(size_t)(r0 + i) * Dv + d0] += sum;
      }
  }
}

/* One block of keys: kt/vrow filled, nn valid keys, key positions kpos0.. (for the causal mask;
 * limit[r] = last visible key position of row r). */
static void process_block(Scratch *w, int R, int D, int Dv, int nn, float cap, int causal, int kpos0, const int *limit) {
  scores(w, R, D);
  int last_any = -1;
  for (int r = 0; r < R; r++) {
    float *s = w->s + (size_t)r * BN;
    if (cap > 0.0f) {
#pragma omp simd
      for (int j = 0; j < BN; j++) s[j] = soft_cap(s[j], cap);
    }
    const int lim = causal ? limit[r] - kpos0 : nn - 1; /* last visible j */
    const int last = lim < nn - 1 ? lim : nn - 1;
    if (last > last_any) last_any = last;
    if (last < 0) { /* nothing visible in this block: contributes zero */
#pragma omp simd
      for (int j = 0; j < BN; j++) s[j] = 0.0f;
      continue;
    }
    float mx = w->m[r];
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < BN; j++)
      if (j <= last) mx = s[j] > mx ? s[j] : mx;
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
  }
  if (last_any >= 0) accumulate_pv(w, R, Dv, last_any);
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
