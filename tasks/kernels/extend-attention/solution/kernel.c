/* kernel.c — the oracle for extend attention: what a careful optimization reaches.
 *
 *  - Work items = (sequence, KV head, block of query tokens, range of keys), spread over all cores
 *    with OpenMP. When there are too few (one long prefix, a few queries) the keys are split
 *    (split-KV, as in flash decoding) and the partial softmax states merged afterwards.
 *  - GQA: the query heads that share a KV head are processed together, so every key/value row is
 *    loaded once per group of rows (rows = tokens x heads of the group).
 *  - Each block of BN keys is gathered from the paged cache (bfloat16 widened to float) and
 *    transposed (Kt[d][j]); S = Q.K^T and the P.V update run as 4-row register tiles (GCC vector
 *    extensions).
 *  - Masks as per-row key ranges (causal, sliding window: blocks outside every row's range are never
 *    visited) plus the custom mask's bytes where there is one.
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
  float *q;   /* [MAX_ROWS][D] scaled queries */
  float *kt;  /* [D][BN] */
  float *s;   /* [MAX_ROWS][BN] */
  float *acc; /* [MAX_ROWS][Dv] */
  float *vt;  /* [BN][Dv]: widened bfloat16 values */
  float m[MAX_ROWS], l[MAX_ROWS];
  int lo[MAX_ROWS], hi[MAX_ROWS];     /* visible key positions lo .. hi of each row */
  const uint8_t *mrow[MAX_ROWS];      /* the row's custom-mask bytes, indexed by key position */
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
static void accumulate_pv(Scratch *w, int R, int Dv, int first, int last) {
  for (int r0 = 0; r0 < R; r0 += 4) {
    const int nr = R - r0 < 4 ? R - r0 : 4;
    const float *p[4];
    for (int i = 0; i < 4; i++) p[i] = w->s + (size_t)(r0 + (i < nr ? i : 0)) * BN;
    int d0 = 0;
    for (; d0 + 32 <= Dv; d0 += 32) {
      v16f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
      for (int j = first; j <= last; j++) {
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
        for (int j = first; j <= last; j++) sum += p[i][j] * w->vrow[j][d0];
        w->acc[(size_t)(r0 + i) * Dv + d0] += sum;
      }
  }
}

/* One block of nn keys at positions kpos0 .. kpos0+nn-1 (kt and vrow filled). use_mask: the
 * custom mask applies to these keys. */
static void process_block(Scratch *w, int R, int D, int Dv, int nn, float cap, int kpos0, int use_mask) {
  scores(w, R, D);
  int first_any = BN, last_any = -1;
  for (int r = 0; r < R; r++) {
    float *s = w->s + (size_t)r * BN;
    const int first = w->lo[r] - kpos0 > 0 ? w->lo[r] - kpos0 : 0;
    const int last = w->hi[r] - kpos0 < nn - 1 ? w->hi[r] - kpos0 : nn - 1;
    if (first > last) { /* nothing visible in this block: contributes zero */
#pragma omp simd
      for (int j = 0; j < BN; j++) s[j] = 0.0f;
      continue;
    }
    if (cap > 0.0f) {
#pragma omp simd
      for (int j = 0; j < BN; j++) s[j] = soft_cap(s[j], cap);
    }
    if (use_mask) {
      const uint8_t *mk = w->mrow[r] + kpos0;
#pragma omp simd
      for (int j = 0; j < BN; j++)
        if (j >= first && j <= last && !mk[j]) s[j] = -INFINITY;
    }
    float mx = w->m[r];
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < BN; j++)
      if (j >= first && j <= last) mx = s[j] > mx ? s[j] : mx;
    if (mx == -INFINITY) { /* everything masked so far */
#pragma omp simd
      for (int j = 0; j < BN; j++) s[j] = 0.0f;
      continue;
    }
    if (first < first_any) first_any = first;
    if (last > last_any) last_any = last;
    const float alpha = fast_exp(w->m[r] - mx);
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < BN; j++) {
      float p = (j >= first && j <= last && s[j] > -INFINITY) ? fast_exp(s[j] - mx) : 0.0f;
      s[j] = p;
      sum += p;
    }
    w->l[r] = w->l[r] * alpha + sum;
    w->m[r] = mx;
    float *a = w->acc + (size_t)r * Dv;
#pragma omp simd
    for (int d = 0; d < Dv; d++) a[d] *= alpha;
  }
  if (last_any >= 0) accumulate_pv(w, R, Dv, first_any, last_any);
}

typedef struct {
  int b, kh, mb, nm; /* sequence, KV head, first query token and count */
  int klo, khi;      /* key positions klo .. khi-1 (prefix positions first, then the extend tokens) */
  int part;          /* -1: write the output; else the index of its partial state */
  int group;         /* the (b, kh, mb) group it belongs to */
} Item;

static long item_work(const Item *a) { return (long)(a->khi - a->klo) * a->nm; }

/* Most work first (a better balance under a dynamic schedule): Shell sort, descending. */
static void sort_by_work(Item *x, long n) {
  for (long gap = n / 2; gap > 0; gap /= 2)
    for (long i = gap; i < n; i++) {
      const Item t = x[i];
      long j = i;
      for (; j >= gap && item_work(&x[j - gap]) < item_work(&t); j -= gap) x[j] = x[j - gap];
      x[j] = t;
    }
}

/* Gather K (transposed, as float) and V (pointers, widened to float when bfloat16) of keys
 * kpos0 .. kpos0+nn-1 of sequence b. */
static void gather(Scratch *w, const ExtendAttnArgs *a, int b, int kh, int kpos0, int nn) {
  const int D = a->head_dim, Dv = a->v_head_dim, Hkv = a->num_kv_heads, bf = a->kv_dtype == EA_BF16;
  const int q0 = a->qo_indptr[b], kv0 = a->kv_indptr[b], np = a->kv_indptr[b + 1] - kv0;
  for (int j = 0; j < nn; j++) {
    const int kp = kpos0 + j;
    const size_t row = kp < np ? (size_t)a->kv_indices[kv0 + kp] * Hkv + kh : ((size_t)q0 + kp - np) * Hkv + kh;
    const void *kb = kp < np ? a->k_buffer : a->k_extend, *vb = kp < np ? a->v_buffer : a->v_extend;
    if (bf) {
      const uint16_t *k = (const uint16_t *)kb + row * D, *v = (const uint16_t *)vb + row * Dv;
      for (int d = 0; d < D; d++) w->kt[(size_t)d * BN + j] = ea_bf16_to_f32(k[d]);
      float *vt = w->vt + (size_t)j * Dv;
#pragma omp simd
      for (int d = 0; d < Dv; d++) vt[d] = ea_bf16_to_f32(v[d]);
      w->vrow[j] = vt;
    } else {
      const float *k = (const float *)kb + row * D;
      for (int d = 0; d < D; d++) w->kt[(size_t)d * BN + j] = k[d];
      w->vrow[j] = (const float *)vb + row * Dv;
    }
  }
  for (int j = nn; j < BN; j++)
    for (int d = 0; d < D; d++) w->kt[(size_t)d * BN + j] = 0.0f;
}

static void run_item(Scratch *w, const ExtendAttnArgs *a, const Item *it, float *partial) {
  const int Hq = a->num_q_heads, D = a->head_dim, Dv = a->v_head_dim, G = Hq / a->num_kv_heads, W = a->sliding_window_size;
  const int b = it->b, kh = it->kh, mb = it->mb, nm = it->nm, R = nm * G;
  const int q0 = a->qo_indptr[b], ne = a->qo_indptr[b + 1] - q0, np = a->kv_indptr[b + 1] - a->kv_indptr[b];
  const uint8_t *mseq = a->custom_mask ? a->custom_mask + a->mask_indptr[b] : NULL;
  const float scale = a->sm_scale;
  for (int i = 0; i < nm; i++)
    for (int g = 0; g < G; g++) {
      const int r = i * G + g, pos = np + mb + i;
      const float *src = a->q_extend + ((size_t)(q0 + mb + i) * Hq + (size_t)kh * G + g) * D;
      float *dst = w->q + (size_t)r * D;
      for (int d = 0; d < D; d++) dst[d] = src[d] * scale;
      w->m[r] = -INFINITY;
      w->l[r] = 0.0f;
      memset(w->acc + (size_t)r * Dv, 0, sizeof(float) * (size_t)Dv);
      w->hi[r] = pos;
      w->lo[r] = W > 0 && pos - W > 0 ? pos - W : 0;
      w->mrow[r] = mseq ? mseq + (size_t)(mb + i) * (size_t)(np + ne) : NULL;
    }
  for (int kp = it->klo; kp < it->khi;) {
    int end = kp + BN < it->khi ? kp + BN : it->khi;
    if (kp < np && end > np) end = np; /* a block is all prefix or all extend */
    gather(w, a, b, kh, kp, end - kp);
    const int use_mask = mseq && (kp >= np || !a->skip_prefix_custom_mask);
    process_block(w, R, D, Dv, end - kp, a->logit_cap, kp, use_mask);
    kp = end;
  }
  if (it->part < 0) {
    for (int r = 0; r < R; r++) {
      const int i = r / G, g = r % G;
      const size_t t = (size_t)(q0 + mb + i) * Hq + (size_t)kh * G + g;
      float *o = a->o_extend + t * Dv;
      const float inv = 1.0f / w->l[r];
      const float *acc = w->acc + (size_t)r * Dv;
      for (int d = 0; d < Dv; d++) o[d] = acc[d] * inv;
      if (a->lse) a->lse[t] = w->m[r] + logf(w->l[r]);
    }
  } else {
    float *pp = partial + (size_t)it->part * MAX_ROWS * (size_t)(Dv + 2);
    for (int r = 0; r < R; r++) {
      float *dst = pp + (size_t)r * (Dv + 2);
      dst[0] = w->m[r];
      dst[1] = w->l[r];
      memcpy(dst + 2, w->acc + (size_t)r * Dv, sizeof(float) * (size_t)Dv);
    }
  }
}

void extend_attention(const ExtendAttnArgs *args) {
  const int B = args->batch, Hq = args->num_q_heads, Hkv = args->num_kv_heads;
  const int D = args->head_dim, Dv = args->v_head_dim, G = Hq / Hkv, W = args->sliding_window_size;
  const int nthr = omp_get_max_threads();
  int bm = MAX_ROWS / G;
  if (bm < 1) bm = 1;
  /* the groups (sequence, KV head, query block) and their key ranges */
  long n_groups = 0, total_keys = 0;
  for (int b = 0; b < B; b++) n_groups += (long)Hkv * ((args->qo_indptr[b + 1] - args->qo_indptr[b] + bm - 1) / bm);
  Item *groups = malloc(sizeof(Item) * (size_t)(n_groups > 0 ? n_groups : 1));
  long ng = 0;
  for (int b = 0; b < B; b++) {
    const int ne = args->qo_indptr[b + 1] - args->qo_indptr[b], np = args->kv_indptr[b + 1] - args->kv_indptr[b];
    for (int mb = 0; mb < ne; mb += bm) {
      const int nm = ne - mb < bm ? ne - mb : bm;
      /* keys visible to some row: from the first row's window start to the last row itself */
      const int klo = W > 0 && np + mb - W > 0 ? np + mb - W : 0, khi = np + mb + nm;
      for (int kh = 0; kh < Hkv; kh++) {
        groups[ng] = (Item){b, kh, mb, nm, klo, khi, -1, (int)ng};
        ng++;
      }
      total_keys += (long)Hkv * (khi - klo);
    }
  }
  /* split the key ranges when there are too few groups to keep every core busy */
  long chunk = 0;
  if (nthr > 1 && ng < 3L * nthr) {
    chunk = (total_keys + 4L * nthr - 1) / (4L * nthr);
    chunk = (chunk + BN - 1) / BN * BN;
    if (chunk < 4 * BN) chunk = 4 * BN;
  }
  long n_items = 0;
  for (long g = 0; g < ng; g++) n_items += chunk ? (groups[g].khi - groups[g].klo + chunk - 1) / chunk : 1;
  Item *items = malloc(sizeof(Item) * (size_t)(n_items > 0 ? n_items : 1));
  int *first_part = malloc(sizeof(int) * (size_t)(ng + 1));
  long it = 0, n_parts = 0;
  for (long g = 0; g < ng; g++) {
    const Item gr = groups[g];
    const long nsplit = chunk ? (gr.khi - gr.klo + chunk - 1) / chunk : 1;
    first_part[g] = nsplit > 1 ? (int)n_parts : -1;
    for (long s = 0; s < nsplit; s++) {
      Item x = gr;
      if (nsplit > 1) {
        x.klo = (int)(gr.klo + s * chunk);
        x.khi = (int)(gr.klo + (s + 1) * chunk < gr.khi ? gr.klo + (s + 1) * chunk : gr.khi);
        x.part = (int)n_parts++;
      }
      items[it++] = x;
    }
  }
  first_part[ng] = (int)n_parts;
  sort_by_work(items, n_items);
  float *partial = n_parts ? malloc(sizeof(float) * (size_t)n_parts * MAX_ROWS * (size_t)(Dv + 2)) : NULL;
#pragma omp parallel
  {
    Scratch *w = aligned_alloc(64, sizeof(Scratch));
    w->q = aligned_alloc(64, sizeof(float) * MAX_ROWS * (size_t)((D + 15) / 16 * 16));
    w->kt = aligned_alloc(64, sizeof(float) * BN * (size_t)D);
    w->s = aligned_alloc(64, sizeof(float) * MAX_ROWS * BN);
    w->acc = aligned_alloc(64, sizeof(float) * MAX_ROWS * (size_t)((Dv + 15) / 16 * 16));
    w->vt = aligned_alloc(64, sizeof(float) * BN * (size_t)((Dv + 15) / 16 * 16));
#pragma omp for schedule(dynamic, 1)
    for (long t = 0; t < n_items; t++) run_item(w, args, &items[t], partial);
    free(w->q), free(w->kt), free(w->s), free(w->acc), free(w->vt), free(w);
    /* merge the partial states of the split groups */
#pragma omp for schedule(dynamic, 1)
    for (long g = 0; g < ng; g++) {
      if (first_part[g] < 0) continue;
      const Item gr = groups[g];
      int last = (int)n_parts;
      for (long h = g + 1; h <= ng; h++)
        if (h == ng || first_part[h] >= 0) {
          last = h == ng ? (int)n_parts : first_part[h];
          break;
        }
      const int q0 = args->qo_indptr[gr.b];
      for (int r = 0; r < gr.nm * G; r++) {
        const int i = r / G, gg = r % G;
        float M = -INFINITY;
        for (int p = first_part[g]; p < last; p++) {
          const float m = partial[((size_t)p * MAX_ROWS + r) * (Dv + 2)];
          if (m > M) M = m;
        }
        const size_t t = (size_t)(q0 + gr.mb + i) * Hq + (size_t)gr.kh * G + gg;
        float *o = args->o_extend + t * Dv;
        float L = 0.0f;
        for (int d = 0; d < Dv; d++) o[d] = 0.0f;
        for (int p = first_part[g]; p < last; p++) {
          const float *src = partial + ((size_t)p * MAX_ROWS + r) * (Dv + 2);
          if (src[0] == -INFINITY) continue;
          const float f = expf(src[0] - M);
          L += f * src[1];
          for (int d = 0; d < Dv; d++) o[d] += f * src[2 + d];
        }
        const float inv = 1.0f / L;
        for (int d = 0; d < Dv; d++) o[d] *= inv;
        if (args->lse) args->lse[t] = M + logf(L);
      }
    }
  }
  free(partial), free(first_part), free(items), free(groups);
}
