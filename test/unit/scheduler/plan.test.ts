import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUTO_GAP_MAX_MS, phaseHashOf, phaseOfHash, planTask } from '../../../src/scheduler/plan.js';

const phaseOf = (key: string): number => phaseOfHash(phaseHashOf(key));

void test('phases are stable per key and spread over [0, 1)', () => {
  assert.equal(phaseOf('web1\u0000g1'), phaseOf('web1\u0000g1'));
  const phases = Array.from({ length: 10000 }, (_, i) => phaseOf(`t${i}\u0000g`));
  assert.ok(phases.every((p) => p >= 0 && p < 1));
  const buckets = new Array<number>(10).fill(0);
  for (const p of phases) buckets[Math.floor(p * 10)]!++;
  assert.ok(buckets.every((b) => b > 850 && b < 1150), `uneven spread: ${buckets.join(',')}`);
});

void test('interval_packets is the gap when set; otherwise an automatic bounded gap', () => {
  assert.deepEqual(planTask(30, 0.05, 10, 1, 0), { offsetMs: 0, gapMs: 50 });
  assert.equal(planTask(30, 0, 10, 1, 0).gapMs, AUTO_GAP_MAX_MS);
  assert.equal(planTask(1, 0, 1000, 1, 0).gapMs, 0.5);
  assert.equal(planTask(30, 0, 1, 1, 0).gapMs, 0);
});

void test('a round is placed so that it settles within 90 % of the interval', () => {
  for (const phase of [0, 0.3, 0.999]) {
    const { offsetMs, gapMs } = planTask(10, 0.01, 100, 2, phase);
    assert.ok(offsetMs + 99 * gapMs + 2000 <= 9000 + 1e-9);
  }
});

void test('the reap period counts in the span: the last timeout, seen late, still falls within 90 % of the interval', () => {
  // 1 s interval, 10 packets 10 ms apart, 300 ms timeout, timeouts reaped every 200 ms
  for (const phase of [0, 0.5, 0.999]) {
    const { offsetMs, gapMs } = planTask(1, 0, 10, 0.3, phase, 200);
    assert.ok(offsetMs + 9 * gapMs + 300 + 200 <= 900 + 1e-9, `phase ${phase}: offset ${offsetMs}`);
  }
  assert.ok(planTask(1, 0, 10, 0.3, 0.999).offsetMs > planTask(1, 0, 10, 0.3, 0.999, 200).offsetMs);
});

void test('a round longer than the interval is still spread, not burst at the round start', () => {
  const a = planTask(1, 0, 5, 1, 0.25);
  const b = planTask(1, 0, 5, 1, 0.75);
  assert.ok(b.offsetMs - a.offsetMs > 400);
});

void test('a phase kept as its hash is the fraction the unsigned FNV-1a hash gives', () => {
  // the phase as it was computed before tasks kept the hash: the fraction straight from the key
  const fraction = (key: string): number => {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return (h >>> 0) / 4294967296;
  };
  for (const key of ['web1\u0000g1', '', '\u00e9t\u0000groupe', ...Array.from({ length: 1000 }, (_, i) => `t${i}\u0000g`)]) {
    const h = phaseHashOf(key);
    assert.equal(h, h | 0, 'a signed 32-bit integer');
    assert.equal(phaseOfHash(h), fraction(key), key);
  }
});
