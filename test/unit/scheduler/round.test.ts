import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Outcome } from '../../../src/net/types.js';
import { Round, RttPool, type RoundResult } from '../../../src/scheduler/round.js';

void test('a round holds an RTT buffer only from its first answer until it settles; the next round reuses it', () => {
  const seen: { rtts: number[]; count: number; buffer: Float64Array }[] = [];
  const owner = { roundDone: (r: RoundResult) => seen.push({ rtts: Array.from(r.rtts.subarray(0, r.rttCount)), count: r.rttCount, buffer: r.rtts }) };
  const it = { startMono: 0, outstanding: 2 };
  const pool = new RttPool();
  const a = new Round(owner, () => 1000, pool);
  a.reset([], 3, 0, 0, it);
  assert.equal(a.rtts.length, 0, 'no buffer before an answer');
  a.onOutcome(0, Outcome.OK, 0.003);
  a.onOutcome(1, Outcome.LOST, NaN);
  a.onOutcome(2, Outcome.OK, 0.001);
  assert.deepEqual(seen[0]!.rtts, [0.001, 0.003], 'sorted, read while the round reports');
  assert.equal(a.rtts.length, 0, 'given back once settled');
  const b = new Round(owner, () => 2000, pool);
  b.reset([], 2, 0, 0, it);
  b.onOutcome(0, Outcome.LOST, NaN);
  b.onOutcome(1, Outcome.OK, 0.002);
  assert.equal(seen[1]!.buffer, seen[0]!.buffer, 'the settled round\'s buffer');
  assert.deepEqual(seen[1]!.rtts, [0.002]);
  const c = new Round(owner, () => 3000, pool);
  c.reset([], 1, 0, 0, it);
  c.onOutcome(0, Outcome.LOST, NaN);
  assert.deepEqual([seen[2]!.count, seen[2]!.buffer.length], [0, 0], 'a round without an answer never takes one');
});
