/** Target lifetimes with a fake clock: defaults, limits, expiry through one bounded timer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TIMER_MS } from '../../src/api/store.js';
import { FakeClock } from '../fakes/clock.js';
import { call, codeOf, configText, startApi, TOKENS_API, WRITE_TOKEN } from './api-harness.js';

const W = { token: WRITE_TOKEN };
const body = (name: string, lifetime?: number): Record<string, unknown> => ({
  name,
  type: 'ICMPping',
  destination: '198.18.2.1',
  ...(lifetime === undefined ? {} : { lifetime }),
});

void test('targets expire on time, one timer at a time; expires_at is reported', async () => {
  const clock = new FakeClock();
  const h = await startApi(configText(`${TOKENS_API}\n  default_lifetime: 60\n  max_lifetime: 3600`), { clock });
  try {
    const a = await call(h, 'POST', '/api/v1/targets', { ...W, body: body('a') });
    assert.equal((a.body as { expires_at: string }).expires_at, new Date(clock.wallMs() + 60_000).toISOString());
    await call(h, 'POST', '/api/v1/targets', { ...W, body: body('b', 120) });
    await call(h, 'POST', '/api/v1/targets', { ...W, body: body('c', 3600) });
    assert.equal(clock.pendingTimers, 1);
    await clock.advance(59_999);
    assert.deepEqual(h.sources.names('api'), ['a', 'b', 'c']);
    await clock.advance(1);
    assert.deepEqual(h.sources.names('api'), ['b', 'c']);
    assert.equal((await call(h, 'GET', '/api/v1/targets/a', W)).status, 404);
    await clock.advance(60_000);
    assert.deepEqual(h.sources.names('api'), ['c']);
    assert.equal(clock.pendingTimers, 1);
    assert.match(await h.registry.metrics(), /wireprobe_api_expired_targets_total 2/);
    assert.ok(h.lines.some((l) => l.includes('msg="API targets expired"') && l.includes('targets=b')));
  } finally {
    await h.close();
  }
});

void test('PUT restarts the lifetime; PATCH keeps it unless it sets lifetime', async () => {
  const clock = new FakeClock();
  const h = await startApi(configText(`${TOKENS_API}\n  max_lifetime: 1000`), { clock });
  try {
    await call(h, 'POST', '/api/v1/targets', { ...W, body: body('t', 100) });
    await clock.advance(50_000);
    const patched = await call(h, 'PATCH', '/api/v1/targets/t', { ...W, body: { nb_packets: 2 } });
    assert.equal((patched.body as { expires_at: string }).expires_at, new Date(clock.wallBase + 100_000).toISOString());
    const put = await call(h, 'PUT', '/api/v1/targets/t', { ...W, body: body('t', 100) });
    assert.equal((put.body as { expires_at: string }).expires_at, new Date(clock.wallBase + 150_000).toISOString());
    await clock.advance(60_000);
    assert.deepEqual(h.sources.names('api'), ['t']);
    const longer = await call(h, 'PATCH', '/api/v1/targets/t', { ...W, body: { lifetime: 1000 } });
    assert.equal((longer.body as { expires_at: string }).expires_at, new Date(clock.wallMs() + 1_000_000).toISOString());
  } finally {
    await h.close();
  }
});

void test('lifetime limits: above max_lifetime or 0 with a max is refused; default max_lifetime 0 allows never', async () => {
  const h = await startApi(configText(`${TOKENS_API}\n  max_lifetime: 600`));
  try {
    for (const lifetime of [0, 601, 1.5]) {
      const r = await call(h, 'POST', '/api/v1/targets', { ...W, body: body('x', lifetime) });
      assert.equal(r.status, 422, String(lifetime));
      assert.equal(codeOf(r), 'API_ERR_VALIDATION');
    }
    const d = await call(h, 'POST', '/api/v1/targets', { ...W, body: body('x') });
    assert.equal(d.status, 201);
    assert.notEqual((d.body as { expires_at: unknown }).expires_at, null, 'default_lifetime defaults to max_lifetime');
  } finally {
    await h.close();
  }
  const open = await startApi(configText(TOKENS_API));
  try {
    const r = await call(open, 'POST', '/api/v1/targets', { ...W, body: body('forever', 0) });
    assert.equal((r.body as { expires_at: unknown }).expires_at, null);
  } finally {
    await open.close();
  }
});

void test('a far expiry re-arms the timer at most every MAX_TIMER_MS (no timer overflow)', async () => {
  const clock = new FakeClock();
  const h = await startApi(configText(TOKENS_API), { clock });
  try {
    await call(h, 'POST', '/api/v1/targets', { ...W, body: body('far', 40 * 86400) });
    await clock.advance(MAX_TIMER_MS);
    assert.equal(clock.pendingTimers, 1);
    assert.deepEqual(h.sources.names('api'), ['far']);
    await clock.advance(40 * 86400_000);
    assert.deepEqual(h.sources.names('api'), []);
    assert.equal(clock.pendingTimers, 0);
  } finally {
    await h.close();
  }
});

void test('stop() cancels the expiry timer and later requests get 503', async () => {
  const clock = new FakeClock();
  const h = await startApi(configText(`${TOKENS_API}\n  max_lifetime: 60`), { clock });
  await call(h, 'POST', '/api/v1/targets', { ...W, body: body('s') });
  await h.api.stop();
  assert.equal(clock.pendingTimers, 0);
  const r = await call(h, 'GET', '/api/v1/targets', W);
  assert.equal(r.status, 503);
  assert.equal(codeOf(r), 'API_ERR_UNAVAILABLE');
  await h.close();
});
