import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressRange, flowAddressBytes, flowAddressText } from '../../../src/flows/flow-address.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

void test('an IPv4 CIDR becomes an IPv4-mapped range, host bits ignored', () => {
  const r = addressRange('198.18.7.9/24')!;
  assert.equal(hex(r.lo), '00000000000000000000ffffc6120700');
  assert.equal(hex(r.hi), '00000000000000000000ffffc61207ff');
  const all = addressRange('0.0.0.0/0')!;
  assert.equal(hex(all.lo), '00000000000000000000ffff00000000');
  assert.equal(hex(all.hi), '00000000000000000000ffffffffffff');
  const odd = addressRange('198.18.0.0/15')!;
  assert.equal(hex(odd.hi), '00000000000000000000ffffc613ffff');
});

void test('IPv6 CIDRs at byte and non-byte prefixes; /128 and a bare address are one point', () => {
  const r = addressRange('2001:db8::/32')!;
  assert.equal(hex(r.lo), '20010db8000000000000000000000000');
  assert.equal(hex(r.hi), '20010db8ffffffffffffffffffffffff');
  const n = addressRange('2001:db8:8000::/33')!;
  assert.equal(hex(n.lo), '20010db8800000000000000000000000');
  assert.equal(hex(n.hi), '20010db8ffffffffffffffffffffffff');
  const one = addressRange('2001:db8::1')!;
  assert.equal(hex(one.lo), hex(one.hi));
  assert.deepEqual(addressRange('2001:db8::1/128'), one);
  assert.equal(hex(addressRange('198.18.0.1')!.lo), hex(addressRange('::ffff:198.18.0.1')!.lo));
});

void test('what is not an address or CIDR is null', () => {
  for (const bad of ['', '198.18.0.256', '198.18.0.0/33', '2001:db8::/129', '198.18.0.0/', '/8', 'router1', '198.18.0.0/8/8', '01.2.3.4', '2001:db8::/0x10']) {
    assert.equal(addressRange(bad), null, bad);
  }
});

void test('16 bytes back to text: IPv4 dotted, IPv6 RFC 5952, absent empty', () => {
  assert.equal(flowAddressText(flowAddressBytes('198.18.0.1')!), '198.18.0.1');
  assert.equal(flowAddressText(flowAddressBytes('2001:DB8:0:0::1')!), '2001:db8::1');
  assert.equal(flowAddressText(new Uint8Array(16)), '');
  const two = new Uint8Array(32);
  two.set(flowAddressBytes('203.0.113.5')!, 16);
  assert.equal(flowAddressText(two, 16), '203.0.113.5');
});
