/**
 * Percentile by linear interpolation between closest ranks (k = (n-1)·p/100), the method
 * netprobify uses (numpy "linear"), so reported values stay comparable after migration.
 * `sorted` must be ascending. Returns NaN for no samples (netprobify reported 0, which hid
 * total loss behind a perfect latency).
 */
export function percentile(sorted: ArrayLike<number>, p: number, n = sorted.length): number {
  if (n === 0) return NaN;
  const k = ((n - 1) * p) / 100;
  const lo = Math.floor(k);
  const hi = Math.ceil(k);
  const a = sorted[lo]!;
  if (lo === hi) return a;
  return a + (sorted[hi]! - a) * (k - lo);
}
