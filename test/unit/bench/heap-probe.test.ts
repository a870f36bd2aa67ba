/**
 * The preloaded heap probe: a worker thread writes its own heap to `<file>.thread-<id>`, never to
 * the main thread's file, and readWorkerHeaps() takes only the threads that wrote lately.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { installHeapProbe, readWorkerHeaps } from '../../../bench/heap-probe.js';

void test('a worker thread writes its heap and spaces to a file of its own', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'heap-probe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const probe = installHeapProbe(dir, 't');
  // the probe's interval does not keep a thread alive: the thread waits 1.2 s
  const w = new Worker(`import(${JSON.stringify(probe.module)}).then(() => setTimeout(() => {}, 1200));`, { eval: true });
  await new Promise((resolve) => w.once('exit', resolve));
  assert.equal(existsSync(probe.file), false, 'the main thread\'s file is not written by a worker');
  const heaps = readWorkerHeaps(probe.file, 60_000);
  assert.equal(heaps.length, 1);
  const h = heaps[0]!;
  assert.ok(h.v8.total_heap_size > 0);
  assert.ok(h.spaces.old![0] > 0, JSON.stringify(h.spaces));
  assert.ok(h.spaces.code !== undefined);
});

void test('readWorkerHeaps() skips the threads that have not written within maxAgeMs, and other files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'heap-probe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'heap-x.json');
  const heap = (at: number): string => JSON.stringify({ at, v8: { total_heap_size: at }, spaces: {} });
  writeFileSync(`${file}.thread-1`, heap(10_000));
  writeFileSync(`${file}.thread-2`, heap(8_000));
  writeFileSync(`${file}.thread-3`, '{"at": 99');
  writeFileSync(join(dir, 'heap-y.json.thread-4'), heap(10_000));
  assert.deepEqual(readWorkerHeaps(file, 1500, 10_500).map((h) => h.at), [10_000]);
});
