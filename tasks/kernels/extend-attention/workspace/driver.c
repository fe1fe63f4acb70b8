/* driver.c — the extend-attention kernel described for the kernels grader (tasks/kernels/common/driver.h):
 * workload lines, input drawing, the float64 reference, the output segments (o, and the
 * log-sum-exp when asked), the cost of one call for the roofline bound.
 *
 * Workload line keys (instruction.md has the table): name, batch, hq, hkv, d, dv (default d), prefix
 * and extend (n or lo:hi, drawn per sequence), cap (soft-cap, default 0), page (page size, default
 * 1), window (sliding window W, default 0 = none), mask (1: a speculative-decoding tree mask),
 * mask_prefix (1: the mask also covers the prefix; default 0 = SGLang's skip_prefix_custom_mask),
 * lse (1: also return the log-sum-exp), kv (f32 or bf16). */
#include "driver.h"
#include "kernel.h"

void KERNEL_ENTRY(const ExtendAttnArgs *args);

/* Bounds (relative L2 error per segment). f32: a float32 kernel's error on these workloads is about
 * 1e-6 (README.md has the measurements); bf16: measured error of the reference (SGLang's numerics:
 * queries and probabilities rounded to bfloat16 before the two products) times a margin. */
#define TOL_O_F32 1e-4
#define TOL_LSE_F32 1e-5
#define TOL_O_BF16 1e-2
#define TOL_LSE_BF16 5e-4

typedef struct {
  int B, Hq, Hkv, D, Dv, ps, window, use_mask, mask_prefix, want_lse, bf16, filled;
  float cap;
  long T, Ptot, pool_pages, pool_slots, mask_total;
  int32_t *qo_indptr, *kv_indptr, *kv_indices;
  int64_t *mask_indptr;
  uint8_t *mask;
  float *q;
  void *k, *v, *kbuf, *vbuf; /* float or uint16_t (bf16) */
  ExtendAttnArgs args;
} St;

static int n_ext(const St *s, int b) { return s->qo_indptr[b + 1] - s->qo_indptr[b]; }
static int n_pre(const St *s, int b) { return s->kv_indptr[b + 1] - s->kv_indptr[b]; }

static void *setup(const char *line, Rng *rng, char *err, size_t errcap) {
  St *s = (St *)bench_alloc(sizeof(St));
  s->B = (int)wl_int(line, "batch", 1);
  s->Hq = (int)wl_int(line, "hq", 8);
  s->Hkv = (int)wl_int(line, "hkv", s->Hq);
  s->D = (int)wl_int(line, "d", 128);
  s->Dv = (int)wl_int(line, "dv", s->D);
  s->cap = (float)wl_num(line, "cap", 0);
  s->ps = (int)wl_int(line, "page", 1);
  s->window = (int)wl_int(line, "window", 0);
  s->use_mask = (int)wl_int(line, "mask", 0);
  s->mask_prefix = (int)wl_int(line, "mask_prefix", 0);
  s->want_lse = (int)wl_int(line, "lse", 0);
  char kv[16] = "f32";
  wl_find(line, "kv", kv, sizeof kv);
  s->bf16 = strcmp(kv, "bf16") == 0;
  long plo, phi, elo, ehi;
  wl_range(line, "prefix", 0, &plo, &phi);
  wl_range(line, "extend", 1, &elo, &ehi);
  if (s->B < 1 || s->Hkv < 1 || s->Hq < s->Hkv || s->Hq % s->Hkv || s->D < 1 || s->Dv < 1 || plo < 0 || elo < 1 || s->ps < 1 ||
      s->window < 0 || s->cap < 0 || (!s->bf16 && strcmp(kv, "f32") != 0) || (s->mask_prefix && !s->use_mask) || s->Hq / s->Hkv > 64) {
    snprintf(err, errcap, "invalid extend-attention workload (shape, page, window, mask or kv)");
    return NULL;
  }
  s->qo_indptr = (int32_t *)bench_alloc(sizeof(int32_t) * (size_t)(s->B + 1));
  s->kv_indptr = (int32_t *)bench_alloc(sizeof(int32_t) * (size_t)(s->B + 1));
  s->mask_indptr = (int64_t *)bench_alloc(sizeof(int64_t) * (size_t)(s->B + 1));
  long pages = 0;
  for (int b = 0; b < s->B; b++) {
    s->qo_indptr[b + 1] = s->qo_indptr[b] + (int32_t)rng_range(rng, elo, ehi);
    s->kv_indptr[b + 1] = s->kv_indptr[b] + (int32_t)rng_range(rng, plo, phi);
    const long ne = n_ext(s, b), np = n_pre(s, b);
    s->mask_indptr[b + 1] = s->mask_indptr[b] + (s->use_mask ? ne * (np + ne) : 0);
    pages += (np + s->ps - 1) / s->ps;
  }
  s->T = s->qo_indptr[s->B];
  s->Ptot = s->kv_indptr[s->B];
  s->mask_total = s->mask_indptr[s->B];
  /* more pages than needed: the page table is redrawn for every call */
  s->pool_pages = pages + pages / 4 + 4;
  s->pool_slots = s->pool_pages * s->ps;
  const size_t es = s->bf16 ? 2 : 4;
  s->kv_indices = (int32_t *)bench_alloc(sizeof(int32_t) * (size_t)(s->Ptot + 1));
  s->mask = s->use_mask ? (uint8_t *)bench_alloc((size_t)s->mask_total) : NULL;
  s->q = (float *)bench_alloc(sizeof(float) * (size_t)s->T * s->Hq * s->D);
  s->k = bench_alloc(es * (size_t)s->T * s->Hkv * s->D);
  s->v = bench_alloc(es * (size_t)s->T * s->Hkv * s->Dv);
  s->kbuf = bench_alloc(es * (size_t)s->pool_slots * s->Hkv * s->D);
  s->vbuf = bench_alloc(es * (size_t)s->pool_slots * s->Hkv * s->Dv);
  ExtendAttnArgs a = {0};
  a.batch = s->B, a.num_q_heads = s->Hq, a.num_kv_heads = s->Hkv, a.head_dim = s->D, a.v_head_dim = s->Dv;
  a.kv_dtype = s->bf16 ? EA_BF16 : EA_F32, a.page_size = s->ps;
  a.q_extend = s->q, a.k_extend = s->k, a.v_extend = s->v, a.k_buffer = s->kbuf, a.v_buffer = s->vbuf;
  a.qo_indptr = s->qo_indptr, a.kv_indptr = s->kv_indptr, a.kv_indices = s->kv_indices;
  a.custom_mask = s->mask, a.mask_indptr = s->use_mask ? s->mask_indptr : NULL, a.skip_prefix_custom_mask = !s->mask_prefix;
  a.sliding_window_size = s->window;
  a.sm_scale = (float)(1.0 / sqrt((double)s->D)), a.logit_cap = s->cap;
  s->args = a;
  return s;
}

/* uniform values in [-scale, scale), stored as float or as bfloat16 (rounded) */
static void fill_kv(void *x, int bf16, size_t n, float scale, Rng *rng) {
  if (!bf16) {
    fill_uniform((float *)x, n, scale, rng);
    return;
  }
  uint16_t *h = (uint16_t *)x;
  for (size_t i = 0; i < n; i++) h[i] = ea_f32_to_bf16(scale * rng_uniform(rng));
}

/* A speculative-decoding tree over the extend tokens of each sequence: token 0 is the root, token i
 * hangs below an earlier token (half the time i-1: long chains), and sees itself and its ancestors.
 * Prefix columns: random bits (with mask_prefix, 3 in 4 visible; without it they must be ignored). */
static void draw_mask(St *s, Rng *rng) {
  int *parent = NULL;
  size_t cap = 0;
  for (int b = 0; b < s->B; b++) {
    const int ne = n_ext(s, b), np = n_pre(s, b), w = np + ne;
    uint8_t *m = s->mask + s->mask_indptr[b];
    if ((size_t)ne > cap) {
      cap = (size_t)ne;
      parent = (int *)realloc(parent, sizeof(int) * cap);
    }
    for (int i = 0; i < ne; i++) {
      uint8_t *row = m + (size_t)i * w;
      for (int k = 0; k < np; k++) {
        const uint64_t r = rng_next(rng);
        row[k] = s->mask_prefix ? (uint8_t)((r & 3) != 0) : (uint8_t)(r & 1);
      }
      if (i == 0) {
        memset(row + np, 0, (size_t)ne);
      } else {
        parent[i] = (rng_next(rng) & 1) ? i - 1 : (int)rng_range(rng, 0, i - 1);
        memcpy(row + np, m + (size_t)parent[i] * w + np, (size_t)ne);
      }
      row[np + i] = 1;
    }
  }
  free(parent);
}

/* Query scale 6: logits q.k/sqrt(D) have a standard deviation of about 2, so the softmax is far from flat. */
static void regen(void *p, Rng *rng) {
  St *s = (St *)p;
  const size_t krow = (size_t)s->Hkv * s->D, vrow = (size_t)s->Hkv * s->Dv, es = s->bf16 ? 2 : 4;
  if (!s->filled) {
    fill_kv(s->kbuf, s->bf16, (size_t)s->pool_slots * krow, 1.0f, rng);
    fill_kv(s->vbuf, s->bf16, (size_t)s->pool_slots * vrow, 1.0f, rng);
    s->filled = 1;
  } else {
    /* refresh a random eighth of the pool too */
    const long n = s->pool_slots / 8, start = rng_range(rng, 0, s->pool_slots - n);
    fill_kv((char *)s->kbuf + es * (size_t)start * krow, s->bf16, (size_t)n * krow, 1.0f, rng);
    fill_kv((char *)s->vbuf + es * (size_t)start * vrow, s->bf16, (size_t)n * vrow, 1.0f, rng);
  }
  fill_uniform(s->q, (size_t)s->T * s->Hq * s->D, 6.0f, rng);
  fill_kv(s->k, s->bf16, (size_t)s->T * krow, 1.0f, rng);
  fill_kv(s->v, s->bf16, (size_t)s->T * vrow, 1.0f, rng);
  /* a fresh page table: distinct random pages (partial Fisher-Yates over the pool), each sequence's
   * prefix filling its pages in order */
  int32_t *perm = (int32_t *)malloc(sizeof(int32_t) * (size_t)s->pool_pages);
  for (long i = 0; i < s->pool_pages; i++) perm[i] = (int32_t)i;
  long next = 0;
  for (int b = 0; b < s->B; b++) {
    const int np = n_pre(s, b);
    int32_t *idx = s->kv_indices + s->kv_indptr[b];
    for (int j = 0; j < np; j += s->ps) {
      const long r = rng_range(rng, next, s->pool_pages - 1);
      const int32_t t = perm[next];
      perm[next] = perm[r];
      perm[r] = t;
      const int32_t base = perm[next++] * s->ps;
      for (int o = 0; o < s->ps && j + o < np; o++) idx[j + o] = base + o;
    }
  }
  free(perm);
  if (s->use_mask) draw_mask(s, rng);
}

static size_t out_len(const void *p) {
  const St *s = (const St *)p;
  return (size_t)s->T * s->Hq * s->Dv + (s->want_lse ? (size_t)s->T * s->Hq : 0);
}

static int segments(const void *p, OutputSegment *seg, int max) {
  const St *s = (const St *)p;
  if (max < 2) return 0;
  const size_t no = (size_t)s->T * s->Hq * s->Dv;
  seg[0] = (OutputSegment){"o", 0, no, s->bf16 ? TOL_O_BF16 : TOL_O_F32};
  if (!s->want_lse) return 1;
  seg[1] = (OutputSegment){"lse", no, (size_t)s->T * s->Hq, s->bf16 ? TOL_LSE_BF16 : TOL_LSE_F32};
  return 2;
}

static inline double kv_at(const void *base, int bf16, size_t i) {
  return bf16 ? (double)ea_bf16_to_f32(((const uint16_t *)base)[i]) : (double)((const float *)base)[i];
}

/* Is the key at position k visible to extend token i of sequence b? (kernel.h, instruction.md) */
static inline int visible(const St *s, const uint8_t *mrow, int np, int i, int k) {
  if (s->window > 0 && np + i - k > s->window) return 0;
  if (!s->use_mask) return k <= np + i;
  return (k < np && !s->mask_prefix) || mrow[k];
}

/* The float64 truth: the exact operator on the inputs as stored (bf16 values widened exactly). */
static void ref64(const void *p, double *out) {
  const St *s = (const St *)p;
  const int Hq = s->Hq, Hkv = s->Hkv, D = s->D, Dv = s->Dv, G = Hq / Hkv, bf = s->bf16;
  const double scale = 1.0 / sqrt((double)D), cap = s->cap;
  long maxkeys = 1;
  for (int b = 0; b < s->B; b++)
    if (n_pre(s, b) + n_ext(s, b) > maxkeys) maxkeys = n_pre(s, b) + n_ext(s, b);
  double *lse_out = s->want_lse ? out + (size_t)s->T * Hq * Dv : NULL;
#pragma omp parallel
  {
    double *sc = (double *)malloc(sizeof(double) * (size_t)maxkeys * G);
    int *keys = (int *)malloc(sizeof(int) * (size_t)maxkeys);
    double *kd = (double *)malloc(sizeof(double) * (size_t)(D > Dv ? D : Dv));
    double *acc = (double *)malloc(sizeof(double) * (size_t)Dv * G);
    double *qd = (double *)malloc(sizeof(double) * (size_t)D * G);
#pragma omp for schedule(dynamic, 1) collapse(2)
    for (int b = 0; b < s->B; b++)
      for (int i = 0; i < (int)s->T; i++) {
        if (i >= n_ext(s, b)) continue;
        const int q0 = s->qo_indptr[b], kv0 = s->kv_indptr[b], np = n_pre(s, b), ne = n_ext(s, b);
        const uint8_t *mrow = s->use_mask ? s->mask + s->mask_indptr[b] + (size_t)i * (np + ne) : NULL;
        int nk = 0;
        for (int k = 0; k <= np + i; k++)
          if (visible(s, mrow, np, i, k)) keys[nk++] = k;
        const size_t t = (size_t)q0 + i;
        for (int kh = 0; kh < Hkv; kh++) {
          for (int g = 0; g < G; g++)
            for (int d = 0; d < D; d++) qd[g * D + d] = s->q[(t * Hq + (size_t)kh * G + g) * D + d];
          double mx[64];
          for (int g = 0; g < G; g++) mx[g] = -INFINITY;
          for (int n = 0; n < nk; n++) {
            const int k = keys[n];
            const void *kb = k < np ? s->kbuf : s->k;
            const size_t row = k < np ? (size_t)s->kv_indices[kv0 + k] : (size_t)q0 + (k - np);
            for (int d = 0; d < D; d++) kd[d] = kv_at(kb, bf, (row * Hkv + kh) * D + d);
            for (int g = 0; g < G; g++) {
              const double *qg = qd + (size_t)g * D;
              double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
              int d = 0;
              for (; d + 4 <= D; d += 4) a0 += qg[d] * kd[d], a1 += qg[d + 1] * kd[d + 1], a2 += qg[d + 2] * kd[d + 2], a3 += qg[d + 3] * kd[d + 3];
              for (; d < D; d++) a0 += qg[d] * kd[d];
              double x = (a0 + a1 + a2 + a3) * scale;
              if (cap > 0) x = cap * tanh(x / cap);
              sc[(size_t)g * nk + n] = x;
              if (x > mx[g]) mx[g] = x;
            }
          }
          double sum[64];
          for (int g = 0; g < G; g++) sum[g] = 0;
          memset(acc, 0, sizeof(double) * (size_t)Dv * G);
          for (int n = 0; n < nk; n++) {
            const int k = keys[n];
            const void *vb = k < np ? s->vbuf : s->v;
            const size_t row = k < np ? (size_t)s->kv_indices[kv0 + k] : (size_t)q0 + (k - np);
            for (int d = 0; d < Dv; d++) kd[d] = kv_at(vb, bf, (row * Hkv + kh) * Dv + d);
            for (int g = 0; g < G; g++) {
              const double w = exp(sc[(size_t)g * nk + n] - mx[g]);
              sum[g] += w;
              double *ag = acc + (size_t)g * Dv;
              for (int d = 0; d < Dv; d++) ag[d] += w * kd[d];
            }
          }
          for (int g = 0; g < G; g++) {
            const size_t h = (size_t)kh * G + g;
            double *o = out + (t * Hq + h) * Dv;
            for (int d = 0; d < Dv; d++) o[d] = acc[(size_t)g * Dv + d] / sum[g];
            if (lse_out) lse_out[t * Hq + h] = mx[g] + log(sum[g]);
          }
        }
      }
    free(sc), free(keys), free(kd), free(acc), free(qd);
  }
}

static void describe(const void *p, char *buf, size_t cap) {
  const St *s = (const St *)p;
  int n = snprintf(buf, cap,
                   "{\"batch\":%d,\"hq\":%d,\"hkv\":%d,\"d\":%d,\"dv\":%d,\"kv\":\"%s\",\"page\":%d,\"window\":%d,\"mask\":%s,\"cap\":%g,\"lse\":%s,"
                   "\"prefix_total\":%ld,\"extend_total\":%ld",
                   s->B, s->Hq, s->Hkv, s->D, s->Dv, s->bf16 ? "bf16" : "f32", s->ps, s->window,
                   s->use_mask ? (s->mask_prefix ? "\"tree+prefix\"" : "\"tree\"") : "null", s->cap, s->want_lse ? "true" : "false", s->Ptot, s->T);
  if (s->B <= 8) {
    n += snprintf(buf + n, cap - (size_t)n, ",\"prefix\":[");
    for (int b = 0; b < s->B; b++) n += snprintf(buf + n, cap - (size_t)n, "%s%d", b ? "," : "", n_pre(s, b));
    n += snprintf(buf + n, cap - (size_t)n, "],\"extend\":[");
    for (int b = 0; b < s->B; b++) n += snprintf(buf + n, cap - (size_t)n, "%s%d", b ? "," : "", n_ext(s, b));
    n += snprintf(buf + n, cap - (size_t)n, "]");
  }
  snprintf(buf + n, cap - (size_t)n, "}");
}

/* The least a call must do (docs/kernels.md): read the queries, the extend K/V, each prefix key and
 * value visible to at least one query once (with a window W only the last min(P, W) prefix tokens
 * are), one page-table entry per page read, the mask bytes that matter; write o (and lse). FLOPs: an
 * FMA per element of q.k and of p.v for every visible (query head, key) pair: 2 (D + Dv) each. With
 * a mask, the visible pairs are counted on the current mask (before the first regen: each query's
 * prefix plus itself). */
static void cost(const void *p, double *bytes, double *flops) {
  const St *s = (const St *)p;
  const double es = s->bf16 ? 2 : 4;
  double by = 4.0 * s->T * s->Hq * s->D + es * s->T * s->Hkv * (s->D + s->Dv) + 4.0 * s->T * s->Hq * s->Dv;
  if (s->want_lse) by += 4.0 * s->T * s->Hq;
  double pairs = 0;
  for (int b = 0; b < s->B; b++) {
    const int np = n_pre(s, b), ne = n_ext(s, b);
    const double pre_read = s->window > 0 && s->window < np ? s->window : np;
    by += pre_read * (es * s->Hkv * (s->D + s->Dv) + 4.0 / s->ps);
    if (s->use_mask) by += (double)ne * (s->mask_prefix ? pre_read + ne : ne);
    for (int i = 0; i < ne; i++) {
      if (s->use_mask && s->filled) {
        const uint8_t *mrow = s->mask + s->mask_indptr[b] + (size_t)i * (np + ne);
        for (int k = 0; k <= np + i; k++) pairs += visible(s, mrow, np, i, k);
      } else {
        const long lo = s->window > 0 ? (np + i - s->window > 0 ? np + i - s->window : 0) : 0;
        pairs += s->use_mask ? (np > lo ? np - lo : 0) + 1 : np + i + 1 - lo;
      }
    }
  }
  *bytes = by;
  *flops = 2.0 * (s->D + s->Dv) * s->Hq * pairs;
}

const KernelSpec KERNEL = {"extend_attention", TOL_O_F32, setup, regen, out_len, segments, ref64, describe, cost};

/* Worker side: the arguments point into the shared arena; only the outputs are the worker's own. */
void kernel_run(const void *st, float *out) {
  const St *s = (const St *)st;
  ExtendAttnArgs a = s->args;
  a.o_extend = out;
  a.lse = s->want_lse ? out + (size_t)s->T * s->Hq * s->Dv : NULL;
  KERNEL_ENTRY(&a);
}
