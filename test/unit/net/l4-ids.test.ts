import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlotByKey, UdpIds } from '../../../src/net/l4-ids.js';
import { udpTagChecksum } from '../../../src/packet/udp.js';

/** xorshift32: a fixed sequence of pseudo-random numbers */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

void test('SlotByKey: random adds and deletes agree with a Map, through growth and shrinking', () => {
  const t = new SlotByKey();
  const ref = new Map<number, number>();
  const next = rng(7);
  const live: number[] = [];
  let maxCapacity = 0;
  // grow to ~6 000 keys, then drain: the table doubles several times and halves back
  for (let step = 0; step < 40_000; step++) {
    const growing = step < 20_000;
    if (live.length > 0 && (next() % 3 === 0 || !growing)) {
      const k = live.splice(next() % live.length, 1)[0]!;
      t.delete(k, ref.get(k)!);
      ref.delete(k);
    } else {
      // keys clustered like (source port << 16 | tag): few ports, consecutive tags, the full 32 bits
      const k = (((65000 + (next() % 8)) << 16) | (next() & 0xffff)) >>> 0;
      if (ref.has(k)) continue;
      const slot = next() % (1 << 20);
      t.add(k, slot);
      ref.set(k, slot);
      live.push(k);
    }
    maxCapacity = Math.max(maxCapacity, t.capacity);
    if (step % 97 === 0) {
      assert.equal(t.size, ref.size);
      for (const [k, s] of ref) assert.equal(t.get(k), s, `key ${k} at step ${step}`);
      const absent = next();
      if (!ref.has(absent)) assert.equal(t.get(absent), -1);
    }
  }
  assert.equal(t.size, 0);
  assert.ok(maxCapacity >= 8192, `grew to ${maxCapacity}`);
  assert.equal(t.capacity, SlotByKey.MIN_SIZE);
});

void test('SlotByKey: a key is unbound only by the slot it is bound to; keys 0 and 2^32 - 1 work', () => {
  const t = new SlotByKey();
  t.add(0, 5);
  t.add(0xffffffff, 0);
  assert.equal(t.get(0), 5);
  assert.equal(t.get(0xffffffff), 0);
  t.delete(0, 6);
  assert.equal(t.get(0), 5);
  t.delete(0, 5);
  assert.equal(t.get(0), -1);
  assert.equal(t.has(0xffffffff), true);
  assert.equal(t.size, 1);
});

void test('SlotByKey: deleting inside a run of colliding keys keeps the rest of the run reachable', () => {
  const t = new SlotByKey();
  // 500 keys in 1 024 entries (just under the load that doubles it): runs of neighbours, some wrapping around the end
  const keys = Array.from({ length: 500 }, (_, i) => (i * 0x10001) >>> 0);
  keys.forEach((k, i) => t.add(k, i));
  for (let i = 0; i < keys.length; i += 2) t.delete(keys[i]!, i);
  keys.forEach((k, i) => assert.equal(t.get(k), i % 2 === 0 ? -1 : i));
});

void test('UdpIds: tags go round per source port, skip those in flight, and are found by (port, wire tag)', () => {
  const ids = new UdpIds(1 << 20);
  assert.equal(ids.bindUdp(0, 65000, 4), 1);
  assert.equal(ids.bindUdp(1, 65000, 4), 2);
  assert.equal(ids.bindUdp(2, 65001, 4), 1);
  assert.equal(ids.slotFromUdp(65000, 2), 1);
  assert.equal(ids.slotFromUdp(65001, 1), 2);
  assert.equal(ids.slotFromUdp(65001, 2), -1);
  ids.release(1);
  assert.equal(ids.slotFromUdp(65000, 2), -1);
  ids.release(1);
  assert.equal(ids.slotFromUdp(65000, 1), 0);
  // IPv6: the wire tag is the checksum the tag makes
  const tag = ids.bindUdp(3, 40000, 6);
  assert.equal(ids.slotFromUdp(40000, udpTagChecksum(tag)), 3);
});

void test('UdpIds: a port with every tag in flight refuses the next probe; a release frees its tag for it', () => {
  const ids = new UdpIds(1 << 17);
  for (let s = 0; s < 65535; s++) assert.equal(ids.bindUdp(s, 33000, 4), s + 1);
  assert.equal(ids.bindUdp(65535, 33000, 4), -1);
  assert.equal(ids.bindUdp(65535, 33001, 4), 1);
  ids.release(4000);
  assert.equal(ids.bindUdp(65536, 33000, 4), 4001);
  assert.equal(ids.slotFromUdp(33000, 4001), 65536);
  assert.equal(ids.slotFromUdp(33000, 4002), 4001);
});
