import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../../src/lib/errors.js';
import { parseIp } from '../../../src/lib/address.js';
import { internetChecksum } from '../../../src/packet/checksum.js';
import {
  createUdpTemplate,
  UDP_HEADER_LENGTH,
  UDP_TAG_DATA_LENGTH,
  udpTagCapacity,
  udpTagChecksum,
  type UdpTemplateOptions,
} from '../../../src/packet/udp.js';
import { hex, rng } from './fixtures.js';
import { A4, A6, B4, B6, fixturePacket as packet, l4Residue } from './l4-fixtures.js';

const ip = (s: string): Uint8Array => parseIp(s)!;
const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const encodeError = (e: unknown): boolean => isAppError(e, 'PKT_ERR_ENCODE');

const v4: UdpTemplateOptions = {
  family: 4, src: ip(A4), dst: ip(B4), tos: 0, ttl: 64, dontFragment: true, dstPort: 33434, ipPayloadSize: 32,
};
const v6: UdpTemplateOptions = { ...v4, family: 6, src: ip(A6), dst: ip(B6) };

void test('constants and udpTagChecksum', () => {
  assert.deepEqual([UDP_HEADER_LENGTH, UDP_TAG_DATA_LENGTH], [8, 2]);
  assert.deepEqual([0, 1, 0x4242, 0xfffe, 0xffff, 0x10001, -1].map(udpTagChecksum), [0xffff, 1, 0x4242, 0xfffe, 0xffff, 1, 0xffff]);
});

void test('IPv4 template: exact bytes, identical to the datagram the target answered', () => {
  const t = createUdpTemplate(v4);
  assert.equal(t.length, 52);
  const b = t.stamp(33002, 0x4242);
  assert.equal(b, t.bytes);
  assert.deepEqual(
    new Uint8Array(b),
    hex(`4500 0034 4242 4000 4011 694f c6120101 c6120202
         80ea 829a 0020 4242 a62f 0203 0405 0607 0809 0a0b 0c0d 0e0f 1011 1213 1415 1617`),
  );
  assert.deepEqual(new Uint8Array(b), packet('eth-udp4-wireprobe.hex'));
  // The same template with TTL 1 produced the datagram the router's time-exceeded quotes.
  const q = packet('eth-icmp4-time-exceeded-udp.hex').subarray(28);
  assert.deepEqual(new Uint8Array(createUdpTemplate({ ...v4, ttl: 1 }).stamp(33006, 0x0606)), q);
});

void test('IPv6 template: the captured tagged datagrams, tag 0 sent with checksum 0xffff', () => {
  const t = createUdpTemplate(v6);
  assert.deepEqual(new Uint8Array(t.stamp(33003, 0xbeef)), packet('eth-udp6-wireprobe.hex'));
  assert.deepEqual(new Uint8Array(t.bytes.subarray(0, 8)), hex('6000 0000 0020 1140')); // flow label 0
  assert.deepEqual(new Uint8Array(t.stamp(33004, 0)), packet('eth-udp6-wireprobe-tag0.hex'));
  assert.equal(u16(t.bytes, 46), 0xffff);
});

void test('the checksum equals the tag for every tag, and verifies (IPv4 and IPv6)', () => {
  for (const o of [v4, v6, { ...v6, ipPayloadSize: 10 }, { ...v6, ipPayloadSize: 11, data: hex('ff') }]) {
    const t = createUdpTemplate(o);
    const h = o.family === 4 ? 20 : 40;
    for (let tag = 0; tag <= 0xffff; tag++) {
      const sport = (tag * 7919) & 0xffff;
      const b = t.stamp(sport, tag);
      if (u16(b, h) !== sport || u16(b, h + 6) !== udpTagChecksum(tag) || l4Residue(b, 17) !== 0) {
        assert.fail(`IPv${o.family} size ${o.ipPayloadSize}: tag ${tag} sport ${sport}`);
      }
      if (o.family === 4 && (u16(b, 4) !== tag || internetChecksum(b, 0, 20) !== 0)) assert.fail(`IPv4 id ${tag}`);
    }
  }
});

void test('many payload sizes, ports, addresses and data patterns: tag carried, checksum verifies', () => {
  const r = rng(17);
  for (let i = 0; i < 400; i++) {
    const family = i % 2 === 0 ? 4 : 6;
    const size = 10 + r.int(i % 10 === 0 ? 1400 : 40);
    const o: UdpTemplateOptions = {
      family, src: r.bytes(family === 4 ? 4 : 16), dst: r.bytes(family === 4 ? 4 : 16), tos: r.int(256), ttl: 1 + r.int(255),
      dontFragment: r.next() < 0.5, dstPort: r.int(0x10000), ipPayloadSize: size,
      ...(r.next() < 0.5 ? { data: r.bytes(1 + r.int(20)) } : {}),
    };
    o.src[0] = 1 + r.int(254); // never the all-zero address
    const t = createUdpTemplate(o);
    const h = family === 4 ? 20 : 40;
    for (let k = 0; k < 50; k++) {
      const tag = r.int(0x10000);
      const b = t.stamp(r.int(0x10000), tag);
      assert.equal(u16(b, h + 6), udpTagChecksum(tag));
      assert.equal(l4Residue(b, 17), 0, `size ${size} tag ${tag}`);
      assert.equal(u16(b, h + 4), size);
    }
    assert.ok(udpTagCapacity(o));
  }
});

void test('without 2 data bytes: the ordinary checksum, no tag in IPv6; udpTagCapacity tells', () => {
  for (const size of [8, 9]) {
    const t6 = createUdpTemplate({ ...v6, ipPayloadSize: size });
    const t4 = createUdpTemplate({ ...v4, ipPayloadSize: size });
    assert.equal(t6.length, 40 + size);
    const seen = new Set<number>();
    for (let port = 0; port <= 0xffff; port++) {
      const b = t6.stamp(port, 0x1234);
      const cs = u16(b, 46);
      if (l4Residue(b, 17) !== 0 || cs === 0) assert.fail(`IPv6 size ${size} port ${port}`);
      seen.add(cs);
    }
    assert.equal(seen.size, 0xffff); // checksum 0 is sent as 0xffff
    const b4 = t4.stamp(7, 0x1234);
    assert.deepEqual([u16(b4, 4), l4Residue(b4, 17), internetChecksum(b4, 0, 20)], [0x1234, 0, 0]);
    assert.equal(udpTagCapacity({ family: 6, ipPayloadSize: size }), false);
    assert.equal(udpTagCapacity({ family: 4, ipPayloadSize: size }), true);
  }
  assert.equal(createUdpTemplate({ ...v6, ipPayloadSize: 9, data: hex('5a') }).bytes[48], 0x5a);
  assert.deepEqual([10, 10.5, 1500, 65535].map((s) => udpTagCapacity({ ...v6, ipPayloadSize: s })), [true, true, true, true]);
  assert.deepEqual([0, -3, 9.9, Number.NaN].map((s) => udpTagCapacity({ ...v6, ipPayloadSize: s })), [false, false, false, false]);
  assert.equal(udpTagCapacity(v4), true);
});

void test('DF honoured, data pattern kept after the tag word, sizes and bad options', () => {
  assert.equal(createUdpTemplate({ ...v4, dontFragment: false }).bytes[6], 0);
  assert.equal(createUdpTemplate(v4).bytes[6], 0x40);
  const d = createUdpTemplate({ ...v4, ipPayloadSize: 8 + 7, data: hex('aa bb cc') });
  d.stamp(1, 2);
  assert.deepEqual([...d.bytes.subarray(30)], [0xcc, 0xaa, 0xbb, 0xcc, 0xaa]);
  assert.equal(createUdpTemplate({ ...v4, ipPayloadSize: 0 }).length, 28);
  assert.equal(createUdpTemplate({ ...v4, ipPayloadSize: 65515 }).length, 65535);
  assert.equal(l4Residue(createUdpTemplate({ ...v6, ipPayloadSize: 65535 }).stamp(9, 9), 17), 0);
  assert.throws(() => createUdpTemplate({ ...v4, ipPayloadSize: 65516 }), encodeError);
  assert.throws(() => createUdpTemplate({ ...v6, ipPayloadSize: Number.NaN }), encodeError);
  assert.throws(() => createUdpTemplate({ ...v4, src: ip('0.0.0.0') }), encodeError);
  assert.throws(() => createUdpTemplate({ ...v6, dst: ip(B4) }), encodeError);
  assert.throws(() => createUdpTemplate({ ...v4, dstPort: -1 }), encodeError);
});
