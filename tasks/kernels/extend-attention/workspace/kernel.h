/* kernel.h — the fixed interface of the extend-attention kernel (SGLang's extend_attention_fwd on the
 * CPU). Do not edit: the grader compiles your kernel.c against its own copy of this header.
 * instruction.md is the full specification; the comments here are a summary of it. */
#ifndef EXTEND_ATTENTION_KERNEL_H
#define EXTEND_ATTENTION_KERNEL_H
#include <stdint.h>
#include <string.h>

/* Element type of the K/V arrays (k_extend, v_extend, k_buffer, v_buffer). Queries and outputs are
 * always float32. */
enum { EA_F32 = 0, EA_BF16 = 1 };

typedef struct {
  int batch;        /* number of sequences B */
  int num_q_heads;  /* query heads Hq */
  int num_kv_heads; /* key/value heads Hkv; Hq is a multiple of Hkv (GQA group G = Hq / Hkv) */
  int head_dim;     /* D: size of a query/key head */
  int v_head_dim;   /* Dv: size of a value/output head */
  int kv_dtype;     /* EA_F32: the K/V arrays hold float; EA_BF16: uint16_t bfloat16 bit patterns */
  int page_size;    /* the KV pool's page size (>= 1); see kv_indices */

  /* New ("extend") tokens of all sequences, packed: sequence b owns rows qo_indptr[b] .. qo_indptr[b+1]-1. */
  const float *q_extend; /* [T][Hq][D], T = qo_indptr[B] */
  const void *k_extend;  /* [T][Hkv][D]  (kv_dtype) */
  const void *v_extend;  /* [T][Hkv][Dv] (kv_dtype) */
  float *o_extend;       /* [T][Hq][Dv]  output: write every element */
  float *lse;            /* [T][Hq] output, or NULL: the natural-log sum-exp of each row's visible logits */

  /* Paged prefix KV cache: prefix token j of sequence b lives in pool slot kv_indices[kv_indptr[b] + j].
   * Slots are token positions in the pool, page p holding slots p*page_size .. p*page_size + page_size-1.
   * With page_size > 1, a sequence's prefix fills whole pages in order (the last one possibly partly):
   * kv_indices[kv_indptr[b] + j] % page_size == j % page_size, and the slots of j and j+1 are adjacent
   * whenever j+1 is not a multiple of page_size. Pages are in no particular order. */
  const void *k_buffer;      /* [pool_slots][Hkv][D]  (kv_dtype) */
  const void *v_buffer;      /* [pool_slots][Hkv][Dv] (kv_dtype) */
  const int32_t *qo_indptr;  /* [B+1] */
  const int32_t *kv_indptr;  /* [B+1] */
  const int32_t *kv_indices; /* [kv_indptr[B]] */

  /* Custom mask (speculative decoding), or NULL. Sequence b's mask is a row-major byte matrix
   * [n_ext][P_b + n_ext] starting at custom_mask + mask_indptr[b]: row i is extend token i, column k
   * the key at position k (prefix keys 0 .. P_b-1, then the extend tokens). Nonzero = visible. With a
   * mask, the mask replaces the causal rule; it never marks a key after the query visible. */
  const uint8_t *custom_mask;
  const int64_t *mask_indptr;  /* [B+1] */
  int skip_prefix_custom_mask; /* nonzero: the mask's prefix columns are ignored (every prefix key is visible) */

  int sliding_window_size; /* > 0: a query at position p sees only keys at positions p-W .. p; <= 0: no window */
  float sm_scale;          /* scale of q.k (1/sqrt(D) in every workload) */
  float logit_cap;         /* > 0: logits become logit_cap * tanh(logit / logit_cap); 0: no cap */
} ExtendAttnArgs;

/* Positions: in sequence b, prefix key j is at position j and extend token i at position P_b + i
 * (P_b = kv_indptr[b+1] - kv_indptr[b]). Extend token i (query head h, KV head h / G) sees the key at
 * position k when
 *   - without a mask: k < P_b + i + 1 (the whole prefix, then causally the extend tokens 0 .. i);
 *   - with a mask: (k < P_b and skip_prefix_custom_mask) or mask[i][k] != 0;
 *   - and, with a sliding window W > 0, also P_b + i - k <= W.
 * o[t][h] = softmax over the visible keys of the (capped) sm_scale * q.k, applied to the values;
 * lse[t][h] = log(sum over the visible keys of exp(logit)). Every row sees at least itself. */
void extend_attention(const ExtendAttnArgs *args);

/* bfloat16 <-> float32 (a bfloat16 is the upper half of a float32). */
static inline float ea_bf16_to_f32(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
/* round to nearest, ties to even (inputs are finite) */
static inline uint16_t ea_f32_to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}
#endif
