import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { AppError } from '../../../src/lib/errors.js';
import { createWorkerPool } from '../../../src/workers/pool.js';

void test('a pool without a task loads no piscina; a closed pool refuses tasks', async () => {
  const url = pathToFileURL(createRequire(import.meta.url).resolve('../../../src/workers/pool.js')).href;
  const script = `
    import { createRequire } from 'node:module';
    const { createWorkerPool } = await import(${JSON.stringify(url)});
    const pool = createWorkerPool({ minThreads: 0, maxThreads: 1 });
    await pool.close();
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /node_modules[\\\\/]piscina[\\\\/]/.test(k));
    process.stdout.write(pool.completed() + ' ' + loaded.length);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '0 0');

  const pool = createWorkerPool({ minThreads: 0, maxThreads: 1 });
  await pool.close();
  await assert.rejects(pool.run('decodeBatch', { batch: new Uint8Array(0), used: 0 }), (e: unknown) => e instanceof AppError && e.code === 'SVC_ERR_STATE');
});

void test('a pool whose module cannot load fails each task with a coded error, not an unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => {
    unhandled.push(e);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    let loads = 0;
    const pool = createWorkerPool({
      minThreads: 1,
      maxThreads: 1,
      loadPiscina: () => {
        loads++;
        return Promise.reject(new Error('no such module'));
      },
    });
    // the eager start has failed by now; give a rejection without a handler the turns it needs to be reported
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(unhandled, []);
    const isStartError = (e: unknown): boolean => e instanceof AppError && e.code === 'SVC_ERR_START' && /no such module/.test(e.message);
    await assert.rejects(pool.run('decodeBatch', { batch: new Uint8Array(0), used: 0 }), isStartError);
    await assert.rejects(pool.run('decodeBatch', { batch: new Uint8Array(0), used: 0 }), isStartError);
    assert.equal(loads, 1);
    assert.equal(pool.completed(), 0);
    await pool.close();
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
