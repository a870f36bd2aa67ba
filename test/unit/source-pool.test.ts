import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp } from '../../src/lib/address.js';
import { createSourcePool } from '../../src/probes/source-pool.js';

const all = (cidr: string): string[] => {
  const p = createSourcePool(cidr);
  return Array.from({ length: p.count }, (_, i) => formatIp(p.address(i)));
};

void test('a /29 cycles through .1 to .7 (network skipped, last address used), like netprobify', () => {
  assert.deepEqual(all('198.18.7.8/29'), ['198.18.7.9', '198.18.7.10', '198.18.7.11', '198.18.7.12', '198.18.7.13', '198.18.7.14', '198.18.7.15']);
});

void test('IPv6 /125 gives ::1 to ::7; indexes wrap', () => {
  assert.deepEqual(all('2001:db8:5::/125'), ['2001:db8:5::1', '2001:db8:5::2', '2001:db8:5::3', '2001:db8:5::4', '2001:db8:5::5', '2001:db8:5::6', '2001:db8:5::7']);
  assert.equal(formatIp(createSourcePool('2001:db8:5::/125').address(7)), '2001:db8:5::1');
});

void test('/31 has one source; a /64 cycles through 2^32 - 1 hosts in its low bits', () => {
  assert.deepEqual(all('198.18.0.0/31'), ['198.18.0.1']);
  const p = createSourcePool('2001:db8:6::/64');
  assert.equal(p.count, 0xffffffff);
  assert.equal(formatIp(p.address(0)), '2001:db8:6::1');
  assert.equal(formatIp(p.address(0xfffffffe)), '2001:db8:6::ffff:ffff');
  assert.equal(formatIp(createSourcePool('198.18.0.0/15').address(131070)), '198.19.255.255');
});

void test('single addresses and garbage are refused', () => {
  assert.throws(() => createSourcePool('198.18.0.1/32'), RangeError);
  assert.throws(() => createSourcePool('nope/24'), RangeError);
});
