/* driver.c — benchmark and correctness driver of the extend-attention kernel (see bench.h).
 * Built with kernel.c (the candidate, symbol extend_attention) and reference.c (the reference,
 * compiled with -Dextend_attention=ref_extend_attention).
 * Workload line keys: name, batch, hq, hkv, d, dv (default d), prefix (n or lo:hi), extend (n or
 * lo:hi), cap (logit soft-cap, default 0). Per-sequence lengths are drawn from the seed. */
#include "bench.h"
#include "kernel.h"

void ref_extend_attention(const ExtendAttnArgs *args);

typedef struct {
  int B, Hq, Hkv, D, Dv;
  float cap;
  int32_t *qo_indptr, *kv_indptr, *kv_indices, *perm;
  long total_ext, total_pre, pool;
  float *q, *k, *v, *kbuf, *vbuf;
  int filled;
  ExtendAttnArgs args;
} St;

static void *setup(const char *line, Rng *rng, char *err, size_t cap) {
  St *s = (St *)calloc(1, sizeof(St));
  s->B = (int)wl_int(line, "batch", 1);
  s->Hq = (int)wl_int(line, "hq", 8);
  s->Hkv = (int)wl_int(line, "hkv", s->Hq);
  s->D = (int)wl_int(line, "d", 128);
  s->Dv = (int)wl_int(line, "dv", s->D);
  s->cap = (float)wl_num(line, "cap", 0);
  long plo, phi, elo, ehi;
  wl_range(line, "prefix", 0, &plo, &phi);
  wl_range(line, "extend", 1, &elo, &ehi);
  if (s->B < 1 || s->Hkv < 1 || s->Hq < s->Hkv || s->Hq % s->Hkv || s->D < 1 || s->Dv < 1 || plo < 0 || elo < 0) {
    snprintf(err, cap, "invalid shape");
    free(s);
    return NULL;
  }
  s->qo_indptr = (int32_t *)bench_alloc(sizeof(int32_t) * (size_t)(s->B + 1));
  s->kv_indptr = (int32_t *)bench_alloc(sizeof(int32_t) * (size_t)(s->B + 1));
  for (int b = 0; b < s->B; b++) {
    s->qo_indptr[b + 1] = s->qo_indptr[b] + (int32_t)rng_range(rng, elo, ehi);
    s->kv_indptr[b + 1] = s->kv_indptr[b] + (int32_t)rng_range(rng, plo, phi);
  }
  s->total_ext = s->qo_indptr[s->B];
  s->total_pre = s->kv_indptr[s->B];
  s->pool = s->total_pre + s->total_pre / 4 + 16; /* more slots than needed: the page table is redrawn per repeat */
  s->kv_indices = (int32_t *)bench_alloc(sizeof(int32_t) * (size_t)(s->total_pre + 1));
  s->perm = (int32_t *)bench_alloc(sizeof(int32_t) * (size_t)s->pool);
  for (long i = 0; i < s->pool; i++) s->perm[i] = (int32_t)i;
  s->q = (float *)bench_alloc(sizeof(float) * (size_t)s->total_ext * s->Hq * s->D);
  s->k = (float *)bench_alloc(sizeof(float) * (size_t)s->total_ext * s->Hkv * s->D);
  s->v = (float *)bench_alloc(sizeof(float) * (size_t)s->total_ext * s->Hkv * s->Dv);
  s->kbuf = (float *)bench_alloc(sizeof(float) * (size_t)s->pool * s->Hkv * s->D);
  s->vbuf = (float *)bench_alloc(sizeof(float) * (size_t)s->pool * s->Hkv * s->Dv);
  ExtendAttnArgs a = {s->B, s->Hq, s->Hkv, s->D, s->Dv, s->q, s->k, s->v, NULL, s->kbuf, s->vbuf, s->qo_indptr, s->kv_indptr, s->kv_indices,
                      (float)(1.0 / sqrt((double)s->D)), s->cap};
  s->args = a;
  return s;
}

/* Query scale 6: logits q.k/sqrt(D) have a standard deviation of about 2, so the softmax is far from flat. */
static void regen(void *p, Rng *rng) {
  St *s = (St *)p;
  if (!s->filled) {
    fill_uniform(s->kbuf, (size_t)s->pool * s->Hkv * s->D, 1.0f, rng);
    fill_uniform(s->vbuf, (size_t)s->pool * s->Hkv * s->Dv, 1.0f, rng);
    s->filled = 1;
  } else {
    /* refresh a random eighth of the cache too */
    long n = s->pool / 8, start = rng_range(rng, 0, s->pool - n);
    fill_uniform(s->kbuf + (size_t)start * s->Hkv * s->D, (size_t)n * s->Hkv * s->D, 1.0f, rng);
    fill_uniform(s->vbuf + (size_t)start * s->Hkv * s->Dv, (size_t)n * s->Hkv * s->Dv, 1.0f, rng);
  }
  fill_uniform(s->q, (size_t)s->total_ext * s->Hq * s->D, 6.0f, rng);
  fill_uniform(s->k, (size_t)s->total_ext * s->Hkv * s->D, 1.0f, rng);
  fill_uniform(s->v, (size_t)s->total_ext * s->Hkv * s->Dv, 1.0f, rng);
  /* a fresh page table: distinct random slots (partial Fisher-Yates over the pool) */
  for (long i = 0; i < s->total_pre; i++) {
    long j = rng_range(rng, i, s->pool - 1);
    int32_t t = s->perm[i];
    s->perm[i] = s->perm[j];
    s->perm[j] = t;
    s->kv_indices[i] = s->perm[i];
  }
}

static size_t out_len(void *p) {
  St *s = (St *)p;
  return (size_t)s->total_ext * s->Hq * s->Dv;
}

static void run(void *p, int which, float *out) {
  St *s = (St *)p;
  ExtendAttnArgs a = s->args;
  a.o_extend = out;
  if (which) extend_attention(&a);
  else ref_extend_attention(&a);
}

static void ref64(void *p, double *out) {
  St *s = (St *)p;
  const int Hq = s->Hq, Hkv = s->Hkv, D = s->D, Dv = s->Dv, group = Hq / Hkv;
  const double scale = 1.0 / sqrt((double)D), cap = s->cap;
  long maxkeys = 0;
  for (int b = 0; b < s->B; b++) {
    long n = (long)(s->kv_indptr[b + 1] - s->kv_indptr[b]) + (s->qo_indptr[b + 1] - s->qo_indptr[b]);
    if (n > maxkeys) maxkeys = n;
  }
  double *sc = (double *)malloc(sizeof(double) * (size_t)(maxkeys + 1));
  double *acc = (double *)malloc(sizeof(double) * (size_t)Dv);
  for (int b = 0; b < s->B; b++) {
    int q0 = s->qo_indptr[b], ne = s->qo_indptr[b + 1] - q0, kv0 = s->kv_indptr[b], np = s->kv_indptr[b + 1] - kv0;
    for (int i = 0; i < ne; i++)
      for (int h = 0; h < Hq; h++) {
        const float *q = s->q + ((size_t)(q0 + i) * Hq + h) * D;
        int kh = h / group, nk = np + i + 1;
        double mx = -INFINITY;
        for (int j = 0; j < nk; j++) {
          const float *k = j < np ? s->kbuf + ((size_t)s->kv_indices[kv0 + j] * Hkv + kh) * D : s->k + ((size_t)(q0 + j - np) * Hkv + kh) * D;
          double x = 0;
          for (int d = 0; d < D; d++) x += (double)q[d] * (double)k[d];
          x *= scale;
          if (cap > 0) x = cap * tanh(x / cap);
          sc[j] = x;
          if (x > mx) mx = x;
        }
        double sum = 0;
        for (int d = 0; d < Dv; d++) acc[d] = 0;
        for (int j = 0; j < nk; j++) {
          const float *v = j < np ? s->vbuf + ((size_t)s->kv_indices[kv0 + j] * Hkv + kh) * Dv : s->v + ((size_t)(q0 + j - np) * Hkv + kh) * Dv;
          double w = exp(sc[j] - mx);
          sum += w;
          for (int d = 0; d < Dv; d++) acc[d] += w * (double)v[d];
        }
        double *o = out + ((size_t)(q0 + i) * Hq + h) * Dv;
        for (int d = 0; d < Dv; d++) o[d] = acc[d] / sum;
      }
  }
  free(sc);
  free(acc);
}

static void describe(void *p, char *buf, size_t cap) {
  St *s = (St *)p;
  int n = snprintf(buf, cap, "{\"batch\":%d,\"hq\":%d,\"hkv\":%d,\"d\":%d,\"dv\":%d,\"cap\":%g,\"prefix_total\":%ld,\"extend_total\":%ld", s->B, s->Hq, s->Hkv,
                   s->D, s->Dv, s->cap, s->total_pre, s->total_ext);
  if (s->B <= 8) {
    n += snprintf(buf + n, cap - (size_t)n, ",\"prefix\":[");
    for (int b = 0; b < s->B; b++) n += snprintf(buf + n, cap - (size_t)n, "%s%d", b ? "," : "", s->kv_indptr[b + 1] - s->kv_indptr[b]);
    n += snprintf(buf + n, cap - (size_t)n, "],\"extend\":[");
    for (int b = 0; b < s->B; b++) n += snprintf(buf + n, cap - (size_t)n, "%s%d", b ? "," : "", s->qo_indptr[b + 1] - s->qo_indptr[b]);
    n += snprintf(buf + n, cap - (size_t)n, "]");
  }
  snprintf(buf + n, cap - (size_t)n, "}");
}

static void teardown(void *p) {
  St *s = (St *)p;
  free(s->qo_indptr), free(s->kv_indptr), free(s->kv_indices), free(s->perm);
  free(s->q), free(s->k), free(s->v), free(s->kbuf), free(s->vbuf);
  free(s);
}

int main(int argc, char **argv) {
  static const KernelSpec K = {"extend_attention", 1e-3, setup, regen, out_len, run, ref64, describe, teardown};
  return bench_main(argc, argv, &K);
}
