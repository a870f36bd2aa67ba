import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../../src/lib/errors.js';
import { parseIp } from '../../../src/lib/address.js';
import { internetChecksum } from '../../../src/packet/checksum.js';
import * as icmp from '../../../src/packet/icmp.js';
import { createEchoTemplate, type EchoTemplateOptions } from '../../../src/packet/icmp.js';
import { hex, loadHex, rng } from './fixtures.js';
import { l4Residue } from './l4-fixtures.js';

const ip = (s: string): Uint8Array => parseIp(s)!;
const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const encodeError = (e: unknown): boolean => isAppError(e, 'PKT_ERR_ENCODE');

const v4opts: EchoTemplateOptions = {
  family: 4, src: ip('0.0.0.0'), dst: ip('127.0.0.1'), tos: 0, ttl: 64, dontFragment: true,
  ipPayloadSize: 64,
};
const v6opts: EchoTemplateOptions = {
  family: 6, src: ip('2001:db8::1'), dst: ip('2001:db8::2'), tos: 0x28, ttl: 255,
  dontFragment: false, ipPayloadSize: 1232,
};

/** ICMP checksum verification: 0 when the message (with pseudo-header for v6) is intact. */
function icmpResidue(b: Uint8Array, family: 4 | 6): number {
  return family === 4 ? internetChecksum(b, 20, b.length) : l4Residue(b, 58);
}

void test('protocol and ICMP type constants', () => {
  assert.deepEqual(
    [icmp.ICMP4_ECHO_REQUEST, icmp.ICMP4_ECHO_REPLY, icmp.ICMP4_DEST_UNREACH, icmp.ICMP6_ECHO_REQUEST],
    [8, 0, 3, 128],
  );
  assert.deepEqual([icmp.ICMP6_ECHO_REPLY, icmp.ICMP6_DEST_UNREACH], [129, 1]);
  assert.deepEqual(
    [icmp.IPPROTO_ICMP, icmp.IPPROTO_ICMPV6, icmp.IPPROTO_TCP, icmp.IPPROTO_UDP],
    [1, 58, 6, 17],
  );
});

void test('IPv4 template: exact IP header, ICMP header and default data', () => {
  const t = createEchoTemplate(v4opts);
  assert.equal(t.length, 84);
  assert.equal(t.bytes.length, 84);
  const b = t.stamp(0x1234, 0x0001);
  assert.equal(b, t.bytes);
  assert.deepEqual(new Uint8Array(b.subarray(0, 20)), hex('4500 0054 0000 4000 4001 bba8 00000000 7f000001'));
  assert.equal(internetChecksum(b, 0, 20), 0);
  assert.deepEqual([...b.subarray(20, 28)], [8, 0, b[22], b[23], 0x12, 0x34, 0x00, 0x01]);
  for (let i = 0; i < 56; i++) assert.equal(b[28 + i], i);
  assert.equal(icmpResidue(b, 4), 0);
});

void test('IPv4 template: every sequence number gets a verifying checksum (a computed 0 stays 0)', () => {
  const t = createEchoTemplate({ ...v4opts, tos: 0xb8, ttl: 3, dontFragment: false, ipPayloadSize: 9 });
  assert.deepEqual([...t.bytes.subarray(0, 10)], [0x45, 0xb8, 0, 29, 0, 0, 0, 0, 3, 1]);
  const seen = new Set<number>();
  for (let seq = 0; seq <= 0xffff; seq++) {
    const b = t.stamp(0xbeef, seq);
    assert.equal(u16(b, 26), seq);
    if (icmpResidue(b, 4) !== 0) assert.fail(`seq ${seq}: checksum does not verify`);
    seen.add(u16(b, 22));
  }
  // Every checksum value but 0xffff occurs once: a computed 0 is sent as 0.
  assert.equal(seen.size, 0xffff);
  assert.ok(seen.has(0x0000) && !seen.has(0xffff));
  assert.equal(t.bytes[28], 0); // the odd-length data byte is untouched
});

void test('IPv6 template: exact header, pseudo-header checksum for many (id, seq)', () => {
  const t = createEchoTemplate(v6opts);
  assert.equal(t.length, 40 + 1232);
  assert.deepEqual(
    new Uint8Array(t.bytes.subarray(0, 40)),
    hex('6280 0000 04d0 3aff 20010db8000000000000000000000001 20010db8000000000000000000000002'),
  );
  const r = rng(128);
  for (let i = 0; i < 2000; i++) {
    const id = r.int(0x10000);
    const seq = i < 2 ? i * 0xffff : r.int(0x10000);
    const b = t.stamp(id, seq);
    assert.deepEqual([b[40], b[41], u16(b, 44), u16(b, 46)], [128, 0, id, seq]);
    assert.equal(icmpResidue(b, 6), 0, `id ${id} seq ${seq}`);
  }
  assert.equal(t.bytes[40 + 8 + 255], 255);
  assert.equal(t.bytes[40 + 8 + 256], 0);
});

void test('stamp masks id and seq to 16 bits', () => {
  const t = createEchoTemplate(v4opts);
  const b = t.stamp(0x10001, -1);
  assert.deepEqual([u16(b, 24), u16(b, 26)], [1, 0xffff]);
  assert.equal(icmpResidue(b, 4), 0);
});

void test('IPv4 template matches a real ping request (ICMP bytes identical)', () => {
  const real = loadHex('eth-icmp4-echo-request.hex').subarray(14);
  const t = createEchoTemplate({
    family: 4, src: ip('127.0.0.1'), dst: ip('127.0.0.1'), tos: 0, ttl: 64, dontFragment: true,
    ipPayloadSize: 64, data: real.subarray(28),
  });
  const b = t.stamp(0x12c4, 1);
  assert.equal(b.length, real.length);
  // type, code, checksum, id, seq as captured
  assert.deepEqual([b[20], b[21], u16(b, 22), u16(b, 24), u16(b, 26)], [8, 0, 0x51be, 0x12c4, 1]);
  assert.deepEqual(new Uint8Array(b.subarray(20)), real.subarray(20));
  // The IP header differs only in the id (the kernel's) and hence the header checksum.
  assert.deepEqual([...b.subarray(0, 4), ...b.subarray(6, 10), ...b.subarray(12, 20)], [
    ...real.subarray(0, 4), ...real.subarray(6, 10), ...real.subarray(12, 20),
  ]);
  assert.deepEqual([u16(b, 4), u16(real, 4)], [0, 0x320e]);
});

void test('IPv6 template matches a real ping6 request (ICMPv6 bytes identical)', () => {
  const real = loadHex('eth-icmp6-echo-request.hex').subarray(14);
  const t = createEchoTemplate({
    family: 6, src: ip('::1'), dst: ip('::1'), tos: 0, ttl: 64, dontFragment: false,
    ipPayloadSize: 64, data: real.subarray(48),
  });
  const b = t.stamp(0x12c5, 1);
  assert.deepEqual([b[40], b[41], u16(b, 42), u16(b, 44), u16(b, 46)], [128, 0, 0xe438, 0x12c5, 1]);
  assert.deepEqual(new Uint8Array(b.subarray(40)), real.subarray(40));
  assert.deepEqual(new Uint8Array(b.subarray(4, 40)), real.subarray(4, 40)); // all but the flow label
  assert.deepEqual([...b.subarray(0, 4)], [0x60, 0, 0, 0]);
});

void test('sizes: raised to the 8-byte header, limited to 65535', () => {
  assert.equal(createEchoTemplate({ ...v4opts, ipPayloadSize: 0 }).length, 28);
  assert.equal(createEchoTemplate({ ...v4opts, ipPayloadSize: 3 }).length, 28);
  assert.equal(createEchoTemplate({ ...v4opts, ipPayloadSize: -5 }).length, 28);
  assert.equal(createEchoTemplate({ ...v6opts, ipPayloadSize: 8 }).length, 48);
  const big4 = createEchoTemplate({ ...v4opts, ipPayloadSize: 65515 });
  assert.equal(big4.length, 65535);
  assert.equal(icmpResidue(big4.stamp(7, 7), 4), 0);
  const big6 = createEchoTemplate({ ...v6opts, ipPayloadSize: 65535 });
  assert.equal(big6.length, 65575);
  assert.equal(icmpResidue(big6.stamp(7, 7), 6), 0);
  assert.throws(() => createEchoTemplate({ ...v4opts, ipPayloadSize: 65516 }), encodeError);
  assert.throws(() => createEchoTemplate({ ...v6opts, ipPayloadSize: 65536 }), encodeError);
  assert.throws(() => createEchoTemplate({ ...v4opts, ipPayloadSize: Number.NaN }), encodeError);
});

void test('bad address lengths throw PKT_ERR_ENCODE', () => {
  assert.throws(() => createEchoTemplate({ ...v4opts, dst: ip('::1') }), encodeError);
  assert.throws(() => createEchoTemplate({ ...v4opts, src: new Uint8Array(0) }), encodeError);
  assert.throws(() => createEchoTemplate({ ...v6opts, src: ip('10.0.0.1') }), encodeError);
  assert.throws(() => createEchoTemplate({ ...v6opts, dst: new Uint8Array(15) }), encodeError);
});

void test('data pattern is repeated over the echo data; empty pattern means the default', () => {
  const t = createEchoTemplate({ ...v4opts, ipPayloadSize: 8 + 7, data: hex('aa bb cc') });
  assert.deepEqual([...t.bytes.subarray(28)], [0xaa, 0xbb, 0xcc, 0xaa, 0xbb, 0xcc, 0xaa]);
  assert.equal(icmpResidue(t.stamp(1, 2), 4), 0);
  const d = createEchoTemplate({ ...v4opts, ipPayloadSize: 8 + 300, data: new Uint8Array(0) });
  assert.deepEqual([d.bytes[28], d.bytes[28 + 255], d.bytes[28 + 256], d.bytes[28 + 299]], [0, 255, 0, 43]);
});
