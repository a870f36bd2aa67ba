// Percentile with linear interpolation between closest ranks: k = (n - 1) * p / 100
// (numpy's default "linear" method, which netprobify uses).

/** `sortedValues` must be sorted ascending; returns 0 for an empty list (netprobify's convention). */
export function percentile(sortedValues: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within [0, 100], got ${p}`);
  const n = sortedValues.length;
  if (n === 0) return 0;
  for (let i = 1; i < n; i++) {
    if ((sortedValues[i] as number) < (sortedValues[i - 1] as number)) {
      throw new Error('percentile: values are not sorted ascending');
    }
  }
  const k = ((n - 1) * p) / 100;
  const lo = Math.floor(k);
  const hi = Math.ceil(k);
  const a = sortedValues[lo] as number;
  const b = sortedValues[hi] as number;
  return lo === hi ? a : a + (b - a) * (k - lo);
}
