import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as frame from '../../../src/packet/frame.js';
import { networkLayer, networkLayerAt } from '../../../src/packet/frame.js';
import { concat, fixtureLinkType, frameFixtureNames, loadHex } from './fixtures.js';
import { L4_FIXTURES } from './l4-fixtures.js';

const v4 = loadHex('raw-icmp4-echo-request.hex');
const v6 = loadHex('raw-icmp6-echo-reply.hex');
const MACS = new Uint8Array(12);

void test('DLT constants', () => {
  assert.deepEqual(
    [frame.DLT_NULL, frame.DLT_EN10MB, frame.DLT_RAW, frame.DLT_RAW_ALT, frame.DLT_LOOP],
    [0, 1, 12, 101, 108],
  );
  assert.deepEqual([frame.DLT_LINUX_SLL, frame.DLT_LINUX_SLL2], [113, 276]);
});

void test('networkLayer finds the IP header in every fixture', () => {
  const expected: Record<string, number> = {
    'eth-icmp4-echo-request.hex': 14, 'eth-icmp4-echo-reply.hex': 14,
    'eth-icmp6-echo-request.hex': 14, 'eth-icmp6-echo-reply.hex': 14,
    'eth-icmp4-frag-first.hex': 14, 'eth-icmp4-frag-second.hex': 14,
    'eth-icmp6-frag-first.hex': 14, 'eth-icmp6-frag-second.hex': 14,
    'eth-icmp6-hbh-frag-first.hex': 14, 'eth-icmp6-hbh-frag-second.hex': 14,
    'eth-icmp4-port-unreach.hex': 14, 'eth-icmp4-truncated.hex': 14,
    'eth-ipv4-ihl4.hex': 14, 'eth-ipv4-truncated-header.hex': 14,
    'eth-vlan-icmp4-echo-reply.hex': 18, 'eth-qinq-icmp6-echo-request.hex': 22,
    'sll-icmp4-echo-request.hex': 16, 'sll-icmp6-echo-reply.hex': 16,
    'sll2-icmp4-echo-reply.hex': 20, 'sll2-icmp6-echo-request.hex': 20,
    'raw-icmp4-echo-request.hex': 0, 'raw-icmp6-echo-reply.hex': 0,
    'null-icmp6-echo-request.hex': 4, 'loop-icmp4-echo-reply.hex': 4,
    ...Object.fromEntries(L4_FIXTURES.map((n) => [n, 14])),
  };
  const names = frameFixtureNames();
  assert.deepEqual(names, Object.keys(expected).sort());
  for (const name of names) {
    const f = loadHex(name);
    assert.equal(networkLayer(f, f.length, fixtureLinkType(name)), expected[name], name);
    assert.equal(networkLayer(Buffer.from(f), f.length, fixtureLinkType(name)), expected[name], name);
  }
});

void test('Ethernet: other ethertypes, too many tags, truncation, version mismatch', () => {
  const eth = (...rest: (Uint8Array | number[])[]): Uint8Array => concat(MACS, ...rest);
  assert.equal(networkLayer(eth([0x08, 0x06], v4), 200, 1), -1); // ARP
  assert.equal(networkLayer(eth([0x08, 0x00], v6), 200, 1), -1); // IPv4 ethertype, IPv6 packet
  assert.equal(networkLayer(eth([0x86, 0xdd], v4), 200, 1), -1);
  const three = eth([0x88, 0xa8, 0, 1, 0x81, 0, 0, 2, 0x81, 0, 0, 3, 0x08, 0x00], v4);
  assert.equal(networkLayer(three, three.length, 1), -1);
  const two = eth([0x81, 0, 0, 2, 0x81, 0, 0, 3, 0x08, 0x00], v4);
  assert.equal(networkLayer(two, two.length, 1), 22);
  assert.equal(networkLayer(two, 22, 1), -1); // no IP byte left
  assert.equal(networkLayer(two, 23, 1), 22);
  assert.equal(networkLayer(two, 19, 1), -1); // second tag cut
  const f = eth([0x08, 0x00], v4);
  assert.equal(networkLayer(f, 15, 1), 14);
  assert.equal(networkLayer(f, 14, 1), -1);
  assert.equal(networkLayer(f, 13, 1), -1);
  assert.equal(networkLayer(f, 0, 1), -1);
  assert.equal(networkLayer(f, 10_000, 1), 14); // len is clamped to the buffer
});

void test('Linux cooked captures v1 and v2', () => {
  const sll = (proto: number[], ip: Uint8Array): Uint8Array =>
    concat([0, 0, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0], proto, ip);
  assert.equal(networkLayer(sll([0x86, 0xdd], v6), 500, 113), 16);
  assert.equal(networkLayer(sll([0x08, 0x06], v4), 500, 113), -1);
  assert.equal(networkLayer(sll([0x08, 0x00], v4), 16, 113), -1);
  assert.equal(networkLayer(sll([0x08, 0x00], v4), 15, 113), -1);
  const sll2 = (proto: number[], ip: Uint8Array): Uint8Array =>
    concat(proto, [0, 0, 0, 0, 0, 1, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0], ip);
  assert.equal(networkLayer(sll2([0x08, 0x00], v4), 500, 276), 20);
  assert.equal(networkLayer(sll2([0x88, 0xcc], v4), 500, 276), -1); // LLDP
  assert.equal(networkLayer(sll2([0x08, 0x00], v4), 19, 276), -1);
  // The same bytes read with the other cooked layout are not IP.
  assert.equal(networkLayer(sll2([0x08, 0x00], v4), 500, 113), -1);
});

void test('raw IP: the version nibble decides', () => {
  for (const lt of [12, 101]) {
    assert.equal(networkLayer(v4, v4.length, lt), 0);
    assert.equal(networkLayer(v6, v6.length, lt), 0);
    assert.equal(networkLayer(v4, 1, lt), 0);
    assert.equal(networkLayer(concat([0x55], v4), 10, lt), -1);
    assert.equal(networkLayer(new Uint8Array(0), 0, lt), -1);
  }
});

void test('BSD loopback (NULL, LOOP): address family in either byte order', () => {
  const cases: [number[], Uint8Array, number][] = [
    [[2, 0, 0, 0], v4, 4], [[0, 0, 0, 2], v4, 4],
    [[10, 0, 0, 0], v6, 4], [[0, 0, 0, 24], v6, 4], [[28, 0, 0, 0], v6, 4], [[0, 0, 0, 30], v6, 4],
    [[2, 0, 0, 0], v6, -1], [[30, 0, 0, 0], v4, -1], [[7, 0, 0, 0], v4, -1],
    [[2, 0, 0, 2], v4, -1], [[0, 2, 0, 0], v4, -1], [[0, 0, 0, 0], v4, -1],
  ];
  for (const [af, ip, want] of cases) {
    for (const lt of [0, 108]) {
      const f = concat(af, ip);
      assert.equal(networkLayer(f, f.length, lt), want, `${lt} ${af.join(',')}`);
    }
  }
  assert.equal(networkLayer(concat([2, 0, 0, 0], v4), 4, 0), -1);
  assert.equal(networkLayer(concat([2, 0, 0]), 3, 0), -1);
});

void test('unknown link types are rejected', () => {
  const f = loadHex('eth-icmp4-echo-request.hex');
  for (const lt of [-1, 2, 9, 105, 127, 228, 229, 65535, Number.NaN]) {
    assert.equal(networkLayer(f, f.length, lt), -1, String(lt));
  }
});

void test('networkLayerAt works on a frame inside a larger buffer and respects len', () => {
  const f = loadHex('eth-vlan-icmp4-echo-reply.hex');
  const big = concat(new Uint8Array(7).fill(0x45), f, new Uint8Array(9).fill(0x45));
  assert.equal(networkLayerAt(big, 7, f.length, 1), 7 + 18);
  assert.equal(networkLayerAt(big, 7, 18, 1), -1);
  assert.equal(networkLayerAt(big, -1, 10, 12), -1);
  assert.equal(networkLayerAt(big, big.length, 10, 12), -1);
  assert.equal(networkLayerAt(big, 0, 1, 12), 0); // 0x45 padding looks like IPv4 to DLT_RAW
});
