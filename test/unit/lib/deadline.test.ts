import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { deadline } from '../../../src/lib/deadline.js';

const abortOf = (s: AbortSignal): Promise<unknown> => new Promise((resolve) => s.addEventListener('abort', () => resolve(s.reason), { once: true }));

void test('a deadline aborts with a TimeoutError after its timeout and lets go of the parent', async () => {
  const parent = new AbortController();
  const d = deadline(parent.signal, 20);
  assert.equal(getEventListeners(parent.signal, 'abort').length, 1, 'listening on the parent while running');
  // the deadline's timer is unref'd (it keeps no process alive): something else must, meanwhile
  const hold = setInterval(() => undefined, 1000);
  const reason = await abortOf(d.signal).finally(() => clearInterval(hold));
  assert.ok(reason instanceof DOMException && reason.name === 'TimeoutError', `reason: ${String(reason)}`);
  assert.equal(getEventListeners(parent.signal, 'abort').length, 0, 'no listener left on the parent');
  assert.equal(parent.signal.aborted, false);
});

void test('a deadline aborts with its parent, with the parent\'s reason', async () => {
  const parent = new AbortController();
  const d = deadline(parent.signal, 60_000);
  const aborted = abortOf(d.signal);
  parent.abort(new Error('shutdown'));
  assert.equal(((await aborted) as Error).message, 'shutdown');
  const pre = deadline(parent.signal, 60_000);
  assert.equal(pre.signal.aborted, true, 'an already aborted parent aborts it at once');
  assert.equal((pre.signal.reason as Error).message, 'shutdown');
});

void test('done() removes the listener and the timer: nothing fires later, the parent keeps no trace', async () => {
  const parent = new AbortController();
  for (let i = 0; i < 1000; i++) deadline(parent.signal, 10).done();
  const d = deadline(parent.signal, 10);
  d.done();
  d.done();
  assert.equal(getEventListeners(parent.signal, 'abort').length, 0);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(d.signal.aborted, false, 'the timer was cleared');
  parent.abort();
  assert.equal(d.signal.aborted, false, 'the parent was let go');
});
