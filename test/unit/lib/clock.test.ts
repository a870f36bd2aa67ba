import assert from 'node:assert/strict';
import { test } from 'node:test';
import { longTimer, MAX_TIMEOUT_MS } from '../../../src/lib/clock.js';

void test('a delay beyond setTimeout\'s range waits in steps instead of firing at once', async () => {
  let now = 0;
  let fired = 0;
  const h = longTimer(MAX_TIMEOUT_MS * 3, () => fired++, () => now);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(fired, 0, 'not fired after 20 ms');
  h.cancel();
  const inf = longTimer(Infinity, () => fired++, () => now);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(fired, 0, 'Infinity never fires');
  inf.cancel();
  now = 0;
  longTimer(NaN, () => fired++, () => now);
  longTimer(-5, () => fired++, () => now);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(fired, 2, 'NaN and negative delays fire at once');
});
