import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadlineQueue, SlotState, SlotTable } from '../../../src/net/slots.js';

void test('slots are handed out in order and reused after being freed', () => {
  const t = new SlotTable(8, 4);
  assert.deepEqual([t.alloc(0), t.alloc(0), t.alloc(0), t.alloc(0)], [0, 1, 2, 3]);
  t.free(0);
  t.free(1);
  // the cursor wrapped to 0, which is free again
  assert.equal(t.alloc(0), 0);
  assert.equal(t.state[0], SlotState.PENDING);
});

void test('the window doubles when the cursor meets a busy slot, up to the capacity', () => {
  const t = new SlotTable(8, 2);
  assert.deepEqual([t.alloc(0), t.alloc(0)], [0, 1]);
  assert.equal(t.alloc(0), 2);
  assert.equal(t.window, 4);
  assert.deepEqual([t.alloc(0), t.alloc(0)], [3, 4]);
  assert.equal(t.window, 8);
  assert.deepEqual([t.alloc(0), t.alloc(0), t.alloc(0)], [5, 6, 7]);
  assert.equal(t.alloc(0), -1, 'every slot in flight');
  t.free(5);
  assert.equal(t.alloc(0), 5);
});

void test('a deadline queue is a FIFO that grows', () => {
  const q = new DeadlineQueue(1000);
  for (let i = 0; i < 3000; i++) q.push(i);
  assert.equal(q.length, 3000);
  for (let i = 0; i < 2000; i++) assert.equal(q.shift(), i);
  for (let i = 3000; i < 5000; i++) q.push(i);
  assert.equal(q.peek(), 2000);
  let expect = 2000;
  while (q.length > 0) assert.equal(q.shift(), expect++);
  assert.equal(expect, 5000);
  assert.equal(q.peek(), -1);
});

void test('a freed slot stays in quarantine until its reuse time', () => {
  const t = new SlotTable(4, 2);
  assert.deepEqual([t.alloc(0), t.alloc(0)], [0, 1]);
  t.free(0, 500);
  t.free(1, 500);
  // slot 0 is free but quarantined: the window grows instead
  assert.equal(t.alloc(100), 2);
  assert.equal(t.alloc(100), 3);
  // at full size a quarantined slot is better than no probe at all
  assert.equal(t.alloc(100), 0);
  assert.equal(t.alloc(100), 1);
  assert.equal(t.alloc(100), -1);
});
