/* kernel.h — the fixed interface of the extend-attention kernel. Do not edit: the grader compiles
 * your kernel.c against its own copy of this header. */
#ifndef EXTEND_ATTENTION_KERNEL_H
#define EXTEND_ATTENTION_KERNEL_H
#include <stdint.h>

typedef struct {
  int batch;        /* number of sequences B */
  int num_q_heads;  /* query heads Hq */
  int num_kv_heads; /* key/value heads Hkv; Hq is a multiple of Hkv (GQA group = Hq / Hkv) */
  int head_dim;     /* D: size of a query/key head */
  int v_head_dim;   /* Dv: size of a value/output head */
  /* New ("extend") tokens of all sequences, packed: sequence b owns rows qo_indptr[b] .. qo_indptr[b+1]-1. */
  const float *q_extend; /* [total_extend][Hq][D] */
  const float *k_extend; /* [total_extend][Hkv][D] */
  const float *v_extend; /* [total_extend][Hkv][Dv] */
  float *o_extend;       /* [total_extend][Hq][Dv]  (output) */
  /* Paged prefix KV cache: prefix token j of sequence b lives in slot kv_indices[kv_indptr[b] + j]. */
  const float *k_buffer; /* [pool_slots][Hkv][D] */
  const float *v_buffer; /* [pool_slots][Hkv][Dv] */
  const int32_t *qo_indptr;  /* [B+1] */
  const int32_t *kv_indptr;  /* [B+1] */
  const int32_t *kv_indices; /* [kv_indptr[B]] */
  float sm_scale;  /* scale of q.k (1/sqrt(D) in every workload) */
  float logit_cap; /* > 0: logits become logit_cap * tanh(logit / logit_cap); 0: no cap */
} ExtendAttnArgs;

/* o[t][h] = softmax over the keys visible to token t of (capped) sm_scale * q[t][h].k, applied to v:
 * the keys are the whole prefix of t's sequence, then that sequence's extend tokens up to and
 * including t itself (causal). Query head h reads KV head h / (Hq / Hkv). */
void extend_attention(const ExtendAttnArgs *args);
#endif
