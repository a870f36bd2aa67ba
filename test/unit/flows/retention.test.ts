import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planPartitionRetention, planSqliteRetention, SIZE_LOW_WATER } from '../../../src/flows/store/retention.js';

const MB = 1 << 20;
const space = (pages: number, free: number, storedBytes = 1_000_000) => ({ pageSize: 4096, pageCount: pages, freelistCount: free, storedBytes });

void test('no limits: nothing to delete; a large free list is still halved', () => {
  assert.deepEqual(planSqliteRetention(1e12, { max_age: 0, max_bytes: 0 }, space(1000, 10)), { endBeforeMs: null, deleteBytes: null, vacuumPages: 0 });
  assert.equal(planSqliteRetention(1e12, { max_age: 0, max_bytes: 0 }, space(1000, 400)).vacuumPages, 200);
});

void test('age: the cut-off is now minus max_age', () => {
  assert.equal(planSqliteRetention(10_000_000, { max_age: 3600, max_bytes: 0 }, space(10, 0)).endBeforeMs, 10_000_000 - 3_600_000);
});

void test('size: below the high-water mark nothing goes; above it, the oldest share down to the low-water mark', () => {
  const limit = { max_age: 0, max_bytes: 4 * MB };
  assert.equal(planSqliteRetention(0, limit, space(900, 0)).deleteBytes, null); // 3.5 MiB used < 90 %
  const plan = planSqliteRetention(0, limit, space(1024, 0, 4_000_000)); // 4 MiB used
  const share = 1 - SIZE_LOW_WATER * (4 * MB) / (1024 * 4096);
  assert.equal(plan.deleteBytes, Math.ceil(4_000_000 * share));
  // free pages are not counted as used: they are reused by inserts
  assert.equal(planSqliteRetention(0, limit, space(1024, 300)).deleteBytes, null);
  assert.equal(planSqliteRetention(0, limit, space(1100, 200, 0)).deleteBytes, null, 'no flow data');
});

void test('size: the file is truncated back to max_bytes from its free pages', () => {
  const limit = { max_age: 0, max_bytes: 4 * MB };
  assert.equal(planSqliteRetention(0, limit, space(1100, 200)).vacuumPages, 1100 - 1024);
  assert.equal(planSqliteRetention(0, limit, space(1100, 30)).vacuumPages, 30);
  assert.equal(planSqliteRetention(0, limit, space(1000, 100)).vacuumPages, 0);
});

void test('partitions: by age whole partitions past max_age; by size the oldest past ones until the total fits', () => {
  const H = 3_600_000;
  const now = 10 * H + 1;
  const parts = [0, 1, 2, 8, 9, 10, 11].map((h) => ({ name: `p${h}`, fromMs: h * H, toMs: (h + 1) * H, bytes: 100 }));
  assert.deepEqual(planPartitionRetention(now, { max_age: 2 * 3600, max_bytes: 0 }, parts), ['p0', 'p1', 'p2']);
  assert.deepEqual(planPartitionRetention(now, { max_age: 0, max_bytes: 450 }, parts), ['p0', 'p1', 'p2']);
  assert.deepEqual(planPartitionRetention(now, { max_age: 0, max_bytes: 1 }, parts), ['p0', 'p1', 'p2', 'p8', 'p9'], 'never the current or a future partition');
  assert.deepEqual(planPartitionRetention(now, { max_age: 0, max_bytes: 0 }, parts), []);
});
