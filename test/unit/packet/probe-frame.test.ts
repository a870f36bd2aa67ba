import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addrHash, parseIp } from '../../../src/lib/address.js';
import {
  decodeProbeFrame,
  frameKind,
  FrameRole,
  type DecodedFrame,
} from '../../../src/packet/probe-frame.js';
import { CODECS, FrameKind } from './kinds.js';
import { concat, fixtureLinkType, frameFixtureNames, loadHex } from './fixtures.js';
import { checkOrigin, L4_EXPECTED, LEGACY_PORT_UNREACH } from './l4-fixtures.js';

const hashOf = (s: string): number => addrHash(parseIp(s)!, 0, parseIp(s)!.length);
const LOCAL4 = hashOf('127.0.0.1');
const LOCAL6 = hashOf('::1');
const { NONE, ECHO_REQUEST: REQ, ECHO_REPLY: REP } = FrameKind;

const fresh = (): DecodedFrame => ({
  kind: 99, family: 4, id: -1, seq: -1, peerHash: -1, k1: -1, k2: -1, aux: -1, proto: -1, originHash: -1, originOffset: -1,
});
/** The full DecodedFrame of an echo frame. */
const echo = (kind: number, family: 4 | 6, id: number, seq: number, peerHash: number): DecodedFrame => ({
  kind, family, id, seq, peerHash, k1: 0, k2: 0, aux: 0, proto: family === 4 ? 1 : 58, originHash: peerHash, originOffset: 0,
});

function decode(f: Uint8Array, linkType: number): DecodedFrame | false {
  const out = fresh();
  const ok = decodeProbeFrame(f, 0, f.length, linkType, CODECS, out);
  assert.equal(ok, out.kind !== NONE);
  return ok ? checkOrigin(f, out) : false;
}

void test('frame kinds: type number << 2 | role, NONE is 0', () => {
  assert.deepEqual(FrameRole, { NONE: 0, REQUEST: 1, REPLY: 2, ERROR: 3 });
  assert.deepEqual([frameKind(0, FrameRole.REQUEST), frameKind(1, FrameRole.REPLY), frameKind(2, FrameRole.ERROR)], [1, 6, 11]);
  assert.equal(new Set(Object.values(FrameKind)).size, Object.keys(FrameKind).length, 'distinct kinds');
});

void test('decodeProbeFrame on every fixture: exact fields or false', () => {
  const e = (kind: number, family: 4 | 6, id: number): DecodedFrame =>
    echo(kind, family, id, 1, family === 4 ? LOCAL4 : LOCAL6);
  const expected: Record<string, DecodedFrame | false> = {
    'eth-icmp4-echo-request.hex': e(REQ, 4, 4804),
    'eth-icmp4-echo-reply.hex': e(REP, 4, 4804),
    'eth-icmp6-echo-request.hex': e(REQ, 6, 4805),
    'eth-icmp6-echo-reply.hex': e(REP, 6, 4805),
    'sll-icmp4-echo-request.hex': e(REQ, 4, 4846),
    'sll-icmp6-echo-reply.hex': e(REP, 6, 4847),
    'sll2-icmp4-echo-reply.hex': e(REP, 4, 4856),
    'sll2-icmp6-echo-request.hex': e(REQ, 6, 4857),
    'eth-icmp4-frag-first.hex': e(REQ, 4, 4907),
    'eth-icmp4-frag-second.hex': false,
    'eth-icmp6-frag-first.hex': e(REQ, 6, 4908),
    'eth-icmp6-frag-second.hex': false,
    'eth-icmp6-hbh-frag-first.hex': e(REQ, 6, 4908),
    'eth-icmp6-hbh-frag-second.hex': false,
    'eth-icmp4-port-unreach.hex': LEGACY_PORT_UNREACH,
    'raw-icmp4-echo-request.hex': e(REQ, 4, 4804),
    'raw-icmp6-echo-reply.hex': e(REP, 6, 4805),
    'null-icmp6-echo-request.hex': e(REQ, 6, 4805),
    'loop-icmp4-echo-reply.hex': e(REP, 4, 4804),
    'eth-vlan-icmp4-echo-reply.hex': e(REP, 4, 4804),
    'eth-qinq-icmp6-echo-request.hex': e(REQ, 6, 4805),
    'eth-ipv4-truncated-header.hex': false,
    'eth-ipv4-ihl4.hex': false,
    'eth-icmp4-truncated.hex': false,
    ...L4_EXPECTED,
  };
  const names = frameFixtureNames();
  assert.deepEqual(names, Object.keys(expected).sort());
  for (const name of names) {
    assert.deepEqual(decode(loadHex(name), fixtureLinkType(name)), expected[name], name);
  }
});

void test('peerHash is the destination of a request and the source of a reply', () => {
  for (const [name, srcAt, dstAt, src, dst] of [
    ['eth-icmp4-echo-request.hex', 26, 30, '192.0.2.1', '198.51.100.7'],
    ['eth-icmp4-echo-reply.hex', 26, 30, '198.51.100.7', '192.0.2.1'],
    ['eth-icmp6-echo-request.hex', 22, 38, '2001:db8::1', '2001:db8::ff'],
    ['eth-icmp6-echo-reply.hex', 22, 38, '2001:db8::ff', '2001:db8::1'],
  ] as const) {
    const f = loadHex(name);
    f.set(parseIp(src)!, srcAt);
    f.set(parseIp(dst)!, dstAt);
    const d = decode(f, 1);
    assert.ok(d, name);
    const peer = d.kind === REQ ? dst : src;
    assert.equal(peer, name.includes('4') ? '198.51.100.7' : '2001:db8::ff');
    assert.equal(d.peerHash, hashOf(peer), name);
  }
});

void test('exactly the 8-byte ICMP header is needed, within both the capture and the IP length', () => {
  const f = loadHex('eth-icmp4-echo-request.hex');
  const out = fresh();
  assert.equal(decodeProbeFrame(f, 0, 14 + 20 + 8, 1, CODECS, out), true);
  assert.deepEqual([out.id, out.seq], [4804, 1]);
  assert.equal(decodeProbeFrame(f, 0, 14 + 20 + 7, 1, CODECS, out), false);
  assert.equal(out.kind, NONE); // reset after an earlier success
  const shortIp = f.slice();
  shortIp[17] = 27; // total length 27: only 7 ICMP bytes belong to the packet
  assert.equal(decode(shortIp, 1), false);
  shortIp[17] = 28;
  assert.ok(decode(shortIp, 1));

  const f6 = loadHex('eth-icmp6-echo-request.hex');
  assert.equal(decodeProbeFrame(f6, 0, 14 + 40 + 8, 1, CODECS, out), true);
  assert.equal(decodeProbeFrame(f6, 0, 14 + 40 + 7, 1, CODECS, out), false);
  const short6 = f6.slice();
  short6[19] = 7; // payload length 7
  assert.equal(decode(short6, 1), false);
});

void test('a frame inside a larger buffer: offset honoured, nothing read past len', () => {
  const f = loadHex('sll2-icmp6-echo-request.hex');
  const big = concat(new Uint8Array(5).fill(0xaa), f, new Uint8Array(16).fill(0xbb));
  const out = fresh();
  assert.equal(decodeProbeFrame(big, 5, f.length, 276, CODECS, out), true);
  assert.equal(out.originOffset, 5 + 20 + 24, "the request's destination, counted from the buffer start");
  assert.deepEqual(checkOrigin(big, out), echo(REQ, 6, 4857, 1, LOCAL6));
  // Cut one byte short of the ICMP header while the real bytes still follow in the buffer.
  assert.equal(decodeProbeFrame(big, 5, 20 + 40 + 7, 276, CODECS, out), false);
  assert.equal(decodeProbeFrame(big, 5, 0, 276, CODECS, out), false);
  assert.equal(decodeProbeFrame(big, big.length, 100, 276, CODECS, out), false);
  assert.equal(decodeProbeFrame(big, -3, 100, 276, CODECS, out), false);
  // Buffers work like plain Uint8Arrays.
  assert.equal(decodeProbeFrame(Buffer.from(big), 5, f.length, 276, CODECS, out), true);
});

void test('IPv4 header options are skipped', () => {
  const f = loadHex('eth-icmp4-echo-reply.hex');
  const opts = concat(f.subarray(0, 34), [1, 1, 1, 1], f.subarray(34));
  opts[14] = 0x46;
  opts[17] = 88;
  const d = decode(opts, 1);
  assert.deepEqual(d, echo(REP, 4, 4804, 1, LOCAL4));
});

void test('other protocols and ICMP types are not echo frames', () => {
  const f4 = loadHex('eth-icmp4-echo-request.hex');
  const udp = f4.slice();
  udp[23] = 17; // the echo header read as a UDP header (length field 4804)
  assert.equal((decode(udp, 1) as DecodedFrame).kind, FrameKind.UDP_PROBE);
  for (const type of [3, 11, 13, 128, 129]) {
    const t = f4.slice();
    t[34] = type;
    assert.equal(decode(t, 1), false, `ICMPv4 type ${type}`);
  }
  const f6 = loadHex('eth-icmp6-echo-request.hex');
  for (const type of [1, 3, 8, 0, 135]) {
    const t = f6.slice();
    t[54] = type;
    assert.equal(decode(t, 1), false, `ICMPv6 type ${type}`);
  }
  const tcp6 = f6.slice();
  tcp6[20] = 6;
  assert.equal(decode(tcp6, 1), false);
  const icmp4in6 = f6.slice();
  icmp4in6[20] = 1; // ICMPv4 inside IPv6 is not ICMPv6
  assert.equal(decode(icmp4in6, 1), false);
  // An IPv4 first fragment is fine, a later one is not, whatever the MF flag says.
  const frag = f4.slice();
  frag[20] = 0x20; // MF, offset 0
  assert.ok(decode(frag, 1));
  frag[20] = 0x00;
  frag[21] = 0x01; // offset 8 bytes
  assert.equal(decode(frag, 1), false);
});
