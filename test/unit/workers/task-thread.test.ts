/**
 * The task thread: tasks in a row share one thread; it ends after idleMs without a task and then
 * does not keep the process alive; a task over its timeout or a failed one ends the thread and the
 * next task gets a fresh one; tasks called together run one at a time, in call order.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { ErrorCodes } from '../../../src/lib/errors.js';
import { createTaskThread, type TaskThread } from '../../../src/workers/task-thread.js';
import type { TestTasks } from './task-thread-tasks.js';

const entry = new URL('./task-thread-tasks.js', import.meta.url);
const T = 10_000;

function thread(idleMs: number, t: { after: (fn: () => Promise<void>) => void }, resourceLimits?: ResourceLimits): TaskThread<TestTasks> {
  const th = createTaskThread<TestTasks>({ entry, idleMs, ...(resourceLimits === undefined ? {} : { resourceLimits }) });
  t.after(() => th.close());
  return th;
}

void test('tasks in a row run in the same thread', async (t) => {
  const th = thread(60_000, t);
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(await th.run('threadId', null, T));
  assert.equal(new Set(ids).size, 1, `thread ids ${ids.join(',')}`);
  assert.equal(th.started(), 1);
  assert.equal(th.alive(), true);
});

void test('the thread has the heap limits asked for', async (t) => {
  assert.equal(await thread(60_000, t, { maxYoungGenerationSizeMb: 3 }).run('youngGenerationMb', null, T), 3);
});

void test('the thread ends after idleMs without a task; the next task starts a new one', async (t) => {
  const th = thread(1000, t);
  const first = await th.run('threadId', null, T);
  await sleep(100);
  assert.equal(await th.run('threadId', null, T), first, 'within idleMs of the last task: the same thread');
  await sleep(2500);
  assert.equal(th.alive(), false, 'ended after idleMs');
  const second = await th.run('threadId', null, T);
  assert.notEqual(second, first);
  assert.equal(th.started(), 2);
});

void test('a last task ends its thread once answered, without waiting for idleMs; the next task starts a new one', async (t) => {
  const th = thread(60_000, t);
  const threadsNow = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  const before = threadsNow();
  const first = await th.run('threadId', null, T, true);
  assert.equal(th.alive(), false);
  for (let i = 0; i < 100 && threadsNow() > before; i++) await sleep(20);
  assert.equal(threadsNow(), before, 'the thread ended by itself');
  const second = await th.run('threadId', null, T);
  assert.notEqual(second, first);
  assert.equal(th.started(), 2);
  assert.equal(await th.run('threadId', null, T), second, 'a task that is not last keeps its thread');
});

void test('an idle thread does not keep the process alive', () => {
  // a process whose only task ended, with a thread that would stay idle for 10 min, exits by itself
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('./task-thread-idle-child.js', import.meta.url))], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+$/);
  assert.ok(Date.now() - t0 < 30_000, `exited after ${Date.now() - t0} ms`);
});

void test('a task over its timeout fails, ends its thread, and the next task gets a new thread', async (t) => {
  const th = thread(60_000, t);
  // the thread answers once first: it is not ended while it still loads its modules
  const first = await th.run('threadId', null, T);
  const t0 = Date.now();
  await assert.rejects(th.run('sleep', { ms: 20_000 }, 300), (e: Error & { code?: string }) => {
    assert.equal(e.code, ErrorCodes.OP_ERR_TIMEOUT);
    assert.match(e.message, /sleep: no result within 300 ms/);
    return true;
  });
  assert.ok(Date.now() - t0 < 5000, `failed after ${Date.now() - t0} ms`);
  assert.equal(th.alive(), false);
  const second = await th.run('threadId', null, T);
  assert.notEqual(second, first);
  assert.equal(th.started(), 2);
  assert.equal(await th.run('sleep', { ms: 10 }, T), 10, 'the new thread works');
});

void test('a failed task ends its thread; the next task gets a new thread', async (t) => {
  const th = thread(60_000, t);
  const first = await th.run('threadId', null, T);
  await assert.rejects(th.run('crash', null, T), /task failed on purpose/);
  assert.notEqual(await th.run('threadId', null, T), first);
  assert.equal(th.started(), 2);
});

void test('tasks called together run one at a time, in call order, in one thread', async (t) => {
  const th = thread(60_000, t);
  const done: string[] = [];
  const a = th.run('sleep', { ms: 300 }, T).then((v) => done.push(`a${v}`));
  const b = th.run('sleep', { ms: 10 }, T).then((v) => done.push(`b${v}`));
  const c = th.run('threadId', null, T).then(() => done.push('c'));
  await Promise.all([a, b, c]);
  assert.deepEqual(done, ['a300', 'b10', 'c']);
  assert.equal(th.started(), 1);
});

void test('a task queued behind a timed-out one runs in a new thread', async (t) => {
  const th = thread(60_000, t);
  await th.run('threadId', null, T);
  const slow = th.run('sleep', { ms: 20_000 }, 300);
  const next = th.run('sleep', { ms: 10 }, T);
  await assert.rejects(slow, /no result within 300 ms/);
  assert.equal(await next, 10);
  assert.equal(th.started(), 2);
});

void test('close() fails the running task and ends the thread', async (t) => {
  const th = thread(60_000, t);
  await th.run('threadId', null, T);
  const running = th.run('sleep', { ms: 20_000 }, T);
  await sleep(50);
  await th.close();
  await assert.rejects(running, (e: Error & { code?: string }) => e.code === ErrorCodes.SVC_ERR_STATE);
  assert.equal(th.alive(), false);
});

