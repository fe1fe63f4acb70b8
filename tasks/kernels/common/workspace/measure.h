/* measure.h — the grader's small helpers: the clock, quantiles, checking an output against a
 * reference (per OutputSegment), and writing JSON. Grader only (never linked into a worker). */
#ifndef OUTLAST_MEASURE_H
#define OUTLAST_MEASURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver.h"

static inline double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
/* quantile q in [0,1] of n values (sorted copy, linear interpolation); NaN for n = 0 */
static inline double quantile(const double *v, int n, double q) {
  if (n <= 0) return NAN;
  double *s = (double *)malloc(sizeof(double) * (size_t)n);
  memcpy(s, v, sizeof(double) * (size_t)n);
  qsort(s, (size_t)n, sizeof(double), cmp_double);
  double pos = q * (n - 1);
  int i = (int)pos;
  double f = pos - i;
  double r = (i + 1 < n) ? s[i] * (1 - f) + s[i + 1] * f : s[i];
  free(s);
  return r;
}

typedef struct {
  int ok;
  double rel_err; /* worst relative L2 error over the segments */
  char why[300];
} Check;

/* Compare out[seg] with a reference given as doubles (ref64) or floats (ref32), segment by segment:
 * every element finite, relative L2 error <= the segment's tol, no element off by more than
 * 10*tol*max|ref| of its segment. Elements outside every segment must still be finite. */
static inline Check check_output(const float *out, const double *ref64, const float *ref32, size_t n, const OutputSegment *seg, int nseg) {
  Check c = {1, 0, ""};
  for (size_t i = 0; i < n; i++)
    if (!isfinite(out[i])) {
      c.ok = 0;
      snprintf(c.why, sizeof c.why, "output element %zu is not finite (NaN/Inf, or never written)", i);
      return c;
    }
  for (int s = 0; s < nseg; s++) {
    double num = 0, den = 0, maxref = 0, maxerr = 0;
    size_t end = seg[s].offset + seg[s].len;
    for (size_t i = seg[s].offset; i < end && i < n; i++) {
      double r = ref64 ? ref64[i] : (double)ref32[i], d = (double)out[i] - r;
      num += d * d;
      den += r * r;
      if (fabs(r) > maxref) maxref = fabs(r);
      if (fabs(d) > maxerr) maxerr = fabs(d);
    }
    double rel = den > 0 ? sqrt(num / den) : sqrt(num);
    if (rel > c.rel_err || isnan(rel)) c.rel_err = rel;
    if (!c.ok) continue;
    double tol = seg[s].tol;
    if (!(rel <= tol)) {
      c.ok = 0;
      snprintf(c.why, sizeof c.why, "%s: relative error %.3g exceeds the bound %.3g", seg[s].name, rel, tol);
    } else if (!(maxerr <= 10 * tol * maxref + 1e-30)) {
      c.ok = 0;
      snprintf(c.why, sizeof c.why, "%s: an element is off by %.3g, above 10*tol*max|ref| = %.3g", seg[s].name, maxerr, 10 * tol * maxref);
    }
  }
  return c;
}

static inline void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
    else if (ch < 0x20 || ch >= 0x7f) fprintf(f, "\\u%04x", ch);
    else fputc(ch, f);
  }
  fputc('"', f);
}
static inline void json_num(FILE *f, double x) {
  if (isfinite(x)) fprintf(f, "%.6g", x);
  else fputs("null", f);
}

#endif
