import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lookupRoutes } from '../../../src/targets/routes.js';
import { memoryLogger } from '../../fakes/logger.js';

void test('lookupRoutes: one lookup for every address; a failure is logged and leaves no route', async () => {
  const { log, lines } = memoryLogger();
  const signal = new AbortController().signal;
  const asked: (readonly string[])[] = [];
  const ok = await lookupRoutes({
    lookup: (addrs) => {
      asked.push(addrs);
      return Promise.resolve(new Map([['198.18.0.1', { dev: 'veth0', prefsrc: null }]]));
    },
  }, ['198.18.0.1', '198.18.0.2'], signal, log);
  assert.deepEqual(asked, [['198.18.0.1', '198.18.0.2']]);
  assert.deepEqual([...ok.keys()], ['198.18.0.1']);
  const failed = await lookupRoutes({ lookup: () => Promise.reject(new Error('netlink down')) }, ['198.18.0.1'], signal, log);
  assert.equal(failed.size, 0);
  assert.ok(lines.some((l) => l.includes('route lookup failed') && l.includes('netlink down')));
});
