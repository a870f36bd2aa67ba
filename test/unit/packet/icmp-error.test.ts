import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp } from '../../../src/lib/address.js';
import * as ie from '../../../src/packet/icmp-error.js';
import { decodeIcmpError, type QuotedProbe } from '../../../src/packet/icmp-error.js';
import { concat, loadHex, rng } from './fixtures.js';
import { A4, A6, B4, B6, L4_FIXTURES, R4, R6 } from './l4-fixtures.js';

const fresh = (): QuotedProbe => ({
  outerSrcOffset: -1, icmpType: -1, icmpCode: -1, quotedProtocol: -1, quotedSrcOffset: -1, quotedDstOffset: -1,
  srcPort: -1, dstPort: -1, echoId: -1, echoSeq: -1, tcpSeq: -1, quotedIpId: -1, udpChecksum: -1, mtu: -1,
});

function decode(f: Uint8Array, family: 4 | 6, end = f.length): QuotedProbe | false {
  const out = fresh();
  const ok = decodeIcmpError(f, 14, end, family, out);
  if (!ok) assert.deepEqual(out, fresh(), 'out must stay untouched');
  return ok ? out : false;
}

/** Expected result for an Ethernet frame with a 20-byte IPv4 or a bare IPv6 outer header. */
function q(
  family: 4 | 6, type: number, code: number, proto: number, sport: number, dport: number,
  seq: number, ipId: number, cs: number, mtu = 0,
): QuotedProbe {
  const v4 = family === 4;
  const quoted = v4 ? 42 : 62;
  return {
    outerSrcOffset: v4 ? 26 : 22, icmpType: type, icmpCode: code, quotedProtocol: proto,
    quotedSrcOffset: quoted + (v4 ? 12 : 8), quotedDstOffset: quoted + (v4 ? 16 : 24), srcPort: sport, dstPort: dport, echoId: 0, echoSeq: 0,
    tcpSeq: seq, quotedIpId: ipId, udpChecksum: cs, mtu,
  };
}

const EXPECTED: Record<string, QuotedProbe> = {
  'eth-icmp4-admin-tcp.hex': q(4, 3, 13, 6, 40013, 82, 0xdeadbeef, 0x0202, 0),
  'eth-icmp6-admin-tcp.hex': q(6, 1, 1, 6, 40014, 82, 0xfeedface, 0, 0),
  'eth-icmp4-port-unreach-udp.hex': q(4, 3, 3, 17, 33002, 33434, 0, 0x4242, 0x4242),
  'eth-icmp6-port-unreach-udp.hex': q(6, 1, 4, 17, 33003, 33434, 0, 0, 0xbeef),
  'eth-icmp6-port-unreach-tag0.hex': q(6, 1, 4, 17, 33004, 33434, 0, 0, 0xffff),
  'eth-icmp4-time-exceeded-udp.hex': q(4, 11, 0, 17, 33006, 33434, 0, 0x0606, 0x0606),
  'eth-icmp6-time-exceeded-udp.hex': q(6, 3, 0, 17, 33007, 33434, 0, 0, 0x0707),
  'eth-icmp4-port-unreach-hping.hex': q(4, 3, 3, 17, 33001, 33434, 0, 119, 0xb364),
  'eth-icmp6-port-unreach-kernel.hex': q(6, 1, 4, 17, 33005, 33434, 0, 0, 0x7228),
  'eth-icmp4-port-unreach.hex': q(4, 3, 3, 17, 34917, 33434, 0, 0x4e33, 0xfe24),
};
const fam = (name: string): 4 | 6 => (name.includes('icmp6') ? 6 : 4);

void test('type and code constants', () => {
  assert.deepEqual(
    [ie.ICMP4_TIME_EXCEEDED, ie.ICMP4_CODE_PORT_UNREACH, ie.ICMP4_CODE_FRAG_NEEDED, ie.ICMP4_CODE_ADMIN_PROHIBITED],
    [11, 3, 4, 13],
  );
  assert.deepEqual(
    [ie.ICMP6_PACKET_TOO_BIG, ie.ICMP6_TIME_EXCEEDED, ie.ICMP6_CODE_ADMIN_PROHIBITED, ie.ICMP6_CODE_PORT_UNREACH],
    [2, 3, 1, 4],
  );
});

void test('decodeIcmpError on every captured error: exact fields, addresses at the offsets', () => {
  for (const [name, want] of Object.entries(EXPECTED)) {
    const f = loadHex(name);
    const got = decode(f, fam(name));
    assert.deepEqual(got, want, name);
    const len = fam(name) === 4 ? 4 : 16;
    const origin = formatIp(f, want.outerSrcOffset, len);
    assert.equal(formatIp(f, want.quotedDstOffset, len), name.endsWith('unreach.hex') ? '127.0.0.1' : fam(name) === 4 ? B4 : B6);
    assert.equal(formatIp(f, want.quotedSrcOffset, len), name.endsWith('unreach.hex') ? '127.0.0.1' : fam(name) === 4 ? A4 : A6);
    const router = name.includes('admin') || name.includes('time-exceeded');
    if (!name.endsWith('unreach.hex')) assert.equal(origin, router ? (fam(name) === 4 ? R4 : R6) : (fam(name) === 4 ? B4 : B6));
    assert.equal(decode(f, fam(name) === 4 ? 6 : 4), false, `${name} with the wrong family`);
  }
});

void test('no other fixture is an ICMP error quoting TCP/UDP', () => {
  for (const name of L4_FIXTURES.filter((n) => !(n in EXPECTED))) {
    assert.equal(decode(loadHex(name), 4), false, name);
    assert.equal(decode(loadHex(name), 6), false, name);
  }
  assert.equal(decode(loadHex('eth-icmp4-echo-reply.hex'), 4), false);
  assert.equal(decode(loadHex('eth-icmp6-echo-request.hex'), 6), false);
});

void test('exactly 8 quoted transport bytes are needed, within the capture and the outer IP length', () => {
  for (const [name, need] of [['eth-icmp4-admin-tcp.hex', 14 + 20 + 8 + 20 + 8], ['eth-icmp6-port-unreach-udp.hex', 14 + 40 + 8 + 40 + 8]] as const) {
    const f = loadHex(name);
    const family = fam(name);
    for (let end = 0; end < need; end++) assert.equal(decode(f, family, end), false, `${name} end ${end}`);
    assert.ok(decode(f, family, need));
    assert.ok(decode(f.slice(0, need), family));
    const short = f.slice();
    if (family === 4) short[17] = need - 14 - 1; // total length one byte short
    else short[19] = need - 14 - 40 - 1; // payload length one byte short
    assert.equal(decode(short, family), false);
  }
  const f = loadHex('eth-icmp4-admin-tcp.hex');
  const out = fresh();
  assert.equal(decodeIcmpError(f, -1, f.length, 4, out), false);
  assert.equal(decodeIcmpError(f, 14, f.length + 50, 4, out), true); // end is clamped to the buffer
  assert.equal(decodeIcmpError(f, 14, f.length, 5 as 4, fresh()), false);
});

void test('fragmentation needed and packet too big carry the MTU', () => {
  const f4 = loadHex('eth-icmp4-port-unreach-udp.hex');
  f4[35] = 4; // code: fragmentation needed
  f4[40] = 0x05;
  f4[41] = 0x78; // next-hop MTU 1400
  assert.deepEqual(decode(f4, 4), { ...EXPECTED['eth-icmp4-port-unreach-udp.hex']!, icmpCode: 4, mtu: 1400 });
  const f6 = loadHex('eth-icmp6-admin-tcp.hex');
  f6[54] = 2;
  f6[55] = 0;
  f6.set([0, 1, 0, 0], 58); // MTU 65536
  assert.deepEqual(decode(f6, 6), { ...EXPECTED['eth-icmp6-admin-tcp.hex']!, icmpType: 2, icmpCode: 0, mtu: 65536 });
  f6[54] = 1; // the same bytes in a destination unreachable are not an MTU
  assert.equal((decode(f6, 6) as QuotedProbe).mtu, 0);
});

void test('other ICMP types, quoted protocols and fragments are refused', () => {
  const f4 = loadHex('eth-icmp4-admin-tcp.hex');
  for (const type of [0, 4, 5, 8, 12, 30]) {
    const t = f4.slice();
    t[34] = type;
    assert.equal(decode(t, 4), false, `ICMPv4 type ${type}`);
  }
  const f6 = loadHex('eth-icmp6-admin-tcp.hex');
  for (const type of [0, 4, 128, 129, 135]) {
    const t = f6.slice();
    t[54] = type;
    assert.equal(decode(t, 6), false, `ICMPv6 type ${type}`);
  }
  for (const [f, at, family] of [[f4, 51, 4], [f6, 68, 6]] as const) {
    for (const proto of [1, 58, 132]) {
      const t = f.slice();
      t[at] = proto;
      assert.equal(decode(t, family), false, `quoted protocol ${proto}`);
    }
  }
  const quotedFrag = f4.slice();
  quotedFrag[49] = 0x01; // quoted fragment offset 8
  assert.equal(decode(quotedFrag, 4), false);
  const outerFrag = f4.slice();
  outerFrag[21] = 0x01;
  assert.equal(decode(outerFrag, 4), false);
  const notIcmp = f4.slice();
  notIcmp[23] = 17;
  assert.equal(decode(notIcmp, 4), false);
  const badQuote = f4.slice();
  badQuote[42] = 0x44; // quoted IHL 4
  assert.equal(decode(badQuote, 4), false);
});

void test('IPv4 options, outer and quoted, and IPv6 extension headers, outer and quoted', () => {
  const f4 = loadHex('eth-icmp4-port-unreach-udp.hex');
  // 4 option bytes in the quoted header: IHL 6.
  const quotedOpts = concat(f4.subarray(0, 62), [1, 1, 1, 0], f4.subarray(62));
  quotedOpts[42] = 0x46;
  quotedOpts[17] = f4[17]! + 4;
  const want = EXPECTED['eth-icmp4-port-unreach-udp.hex']!;
  assert.deepEqual(decode(quotedOpts, 4), want);
  const outerOpts = concat(f4.subarray(0, 34), [1, 1, 1, 0], f4.subarray(34));
  outerOpts[14] = 0x46;
  outerOpts[17] = f4[17]! + 4;
  const shifted = (o: QuotedProbe): QuotedProbe => ({
    ...o, quotedSrcOffset: o.quotedSrcOffset + 4, quotedDstOffset: o.quotedDstOffset + 4,
  });
  assert.deepEqual(decode(outerOpts, 4), shifted(want));

  const hbh = (next: number): number[] => [next, 0, 1, 4, 0, 0, 0, 0];
  const f6 = loadHex('eth-icmp6-time-exceeded-udp.hex');
  const want6 = EXPECTED['eth-icmp6-time-exceeded-udp.hex']!;
  const outer = concat(f6.subarray(0, 54), hbh(58), f6.subarray(54));
  outer[20] = 0;
  outer[19] = f6[19]! + 8;
  const moved = { ...want6, quotedSrcOffset: want6.quotedSrcOffset + 8, quotedDstOffset: want6.quotedDstOffset + 8 };
  assert.deepEqual(decode(outer, 6), moved);
  const quoted = concat(f6.subarray(0, 102), hbh(17), f6.subarray(102));
  quoted[68] = 0;
  quoted[19] = f6[19]! + 8;
  assert.deepEqual(decode(quoted, 6), want6);
  assert.equal(decode(quoted, 6, 102 + 8 + 7), false);
  const frag = concat(f6.subarray(0, 102), [17, 0, 0, 8, 0, 0, 0, 1], f6.subarray(102)); // offset 1 * 8
  frag[68] = 44;
  frag[19] = f6[19]! + 8;
  assert.equal(decode(frag, 6), false);
});

void test(`decodeIcmpError: 20000 mutated errors, no throw, nothing read past end`, () => {
  const bases = Object.keys(EXPECTED).map((n) => ({ f: loadHex(n), family: fam(n) }));
  const r = rng(0x1c3e);
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const { f, family } = bases[r.int(bases.length)]!;
    const b = f.slice(0, r.next() < 0.5 ? f.length : r.int(f.length + 1));
    for (let n = r.int(4); n > 0 && b.length > 0; n--) b[r.int(b.length)] = r.int(256);
    const out = fresh();
    const ok = decodeIcmpError(b, 14, b.length, family, out);
    const big = concat(r.bytes(3), b, r.bytes(40));
    const out2 = fresh();
    assert.equal(decodeIcmpError(big, 17, 3 + b.length, family, out2), ok);
    if (ok) {
      accepted++;
      const shift = (o: QuotedProbe): number[] => [o.outerSrcOffset - 3, o.quotedSrcOffset - 3, o.quotedDstOffset - 3];
      assert.deepEqual(shift(out2), [out.outerSrcOffset, out.quotedSrcOffset, out.quotedDstOffset]);
      assert.deepEqual({ ...out2, outerSrcOffset: 0, quotedSrcOffset: 0, quotedDstOffset: 0 },
        { ...out, outerSrcOffset: 0, quotedSrcOffset: 0, quotedDstOffset: 0 });
      assert.ok(out.quotedDstOffset + (family === 4 ? 4 : 16) <= b.length);
      assert.ok(out.quotedProtocol === 6 || out.quotedProtocol === 17);
    }
  }
  assert.ok(accepted > 2000, `only ${accepted} accepted`);
});
