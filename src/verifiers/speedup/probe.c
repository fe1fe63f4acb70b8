/* probe.c — this machine's physical limits for the roofline bound of the speedup verifier (see
 * docs/kernels.md, "The roofline"): achievable memory bandwidth at several working-set sizes (from
 * the caches to DRAM) and the fused multiply-add peak, each with every core busy (OpenMP, one
 * thread per core). Run once per machine and cached (src/verifiers/speedup/roofline.ts).
 * Prints one JSON object:
 *   {"version":3,"threads":T,"fma_gflops":G,"llc_bytes":L,"bandwidth":[{"bytes":B,"gbs":X},...]}
 * (llc_bytes: the last-level cache's size, 0 when unknown; the last working set is at least 4x it).
 * bandwidth: the best of reading two arrays and writing a third (c = a + s*b, "triad") and reading
 * one (sum), bytes = everything read and written per pass, best of several passes. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VERSION 3

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* GB/s of the best pass over a working set of `bytes` (three arrays for the triad). */
static double bandwidth(size_t bytes, float *a, float *b, float *c) {
  size_t n = bytes / (3 * sizeof(float));
  double best = 0;
  /* enough passes that one measurement takes ~40 ms */
  int passes = (int)(4e8 / (double)bytes) + 1;
  volatile float sink = 0;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = now();
    for (int p = 0; p < passes; p++) {
#pragma omp parallel for simd schedule(static)
      for (size_t i = 0; i < n; i++) c[i] = a[i] + 0.5f * b[i];
    }
    double t = now() - t0;
    double gbs = (double)passes * 12.0 * (double)n / t / 1e9;
    if (gbs > best) best = gbs;
    t0 = now();
    float total = 0;
    for (int p = 0; p < passes; p++) {
      float s = 0;
#pragma omp parallel for simd schedule(static) reduction(+ : s)
      for (size_t i = 0; i < n; i++) s += a[i] + b[i] + c[i];
      total += s;
    }
    sink += total;
    t = now() - t0;
    gbs = (double)passes * 12.0 * (double)n / t / 1e9;
    if (gbs > best) best = gbs;
  }
  (void)sink;
  return best;
}

typedef float v16 __attribute__((vector_size(64)));

/* GFLOP/s of independent FMA chains on every thread (2 flops per lane per FMA). */
static double fma_peak(void) {
  const long iters = 10000000;
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = now();
    float out = 0;
#pragma omp parallel reduction(+ : out)
    {
      v16 acc[12], m, add;
      for (int i = 0; i < 16; i++) m[i] = 0.999999f, add[i] = 1e-7f;
      for (int k = 0; k < 12; k++)
        for (int i = 0; i < 16; i++) acc[k][i] = (float)(k + i + omp_get_thread_num());
      for (long it = 0; it < iters; it++)
        for (int k = 0; k < 12; k++) acc[k] = acc[k] * m + add;
      for (int k = 0; k < 12; k++)
        for (int i = 0; i < 16; i++) out += acc[k][i];
    }
    double t = now() - t0;
    double gf = (double)omp_get_max_threads() * (double)iters * 12 * 16 * 2 / t / 1e9;
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
