import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MinHeap } from '../../../src/lib/heap.js';

void test('pops in key order, including after removals', () => {
  const h = new MinHeap<{ k: number }>((x) => x.k);
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const keys = Array.from({ length: 1000 }, () => Math.floor(rnd() * 500));
  for (const k of keys) h.push({ k });
  h.removeWhere((x) => x.k % 3 === 0);
  const out: number[] = [];
  for (let x = h.pop(); x; x = h.pop()) out.push(x.k);
  assert.deepEqual(out, keys.filter((k) => k % 3 !== 0).sort((a, b) => a - b));
  assert.equal(h.size, 0);
  assert.equal(h.peek(), undefined);
});
