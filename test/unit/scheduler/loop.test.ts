import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine } from '../../../src/net/engine.js';
import { Outcome } from '../../../src/net/types.js';
import type { RoundResult } from '../../../src/scheduler/round.js';
import type { PreparedProbe } from '../../../src/probes/types.js';
import { MAX_FIRST_PER_INSTANT, ProbeLoop, pumpMsFor, quantumFor, QUANTUM_MS, type SchedTask } from '../../../src/scheduler/loop.js';
import { FakeClock } from '../../fakes/clock.js';
import { memoryLogger } from '../../fakes/logger.js';

/** A probe that answers after `rttMs` (or never), recording when it was sent. */
function fakeProbe(clock: FakeClock, rttMs: number | null, sends: number[]): PreparedProbe {
  return {
    send(_engine, sink, index) {
      sends.push(clock.monoMs());
      if (rttMs === null) clock.setTimer(1000, () => sink.onOutcome(index, Outcome.LOST, NaN));
      else clock.setTimer(rttMs, () => sink.onOutcome(index, Outcome.OK, rttMs / 1000));
    },
  };
}

function task(key: string, probes: PreparedProbe[], nb: number, rounds: RoundResult[][]): SchedTask {
  const mine: RoundResult[] = [];
  rounds.push(mine);
  return {
    key,
    nbPackets: nb,
    timeoutS: 1,
    probes,
    onRound: (r) => mine.push({ ...r, rtts: Float64Array.from(r.rtts.subarray(0, r.rttCount)) }),
  };
}

function makeLoop(clock: FakeClock, iterations: number[]) {
  return new ProbeLoop(
    { engine: { setPumpMs: () => undefined, setRequestedRate: () => undefined } as unknown as Engine, clock, log: memoryLogger().log, onIteration: (s) => iterations.push(s), beforeRound: () => undefined },
    { intervalS: 10, intervalPacketsS: 0 },
  );
}

void test('every task round settles on its own; a dead target does not hold the others', async () => {
  const clock = new FakeClock();
  const rounds: RoundResult[][] = [];
  const iterations: number[] = [];
  const loop = makeLoop(clock, iterations);
  const fastSends: number[] = [];
  const deadSends: number[] = [];
  loop.setTask(task('fast', [fakeProbe(clock, 2, fastSends)], 5, rounds));
  loop.setTask(task('dead', [fakeProbe(clock, null, deadSends)], 5, rounds));
  loop.start();
  await clock.advance(9999);
  const [fast, dead] = rounds;
  assert.equal(fast!.length, 1);
  assert.equal(fast![0]!.sent, 5);
  assert.equal(fast![0]!.lost, 0);
  assert.deepEqual(Array.from(fast![0]!.rtts), [0.002, 0.002, 0.002, 0.002, 0.002]);
  assert.equal(dead![0]!.lost, 5);
  assert.equal(iterations.length, 1);
  assert.ok(iterations[0]! < 9);
  await clock.advance(20000);
  assert.equal(fast!.length, 3);
  assert.equal(fastSends.length, 15);
  loop.stop();
});

void test('packets of a task are spaced, and tasks are spread over the interval', async () => {
  const clock = new FakeClock();
  const rounds: RoundResult[][] = [];
  const loop = makeLoop(clock, []);
  const sends: number[][] = [];
  for (let i = 0; i < 50; i++) {
    const s: number[] = [];
    sends.push(s);
    loop.setTask(task(`t${i}`, [fakeProbe(clock, 1, s)], 3, rounds));
  }
  loop.start();
  // (the next round starts at 10 000 ms, and its first packets may leave then)
  await clock.advance(9999);
  const firsts = sends.map((s) => s[0]!).sort((a, b) => a - b);
  assert.ok(firsts[49]! - firsts[0]! > 5000, 'first packets spread over the interval');
  for (const s of sends) {
    assert.equal(s.length, 3);
    assert.ok(s[1]! - s[0]! >= 9 && s[2]! - s[1]! >= 9, `gap ${s.join(',')}`);
  }
  loop.stop();
});

void test('a removed task stops being probed', async () => {
  const clock = new FakeClock();
  const rounds: RoundResult[][] = [];
  const loop = makeLoop(clock, []);
  const sends: number[] = [];
  loop.setTask(task('x', [fakeProbe(clock, 1, sends)], 1, rounds));
  loop.start();
  await clock.advance(10000);
  const n = sends.length;
  loop.removeTask('x');
  await clock.advance(30000);
  assert.equal(sends.length, n);
  loop.stop();
});

void test('removing a task mid-round still completes the iteration', async () => {
  const clock = new FakeClock();
  const rounds: RoundResult[][] = [];
  const iterations: number[] = [];
  const loop = makeLoop(clock, iterations);
  const sends: number[] = [];
  loop.setTask(task('slow', [fakeProbe(clock, 1, sends)], 400, rounds));
  loop.start();
  await clock.advance(5000);
  assert.ok(sends.length > 0 && sends.length < 400, `sent ${sends.length}`);
  loop.removeTask('slow');
  await clock.advance(2000);
  assert.equal(iterations.length, 1);
  assert.equal(rounds[0]![0]!.sent, sends.length);
  loop.stop();
});

void test('a task whose probe throws leaves the loop, its owner hears why, and the iteration still settles', async () => {
  const clock = new FakeClock();
  const rounds: RoundResult[][] = [];
  const iterations: number[] = [];
  const loop = makeLoop(clock, iterations);
  const failures: unknown[] = [];
  const throwing: PreparedProbe = {
    send() {
      throw new Error('send exploded');
    },
  };
  const sends: number[] = [];
  loop.setTask({ ...task('bad', [throwing], 3, rounds), onFailure: (e) => failures.push(e) });
  loop.setTask(task('good', [fakeProbe(clock, 1, sends)], 3, rounds));
  loop.start();
  await clock.advance(9999);
  assert.equal(failures.length, 1);
  assert.match(String(failures[0]), /send exploded/);
  assert.equal(loop.taskCount, 1);
  assert.equal(rounds[0]![0]!.sendErrors, 1, 'the throwing send settled as a send error');
  assert.equal(iterations.length, 1, 'the iteration settled');
  await clock.advance(10000);
  assert.equal(sends.length, 6, 'the other task goes on');
  loop.stop();
});

void test('the send grid of first packets grows as the planned rate falls, and the engine reaps on it', async () => {
  const at10s = (rate: number): number => quantumFor(rate, 10);
  assert.deepEqual([0, 100, 200, 201, 400, 401, 1000, 1001, 2000, 5000, 5001, 10_000, 10_001].map(at10s), [1000, 1000, 1000, 500, 500, 200, 200, 100, 100, 40, 20, 20, QUANTUM_MS]);
  // quanta above 200 ms only up to a tenth of the interval
  assert.deepEqual([1, 2, 5, 60].map((s) => quantumFor(10, s)), [200, 200, 500, 1000]);
  assert.equal(quantumFor(1000, 1), 200);
  assert.deepEqual([QUANTUM_MS, 20, 40, 100, 200, 500, 1000].map(pumpMsFor), [40, 40, 40, 100, 200, 500, 1000]);
  const clock = new FakeClock();
  const pumps: number[] = [];
  const loop = new ProbeLoop(
    { engine: { setPumpMs: (ms: number) => pumps.push(ms), setRequestedRate: () => undefined } as unknown as Engine, clock, log: memoryLogger().log, onIteration: () => undefined, beforeRound: () => undefined },
    { intervalS: 10, intervalPacketsS: 0 },
  );
  const sends: number[][] = [];
  for (let i = 0; i < 100; i++) {
    const s: number[] = [];
    sends.push(s);
    // keys as the targets' (name NUL group): their phases cover the interval evenly
    loop.setTask(task(`target-${i}\u0000default`, [fakeProbe(clock, 1, s)], 1, []));
  }
  loop.start();
  await clock.advance(19_999);
  // 10 probes/s: every round on the 1 s grid, the first one included (its rate is known when it starts)
  assert.deepEqual(pumps, [1000]);
  assert.ok(sends.every((s) => s.length === 2 && s[0]! % 1000 === 0 && s[1]! % 1000 === 0), `sends on the grid: ${sends.join(' ')}`);
  assert.ok(new Set(sends.map((s) => s[1])).size === 7, `spread over the 7 instants the round has room for (0-6 s): ${[...new Set(sends.map((s) => s[1]))].join(' ')}`);
  loop.stop();
});

void test('a round that plans many more probes than the last one is sent on the grid of its own rate', async () => {
  const clock = new FakeClock();
  const pumps: number[] = [];
  const loop = new ProbeLoop(
    { engine: { setPumpMs: (ms: number) => pumps.push(ms), setRequestedRate: () => undefined } as unknown as Engine, clock, log: memoryLogger().log, onIteration: () => undefined, beforeRound: () => undefined },
    { intervalS: 10, intervalPacketsS: 0 },
  );
  const sends: number[] = [];
  const add = (from: number, to: number): void => {
    for (let i = from; i < to; i++) loop.setTask(task(`target-${i}\u0000default`, [fakeProbe(clock, 1, sends)], 1, []));
  };
  add(0, 10);
  loop.start();
  await clock.advance(5000);
  // 5 000 targets more: 501 probes/s from the next round on, on the 200 ms grid from its start
  add(10, 5010);
  await clock.advance(15_000);
  assert.deepEqual(pumps, [1000, 200]);
  const second = sends.filter((t) => t >= 10_000 && t < 20_000);
  assert.equal(second.length, 5010);
  assert.ok(second.every((t) => t % 200 === 0), 'every send of the second round on its 200 ms grid');
  assert.ok(second.some((t) => t % 1000 !== 0), 'not on the 1 s grid of the round before');
  const perInstant = new Map<number, number>();
  for (const t of second) perInstant.set(t, (perInstant.get(t) ?? 0) + 1);
  assert.ok(Math.max(...perInstant.values()) <= 2 * MAX_FIRST_PER_INSTANT, `at most ~${MAX_FIRST_PER_INSTANT} first packets an instant: ${Math.max(...perInstant.values())}`);
  loop.stop();
});

void test('a round becomes an object only when its first packet leaves: there are no more than rounds in flight at once', async () => {
  const clock = new FakeClock();
  const loop = makeLoop(clock, []);
  const seen = new Set<RoundResult>();
  let inFlight = 0;
  let most = 0;
  const probe: PreparedProbe = {
    send(_engine, sink, index) {
      most = Math.max(most, ++inFlight);
      clock.setTimer(1, () => {
        inFlight--;
        sink.onOutcome(index, Outcome.OK, 0.001);
      });
    },
  };
  for (let i = 0; i < 200; i++) loop.setTask({ key: `t${i}`, nbPackets: 1, timeoutS: 1, probes: [probe], onRound: (r) => seen.add(r) });
  loop.start();
  await clock.advance(19999);
  // planned all at the interval start, each round would be an object of its own (200)
  assert.ok(most < 200 && seen.size <= most, `${seen.size} round objects, ${most} rounds in flight at most`);
  loop.stop();
});

void test('a task removed before its first packet sends nothing, and its iteration still settles', async () => {
  const clock = new FakeClock();
  const rounds: RoundResult[][] = [];
  const iterations: number[] = [];
  const loop = makeLoop(clock, iterations);
  const sends: number[][] = [[], []];
  loop.setTask(task('a', [fakeProbe(clock, 1, sends[0]!)], 1, rounds));
  loop.setTask(task('b', [fakeProbe(clock, 1, sends[1]!)], 1, rounds));
  loop.start();
  // the task whose first packet is the later one goes before it leaves
  await clock.advance(0);
  assert.deepEqual(sends.map((s) => s.length), [0, 0]);
  loop.removeTask('b');
  await clock.advance(9999);
  assert.deepEqual(sends.map((s) => s.length), [1, 0]);
  assert.equal(rounds[1]!.length, 1);
  assert.equal(rounds[1]![0]!.sent, 0);
  assert.equal(iterations.length, 1);
  loop.stop();
});
