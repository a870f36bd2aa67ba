import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentile } from '../../../src/stats/percentile.js';
import { sortPrefix } from '../../../src/scheduler/round.js';

void test('linear interpolation between closest ranks (numpy "linear")', () => {
  const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(percentile(v, 50), 5.5);
  assert.equal(percentile(v, 95), 9.55);
  assert.equal(percentile(v, 100), 10);
  assert.equal(percentile([0.004], 95), 0.004);
  assert.equal(percentile([1, 3], 25), 1.5);
  assert.ok(Number.isNaN(percentile([], 50)));
  // only the first n values count
  assert.equal(percentile(Float64Array.from([1, 2, 99]), 100, 2), 2);
});

void test('sortPrefix sorts only the valid prefix, small and large', () => {
  for (const n of [0, 1, 2, 5, 32, 33, 500]) {
    const a = Float64Array.from({ length: n + 3 }, (_, i) => (i < n ? ((i * 7919) % 101) / 7 : -1));
    const want = Array.from(a.subarray(0, n)).sort((x, y) => x - y);
    sortPrefix(a, n);
    assert.deepEqual(Array.from(a.subarray(0, n)), want);
    assert.deepEqual(Array.from(a.subarray(n)), [-1, -1, -1]);
  }
});
