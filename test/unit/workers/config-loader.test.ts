/**
 * The config loader: loads in its thread, and on this side the
 * same coded errors as a load in the main thread (file, line and key); a missing file is a read
 * error; a failed load does not spoil the next one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/config/errors.js';
import { AppError, ErrorCodes } from '../../../src/lib/errors.js';
import { createConfigLoader } from '../../../src/workers/config-loader.js';

// Compiled to dist/test/unit/workers/: the repository root is four levels up.
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/config/', import.meta.url));

void test('good, bad and missing files through the config thread', async (t) => {
  const loader = createConfigLoader({ timeoutMs: 60_000, idleMs: 60_000 });
  t.after(() => loader.close());
  const good = await loader.load(`${FIXTURES}valid-minimal.yaml`);
  assert.ok(Object.isFrozen(good.config), 'frozen on this side');
  await assert.rejects(loader.load(`${FIXTURES}invalid-bool-for-int.yaml`), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.code, ErrorCodes.CFG_ERR_INVALID);
    assert.match(e.message, /invalid-bool-for-int\.yaml:9:17: targets\.web1\.nb_packets: must be an integer \(got true\)/);
    return true;
  });
  await assert.rejects(loader.load(`${FIXTURES}no-such-file.yaml`), (e: unknown) => {
    assert.ok(e instanceof AppError && !(e instanceof ConfigError));
    assert.equal(e.code, ErrorCodes.CFG_ERR_READ);
    assert.match(e.message, /no-such-file\.yaml.*ENOENT/);
    return true;
  });
  assert.deepEqual((await loader.load(`${FIXTURES}valid-minimal.yaml`)).config, good.config, 'the same config again');
});

void test('close() ends the thread at once (what the start-up load does); the next load starts a new one', async (t) => {
  const loader = createConfigLoader({ timeoutMs: 60_000, idleMs: 60_000 });
  t.after(() => loader.close());
  const threadsNow = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  // a first load and close, so that libuv's thread pool (started by the first file read) is counted
  const first = await loader.load(`${FIXTURES}valid-minimal.yaml`);
  await loader.close();
  const before = threadsNow();
  await loader.load(`${FIXTURES}valid-minimal.yaml`);
  assert.equal(threadsNow(), before + 1, 'the thread stays for the next load');
  await loader.close();
  assert.equal(threadsNow(), before, 'closed: the thread is gone');
  assert.deepEqual((await loader.load(`${FIXTURES}valid-minimal.yaml`)).config, first.config);
});
