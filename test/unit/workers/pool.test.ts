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
