/* probe.c — this machine's physical limits for the roofline bound of the speedup verifier (see
 * docs/kernels.md, "The roofline"): achievable memory bandwidth at several working-set sizes (from
 * the caches to DRAM) and the fused multiply-add peak, each with every core busy (OpenMP, one
 * thread per core). Run once per machine and cached (src/verifiers/speedup/roofline.ts).
 * Prints one JSON object:
 *   {"version":4,"threads":T,"fma_gflops":G,"llc_bytes":L,"bandwidth":[{"bytes":B,"gbs":X},...]}
 * (llc_bytes: the last-level cache's size, 0 when unknown; the last working set is at least 4x it).
 * bandwidth: the best of reading two arrays and writing a third (c = a + s*b, "triad") and reading
 * one (sum), bytes = everything read and written per pass, best of several passes. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VERSION 4

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* GB/s of the best of several timings over a working set of `bytes` (three arrays for the triad).
 * Every thread sweeps its own static share of the arrays `passes` times inside one parallel region
 * (no barrier between passes), so small working sets measure the caches, not the fork/join cost. */
static double bandwidth(size_t bytes, float *a, float *b, float *c) {
  size_t n = bytes / (3 * sizeof(float));
  double best = 0;
  /* enough passes that one timing takes ~40 ms */
  int passes = (int)(4e8 / (double)bytes) + 1;
  volatile float sink = 0;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = now();
#pragma omp parallel
    for (int p = 0; p < passes; p++) {
#pragma omp for simd schedule(static) nowait
      for (size_t i = 0; i < n; i++) c[i] = a[i] + 0.5f * b[i];
    }
    double t = now() - t0;
    double gbs = (double)passes * 12.0 * (double)n / t / 1e9;
    if (gbs > best) best = gbs;
    float total = 0;
    t0 = now();
#pragma omp parallel reduction(+ : total)
    {
      size_t nt = (size_t)omp_get_num_threads(), id = (size_t)omp_get_thread_num();
      size_t lo = n * id / nt, hi = n * (id + 1) / nt;
      for (int p = 0; p < passes; p++) {
        float s = 0;
#pragma omp simd reduction(+ : s)
        for (size_t i = lo; i < hi; i++) s += a[i] + b[i] + c[i];
        total += s;
      }
    }
    t = now() - t0;
    sink += total;
    gbs = (double)passes * 12.0 * (double)n / t / 1e9;
    if (gbs > best) best = gbs;
  }
  (void)sink;
  return best;
}

typedef float v16 __attribute__((vector_size(64)));

/* GFLOP/s of independent FMA chains on every thread (2 flops per lane per FMA). The 16 accumulators
 * are separate variables so that they live in registers (an array of them would go through memory). */
static double fma_peak(void) {
  const long iters = 20000000;
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = now();
    float out = 0;
#pragma omp parallel reduction(+ : out)
    {
      v16 m, add, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15;
      for (int i = 0; i < 16; i++) {
        m[i] = 0.999999f, add[i] = 1e-7f;
        a0[i] = a1[i] = a2[i] = a3[i] = a4[i] = a5[i] = a6[i] = a7[i] = (float)(i + omp_get_thread_num());
        a8[i] = a9[i] = a10[i] = a11[i] = a12[i] = a13[i] = a14[i] = a15[i] = (float)(2 * i);
      }
      for (long it = 0; it < iters; it++) {
        a0 = a0 * m + add, a1 = a1 * m + add, a2 = a2 * m + add, a3 = a3 * m + add;
        a4 = a4 * m + add, a5 = a5 * m + add, a6 = a6 * m + add, a7 = a7 * m + add;
        a8 = a8 * m + add, a9 = a9 * m + add, a10 = a10 * m + add, a11 = a11 * m + add;
        a12 = a12 * m + add, a13 = a13 * m + add, a14 = a14 * m + add, a15 = a15 * m + add;
      }
      v16 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
      for (int i = 0; i < 16; i++) out += s[i];
    }
    double t = now() - t0;
    double gf = (double)omp_get_max_threads() * (double)iters * 16 * 16 * 2 / t / 1e9;
    if (gf > best) best = gf;
    if (out == 12345.678f) printf(" ");
  }
  return best;
}

/* The largest cache of cpu0 (sysfs, as lscpu reads it; else what glibc's sysconf says). */
static long last_level_cache(void) {
  long best = 0;
  for (int i = 0; i < 8; i++) {
    char path[96];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    long v = 0;
    char unit = 0;
    if (fscanf(f, "%ld%c", &v, &unit) >= 1) {
      if (unit == 'K') v <<= 10;
      else if (unit == 'M') v <<= 20;
      if (v > best) best = v;
    }
    fclose(f);
  }
  if (best <= 0) best = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (best <= 0) best = sysconf(_SC_LEVEL2_CACHE_SIZE);
  return best > 0 ? best : 0;
}

/* usage: probe [LLC_BYTES] (the last-level cache's size when the caller knows it better) */
int main(int argc, char **argv) {
  long llc = argc > 1 ? atol(argv[1]) : 0;
  if (llc <= 0) llc = last_level_cache();
  size_t dram = (size_t)4 * (size_t)llc;
  if (dram < (768u << 20)) dram = 768u << 20;
  if (dram > (2048ul << 20)) dram = 2048ul << 20;
  const size_t sizes[] = {192u << 10, 1536u << 10, 12u << 20, 96u << 20, dram};
  const int ns = sizeof sizes / sizeof sizes[0];
  size_t maxn = sizes[ns - 1] / (3 * sizeof(float));
  float *a = aligned_alloc(64, maxn * sizeof(float)), *b = aligned_alloc(64, maxn * sizeof(float)), *c = aligned_alloc(64, maxn * sizeof(float));
  if (!a || !b || !c) return 1;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < maxn; i++) a[i] = 1.0f, b[i] = 2.0f, c[i] = 0.0f;
  printf("{\"version\":%d,\"threads\":%d,\"fma_gflops\":%.2f,\"llc_bytes\":%ld,\"bandwidth\":[", VERSION, omp_get_max_threads(), fma_peak(), llc);
  for (int i = 0; i < ns; i++) printf("%s{\"bytes\":%zu,\"gbs\":%.2f}", i ? "," : "", sizes[i], bandwidth(sizes[i], a, b, c));
  printf("]}\n");
  return 0;
}
