import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCodes, type AppError } from '../../../src/lib/errors.js';
import { createRouteResolver, parseRouteBatch } from '../../../src/net/route.js';

void test('ip -json -batch output maps each destination to its device and source', () => {
  // as printed by iproute2 6.1 for `route get` of three addresses, one of them unroutable
  const out = [
    '[{"type":"local","dst":"127.0.0.1","dev":"lo","prefsrc":"127.0.0.1","flags":[],"uid":0,"cache":["local"]}]',
    '[{"dst":"198.19.0.7","gateway":"198.18.0.1","dev":"veth0","prefsrc":"198.18.0.2","flags":[],"uid":0,"cache":[]}]',
    '[{"dst":"2001:db8:1::1","from":"::","gateway":"2001:db8::1","dev":"veth0","protocol":"static","prefsrc":"2001:db8::2","metric":1024,"flags":[],"pref":"medium"}]',
    'not json',
    '[{"dst":"192.0.2.1"}]',
  ].join('\n');
  const m = parseRouteBatch(out);
  assert.deepEqual([...m.entries()], [
    ['127.0.0.1', { dev: 'lo', prefsrc: '127.0.0.1' }],
    ['198.19.0.7', { dev: 'veth0', prefsrc: '198.18.0.2' }],
    ['2001:db8:1::1', { dev: 'veth0', prefsrc: '2001:db8::2' }],
  ]);
});

/** how many combined signals AbortSignal.any registered on `s` (Node 20 keeps each for the life of `s`) */
function dependants(s: AbortSignal): number {
  const k = Object.getOwnPropertySymbols(s).find((x) => x.description === 'kDependantSignals');
  return k === undefined ? 0 : ((s as unknown as Record<symbol, Set<unknown> | undefined>)[k]?.size ?? 0);
}

void test('route lookups leave nothing behind on the long-lived signal they are given', async () => {
  // the probe sees what AbortSignal.any leaves behind (so this test fails where it is used)
  const scratch = new AbortController();
  AbortSignal.any([scratch.signal, AbortSignal.timeout(60_000)]);
  assert.equal(dependants(scratch.signal), 1, 'the probe of AbortSignal.any registrations works on this Node');

  const app = new AbortController();
  const resolver = createRouteResolver('true', 60_000);
  for (let i = 0; i < 20; i++) assert.equal((await resolver.lookup(['198.18.0.1'], app.signal)).size, 0);
  assert.equal(dependants(app.signal), 0, 'no combined signal registered on the app signal');
  assert.equal(getEventListeners(app.signal, 'abort').length, 0, 'no listener left on the app signal');
});

void test('a route lookup that does not end is killed at its timeout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wp-route-'));
  const ip = join(dir, 'ip');
  writeFileSync(ip, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
  try {
    const app = new AbortController();
    const t0 = performance.now();
    await assert.rejects(createRouteResolver(ip, 100).lookup(['198.18.0.1'], app.signal), (e: AppError) => e.code === ErrorCodes.NET_ERR_ROUTE);
    assert.ok(performance.now() - t0 < 10_000, 'ended by the timeout, not by the child');
    assert.equal(getEventListeners(app.signal, 'abort').length, 0, 'no listener left on the app signal');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
