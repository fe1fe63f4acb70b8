// Statistics used by reports. Pure functions, no I/O; every random draw comes from a seeded RNG so
// a report computed twice from the same rollouts prints the same intervals.

/** A small, fast, seeded PRNG (mulberry32). Returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** Quantile with linear interpolation between order statistics (type 7, as numpy/R default). */
export function quantile(xs: readonly number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return quantileSorted(s, q);
}

export function quantileSorted(s: readonly number[], q: number): number {
  const pos = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export interface Interval {
  lo: number;
  hi: number;
}

export type CiMethod = 'cluster' | 'stratified' | 'none';

export interface BootstrapResult {
  mean: number;
  ci: Interval | null;
  /** How tasks were resampled (see bootstrapMean). */
  method: CiMethod;
  /** Number of resamples drawn. */
  resamples: number;
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  seed?: number;
  /** Confidence level (default 0.95). */
  confidence?: number;
  /** Fewest clusters for a cluster bootstrap; below it, tasks are resampled within each cluster (default 5). */
  minClusters?: number;
}

/**
 * Percentile-bootstrap confidence interval for the mean over units (tasks), clustered by `cluster`
 * (the task family). With at least `minClusters` clusters, whole clusters are resampled with
 * replacement (the cluster bootstrap: tasks of one family are correlated, so they move together).
 * With fewer clusters a cluster bootstrap would have too few distinct resamples to mean anything;
 * units are then resampled within each cluster, keeping each cluster's size (a stratified bootstrap).
 * One unit gives no interval.
 */
export function bootstrapMean(units: readonly { value: number; cluster: string }[], opts: BootstrapOptions = {}): BootstrapResult | null {
  const n = units.length;
  if (n === 0) return null;
  const m = mean(units.map((u) => u.value))!;
  const B = opts.resamples ?? 2000;
  if (n < 2 || B < 1) return { mean: m, ci: null, method: 'none', resamples: 0 };
  const random = rng(opts.seed ?? 1);
  const conf = opts.confidence ?? 0.95;
  const groups = new Map<string, number[]>();
  for (const u of units) {
    const g = groups.get(u.cluster);
    if (g) g.push(u.value);
    else groups.set(u.cluster, [u.value]);
  }
  const clusters = [...groups.values()];
  const method: CiMethod = clusters.length >= (opts.minClusters ?? 5) ? 'cluster' : 'stratified';
  const stats = new Float64Array(B);
  if (method === 'cluster') {
    const sums = clusters.map(sum);
    const sizes = clusters.map((c) => c.length);
    const k = clusters.length;
    for (let b = 0; b < B; b++) {
      let s = 0;
      let c = 0;
      for (let i = 0; i < k; i++) {
        const j = Math.floor(random() * k);
        s += sums[j]!;
        c += sizes[j]!;
      }
      stats[b] = s / c;
    }
  } else {
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (const c of clusters) for (let i = 0; i < c.length; i++) s += c[Math.floor(random() * c.length)]!;
      stats[b] = s / n;
    }
  }
  stats.sort();
  const alpha = (1 - conf) / 2;
  return { mean: m, ci: { lo: quantileSorted(stats as unknown as number[], alpha), hi: quantileSorted(stats as unknown as number[], 1 - alpha) }, method, resamples: B };
}

/**
 * The unbiased pass@k estimator (Chen et al., 2021) for one task with n samples of which c passed:
 * 1 - C(n-c, k) / C(n, k), computed as a product to stay exact for large n. Requires 1 ≤ k ≤ n.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || k < 1 || k > n || c < 0 || c > n) {
    throw new RangeError(`pass@k needs integers 0 ≤ c ≤ n and 1 ≤ k ≤ n (n=${n}, c=${c}, k=${k})`);
  }
  if (n - c < k) return 1;
  let p = 1;
  for (let i = n - c + 1; i <= n; i++) p *= 1 - k / i;
  return 1 - p;
}

/** Share of values ≥ x at each distinct x (a survival curve, starting at x = 0 with share 1). */
export function survival(values: readonly number[]): [number, number][] {
  if (values.length === 0) return [];
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  const pts: [number, number][] = [[0, 1]];
  let i = 0;
  while (i < n) {
    const x = s[i]!;
    let j = i;
    while (j < n && s[j] === x) j++;
    // After x, the rollouts that stopped at x are no longer working.
    if (x === 0) pts[0] = [0, (n - j) / n];
    else pts.push([x, (n - j) / n]);
    i = j;
  }
  return pts;
}

/** Smallest and largest value (no spread: safe for arrays of any length). */
export function extent(xs: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return lo === Infinity ? null : [lo, hi];
}

/** Ranks of values, 1 = highest, ties sharing the mean of the ranks they span (fractional ranking). */
export function averageRanks(values: readonly number[], eps = 1e-12): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => b.v - a.v);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && Math.abs(order[j + 1]!.v - order[i]!.v) <= eps) j++;
    const r = (i + 1 + j + 1) / 2;
    for (let k = i; k <= j; k++) ranks[order[k]!.i] = r;
    i = j + 1;
  }
  return ranks;
}

/**
 * Kendall's coefficient of concordance W, with the correction for ties: `rows` are the raters (here
 * tasks), each giving one value per item (here harnesses, the same order in every row); each row is
 * ranked with averageRanks. W = 12·S / (m²(n³ − n) − m·Σ T), S = Σᵢ (Rᵢ − m(n + 1)/2)², Rᵢ the rank
 * sum of item i, T = Σ (t³ − t) over the groups of t tied items in one row. 1: every row ranks the
 * items alike; 0: no agreement. Null with fewer than 2 rows or 2 items, or when every row is all
 * ties (nothing is ranked).
 */
export function kendallW(rows: readonly (readonly number[])[]): number | null {
  const m = rows.length;
  const n = rows[0]?.length ?? 0;
  if (m < 2 || n < 2) return null;
  const sums = new Array<number>(n).fill(0);
  let ties = 0;
  for (const row of rows) {
    if (row.length !== n) throw new RangeError('kendallW: every row needs one value per item');
    const r = averageRanks(row);
    r.forEach((x, i) => (sums[i]! += x));
    const counts = new Map<number, number>();
    for (const x of r) counts.set(x, (counts.get(x) ?? 0) + 1);
    for (const t of counts.values()) ties += t * t * t - t;
  }
  const mid = (m * (n + 1)) / 2;
  const s = sums.reduce((a, x) => a + (x - mid) ** 2, 0);
  const denom = m * m * (n * n * n - n) - m * ties;
  return denom > 0 ? (12 * s) / denom : null;
}

/**
 * Cohen's kappa for two raters' pass/fail verdicts on the same items: (pₒ − pₑ) / (1 − pₑ), pₒ the
 * share of items both judged alike, pₑ = pa·pb + (1 − pa)(1 − pb) the agreement expected by chance
 * from each rater's pass share. Null with no items, or when pₑ = 1 (both raters gave one and the
 * same verdict to every item: agreement is total and says nothing beyond chance).
 */
export function cohenKappa(pairs: readonly (readonly [boolean, boolean])[]): number | null {
  const n = pairs.length;
  if (n === 0) return null;
  let same = 0;
  let pa = 0;
  let pb = 0;
  for (const [a, b] of pairs) {
    if (a === b) same++;
    if (a) pa++;
    if (b) pb++;
  }
  const po = same / n;
  const pe = (pa / n) * (pb / n) + (1 - pa / n) * (1 - pb / n);
  return pe >= 1 - 1e-12 ? null : (po - pe) / (1 - pe);
}

/** Sample standard deviation (n − 1); null below 2 values. */
export function stdev(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs)!;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
