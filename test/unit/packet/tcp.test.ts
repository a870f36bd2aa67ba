import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../../src/lib/errors.js';
import { parseIp } from '../../../src/lib/address.js';
import { internetChecksum } from '../../../src/packet/checksum.js';
import * as tcp from '../../../src/packet/tcp.js';
import { createSynTemplate, writeTcpRst, type SynTemplateOptions } from '../../../src/packet/tcp.js';
import { hex, rng } from './fixtures.js';
import { A4, A6, B4, B6, fixturePacket as packet, l4Residue } from './l4-fixtures.js';

const ip = (s: string): Uint8Array => parseIp(s)!;
const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const encodeError = (e: unknown): boolean => isAppError(e, 'PKT_ERR_ENCODE');

const v4: SynTemplateOptions = {
  family: 4, src: ip(A4), dst: ip(B4), tos: 0, ttl: 64, dontFragment: true, dstPort: 8080, ipPayloadSize: 20,
};
const v6: SynTemplateOptions = { ...v4, family: 6, src: ip(A6), dst: ip(B6) };

void test('TCP constants', () => {
  assert.deepEqual(
    [tcp.TCP_FIN, tcp.TCP_SYN, tcp.TCP_RST, tcp.TCP_PSH, tcp.TCP_ACK, tcp.TCP_URG, tcp.TCP_ECE, tcp.TCP_CWR, tcp.TCP_AE],
    [1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80, 0x100],
  );
  assert.deepEqual([tcp.TCP_HEADER_LENGTH, tcp.SYN_WINDOW], [20, 65535]);
});

void test('IPv4 SYN template: exact bytes, identical to the SYN the lab sent and the target answered', () => {
  const t = createSynTemplate(v4);
  assert.deepEqual([t.length, t.dataLength], [40, 0]);
  const b = t.stamp(40010, 0x01020304, 0x0101);
  assert.equal(b, t.bytes);
  assert.deepEqual(
    new Uint8Array(b),
    hex(`4500 0028 0101 4000 4006 aaa7 c6120101 c6120202
         9c4a 1f90 01020304 00000000 5002 ffff 60da 0000`),
  );
  assert.deepEqual(new Uint8Array(b), packet('eth-tcp4-syn-wireprobe.hex'));
});

void test('IPv6 SYN templates match the captured ones, with and without data', () => {
  const t = createSynTemplate(v6);
  assert.deepEqual(new Uint8Array(t.stamp(40011, 0x0a0b0c0d, 0xffff)), packet('eth-tcp6-syn-wireprobe.hex'));
  assert.deepEqual(
    new Uint8Array(t.bytes.subarray(0, 8)),
    hex('6000 0000 0014 0640'), // flow label 0, payload 20, TCP, hop limit 64; the IPv4 id is ignored
  );
  const d = createSynTemplate({ ...v6, dstPort: 81, ipPayloadSize: 36 });
  assert.deepEqual([d.length, d.dataLength], [76, 16]);
  const b = d.stamp(40012, 0x7ffffff0, 0);
  assert.deepEqual(new Uint8Array(b), packet('eth-tcp6-syn-data-wireprobe.hex'));
  assert.deepEqual([...b.subarray(60)], Array.from({ length: 16 }, (_, i) => i));
});

void test('stamp: every field lands in place and both checksums verify, for many values', () => {
  const r = rng(6);
  for (const o of [
    v4, v6,
    { ...v4, tos: 0xb8, ttl: 3, dontFragment: false, ipPayloadSize: 20 + 33, data: hex('aa bb cc') },
    { ...v6, tos: 0x28, ttl: 255, ipPayloadSize: 20 + 1200 },
  ]) {
    const t = createSynTemplate(o);
    const h = o.family === 4 ? 20 : 40;
    for (let i = 0; i < 3000; i++) {
      const sport = i < 2 ? i * 0xffff : r.int(0x10000);
      const seq = i < 2 ? i * 0xffffffff : r.int(0x100000000);
      const id = r.int(0x10000);
      const b = t.stamp(sport, seq, id);
      assert.deepEqual([u16(b, h), u16(b, h + 2), u32(b, h + 4), u32(b, h + 8)], [sport, o.dstPort, seq, 0]);
      assert.deepEqual([b[h + 12], b[h + 13], u16(b, h + 14), u16(b, h + 18)], [0x50, 0x02, 65535, 0]);
      if (l4Residue(b, 6) !== 0) assert.fail(`TCP checksum, sport ${sport} seq ${seq}`);
      if (o.family === 4) {
        assert.equal(u16(b, 4), id);
        if (internetChecksum(b, 0, 20) !== 0) assert.fail(`IP checksum, id ${id}`);
      }
    }
  }
  const odd = createSynTemplate({ ...v4, ipPayloadSize: 21, data: hex('7f') });
  assert.equal(odd.stamp(1, 2, 3)[40], 0x7f);
  assert.equal(l4Residue(odd.bytes, 6), 0);
});

void test('stamp masks the port and id to 16 bits and the seq to 32 bits', () => {
  const t = createSynTemplate(v4);
  const b = t.stamp(0x1abcd, -1, 0x12345);
  assert.deepEqual([u16(b, 20), u32(b, 24), u16(b, 4)], [0xabcd, 0xffffffff, 0x2345]);
  assert.equal(l4Residue(b, 6), 0);
  assert.equal(internetChecksum(b, 0, 20), 0);
});

void test('the template is a valid packet before the first stamp; DF and sizes', () => {
  const t = createSynTemplate({ ...v4, dontFragment: false });
  assert.deepEqual([u16(t.bytes, 6), u16(t.bytes, 20), u32(t.bytes, 24)], [0, 0, 0]);
  assert.equal(l4Residue(t.bytes, 6), 0);
  assert.equal(internetChecksum(t.bytes, 0, 20), 0);
  assert.equal(createSynTemplate({ ...v4, ipPayloadSize: 0 }).length, 40);
  assert.equal(createSynTemplate({ ...v4, ipPayloadSize: 19.9 }).length, 40);
  assert.equal(createSynTemplate({ ...v6, ipPayloadSize: -1 }).dataLength, 0);
  assert.equal(createSynTemplate({ ...v4, ipPayloadSize: 65515 }).length, 65535);
  const big6 = createSynTemplate({ ...v6, ipPayloadSize: 65535 });
  assert.equal(l4Residue(big6.stamp(5, 6, 7), 6), 0);
  assert.throws(() => createSynTemplate({ ...v4, ipPayloadSize: 65516 }), encodeError);
  assert.throws(() => createSynTemplate({ ...v6, ipPayloadSize: 65536 }), encodeError);
  assert.throws(() => createSynTemplate({ ...v4, ipPayloadSize: Number.POSITIVE_INFINITY }), encodeError);
});

void test('bad options throw PKT_ERR_ENCODE', () => {
  assert.throws(() => createSynTemplate({ ...v4, dst: ip(B6) }), encodeError);
  assert.throws(() => createSynTemplate({ ...v6, src: ip(A4) }), encodeError);
  // The kernel does not fill in the source of IP_HDRINCL packets in the TCP checksum.
  assert.throws(() => createSynTemplate({ ...v4, src: ip('0.0.0.0') }), encodeError);
  assert.throws(() => createSynTemplate({ ...v6, src: ip('::') }), encodeError);
  assert.throws(() => createSynTemplate({ ...v4, dstPort: 65536 }), encodeError);
  assert.throws(() => createSynTemplate({ ...v4, dstPort: 1.5 }), encodeError);
  assert.throws(() => createSynTemplate({ ...v4, family: 5 as 4 }), encodeError);
});

void test('writeTcpRst reproduces the RST a Linux kernel sends after a SYN-ACK (IPv4 byte for byte)', () => {
  // eth-tcp4-synack.hex acknowledged 287454021; the prober's kernel answered eth-tcp4-rst-kernel.hex.
  const kernel = packet('eth-tcp4-rst-kernel.hex');
  const buf = new Uint8Array(44).fill(0xee);
  const n = writeTcpRst(buf, 2, {
    family: 4, src: ip(A4), dst: ip(B4), tos: 0, ttl: 64, srcPort: 40001, dstPort: 8080, seq: 287454021,
  });
  assert.equal(n, 40);
  assert.deepEqual(buf.subarray(2, 42), kernel);
  assert.deepEqual([buf[0], buf[1], buf[42], buf[43]], [0xee, 0xee, 0xee, 0xee]);
});

void test('writeTcpRst over IPv6 equals the kernel RST but for the flow label', () => {
  const kernel = packet('eth-tcp6-rst-kernel.hex');
  const buf = new Uint8Array(60);
  const n = writeTcpRst(buf, 0, {
    family: 6, src: ip(A6), dst: ip(B6), tos: 0, ttl: 64, srcPort: 40011, dstPort: 8080, seq: 168496142,
  });
  assert.equal(n, 60);
  assert.deepEqual(buf.subarray(4), kernel.subarray(4));
  assert.deepEqual([...buf.subarray(0, 4)], [0x60, 0, 0, 0]);
  assert.equal((kernel[1]! & 0x0f) * 65536 + u16(kernel, 2), 0x17e7d);
});

void test('writeTcpRst: checksums for any seq and port, tos/ttl honoured, room checked', () => {
  const r = rng(99);
  const buf = new Uint8Array(60);
  for (let i = 0; i < 500; i++) {
    const family = i % 2 === 0 ? 4 : 6;
    const seq = r.int(0x100000000);
    const n = writeTcpRst(buf, 0, {
      family, src: ip(family === 4 ? A4 : A6), dst: ip(family === 4 ? B4 : B6), tos: 0x10, ttl: 7,
      srcPort: r.int(0x10000), dstPort: r.int(0x10000), seq,
    });
    const b = buf.subarray(0, n);
    assert.equal(l4Residue(b, 6), 0);
    assert.equal(u32(b, n - 16), seq);
    assert.deepEqual([b[n - 7], u16(b, n - 6)], [0x04, 0]);
    if (family === 4) assert.deepEqual([b[1], b[8], internetChecksum(b, 0, 20)], [0x10, 7, 0]);
    else assert.deepEqual([u16(b, 0), b[7]], [0x6100, 7]);
  }
  const o = { family: 4 as const, src: ip(A4), dst: ip(B4), tos: 0, ttl: 64, srcPort: 1, dstPort: 2, seq: 3 };
  assert.throws(() => writeTcpRst(new Uint8Array(39), 0, o), encodeError);
  assert.throws(() => writeTcpRst(new Uint8Array(60), 21, o), encodeError);
  assert.throws(() => writeTcpRst(new Uint8Array(59), 0, { ...o, family: 6, src: ip(A6), dst: ip(B6) }), encodeError);
  assert.throws(() => writeTcpRst(new Uint8Array(60), 0, { ...o, dst: ip(B6) }), encodeError);
  assert.equal(writeTcpRst(new Uint8Array(60), 20, o), 40);
});
