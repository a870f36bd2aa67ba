/** Per-principal token buckets on an injected clock. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RateBuckets } from '../../../src/operations/rate.js';
import { FakeClock } from '../../fakes/clock.js';

const RATE = { perMinute: 6, burst: 3 };

void it('allows a burst, then one operation per refill period, with Retry-After in whole seconds', async () => {
  const clock = new FakeClock();
  const b = new RateBuckets(clock);
  for (let i = 0; i < 3; i++) assert.deepEqual(b.take('a', RATE), { ok: true });
  assert.deepEqual(b.take('a', RATE), { ok: false, retryAfterS: 10 });
  await clock.advance(4_000);
  assert.deepEqual(b.take('a', RATE), { ok: false, retryAfterS: 6 });
  await clock.advance(6_000);
  assert.deepEqual(b.take('a', RATE), { ok: true });
  assert.deepEqual(b.take('a', RATE), { ok: false, retryAfterS: 10 });
});

void it('keeps one bucket per principal and forgets full ones', async () => {
  const clock = new FakeClock();
  const b = new RateBuckets(clock);
  for (let i = 0; i < 3; i++) b.take('a', RATE);
  assert.deepEqual(b.take('a', RATE).ok, false);
  assert.deepEqual(b.take('b', RATE), { ok: true }, 'another principal has its own bucket');
  assert.equal(b.size, 2);
  await clock.advance(30_000);
  b.take('c', RATE);
  assert.equal(b.size, 1, 'a and b refilled and were forgotten; c is held');
  for (let i = 0; i < 3; i++) assert.deepEqual(b.take('a', RATE), { ok: true }, 'a forgotten bucket is a full one');
});

void it('never refills beyond the burst', async () => {
  const clock = new FakeClock();
  const b = new RateBuckets(clock);
  b.take('a', RATE);
  await clock.advance(3_600_000);
  for (let i = 0; i < 3; i++) assert.deepEqual(b.take('a', RATE), { ok: true });
  assert.equal(b.take('a', RATE).ok, false);
});
