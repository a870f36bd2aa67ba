import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../../../src/lib/clock.js';
import { TimerWheel } from '../../../src/lib/timer-wheel.js';
import { FakeClock } from '../../fakes/clock.js';

void test('callbacks due within 1 ms run in one wake-up of one underlying timer, in time order', async () => {
  const clock = new FakeClock();
  const wheel = new TimerWheel(clock);
  const ran: string[] = [];
  let wakes = 0;
  const counting: Clock = {
    monoMs: () => clock.monoMs(),
    wallMs: () => clock.wallMs(),
    setTimer: (d, fn) => clock.setTimer(d, () => {
      wakes++;
      fn();
    }),
  };
  const w = new TimerWheel(counting);
  w.setTimer(20.4, () => ran.push('b'));
  w.setTimer(20, () => ran.push('a'));
  w.setTimer(21.5, () => ran.push('c'));
  w.setTimer(40, () => ran.push('d'));
  assert.equal(clock.pendingTimers, 1);
  await clock.advance(20);
  assert.deepEqual(ran, ['a', 'b']);
  assert.equal(wakes, 1);
  await clock.advance(20);
  assert.deepEqual(ran, ['a', 'b', 'c', 'd']);
  assert.equal(wakes, 3);
  assert.equal(w.size, 0);
  // the wheel's clock view keeps the base clock's time
  clock.wallBase = 5;
  assert.equal(wheel.clock.wallMs(), 5 + clock.monoMs());
  assert.equal(wheel.clock.monoMs(), clock.monoMs());
});

void test('a cancelled timer never runs and costs no wake-up once an earlier one is armed', async () => {
  const clock = new FakeClock();
  const wheel = new TimerWheel(clock);
  const ran: number[] = [];
  const late = wheel.clock.setTimer(50, () => ran.push(50));
  const early = wheel.setTimer(10, () => ran.push(10));
  wheel.setTimer(30, () => ran.push(30));
  late.cancel();
  early.cancel();
  await clock.advance(100);
  assert.deepEqual(ran, [30]);
  assert.equal(clock.pendingTimers, 0);
  // Infinity never fires and is not kept; NaN counts as 0
  wheel.setTimer(Infinity, () => ran.push(-1));
  wheel.setTimer(NaN, () => ran.push(0));
  assert.equal(wheel.size, 1);
  await clock.advance(1);
  assert.deepEqual(ran, [30, 0]);
});

void test('a timer set from a callback for now runs on a later wake-up; a throwing callback does not lose the others', async () => {
  const clock = new FakeClock();
  const wheel = new TimerWheel(clock);
  const ran: string[] = [];
  wheel.setTimer(5, () => {
    ran.push('first');
    wheel.setTimer(0, () => ran.push('again'));
    assert.deepEqual(ran, ['first']);
  });
  wheel.setTimer(5, () => {
    throw new Error('boom');
  });
  const later: { handle?: { cancel(): void } } = {};
  wheel.setTimer(5, () => {
    ran.push('third');
    later.handle?.cancel();
  });
  later.handle = wheel.setTimer(5, () => ran.push('cancelled'));
  await assert.rejects(clock.advance(5), /boom/);
  await clock.advance(1);
  assert.deepEqual(ran, ['first', 'third', 'again']);
  assert.equal(wheel.size, 0);
});
